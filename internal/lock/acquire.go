package lock

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/backoff"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// DefaultRetryInterval is how long Acquire waits, on average, between
// attempts while the lock is held by someone else (25ms).
const DefaultRetryInterval = 25 * time.Millisecond

// MinTTL is the shortest lease Acquire accepts (1ms, the resolution of
// Redis's PEXPIRE).
const MinTTL = time.Millisecond

// abandonTimeout bounds Acquire's attempt to delete a key it may have set
// in a SetNX whose answer it did not get.
const abandonTimeout = 250 * time.Millisecond

// Options tunes Acquire. The zero value gives the defaults.
type Options struct {
	// RetryInterval is the average wait between attempts while the lock is
	// held elsewhere; each wait is drawn from [RetryInterval/2,
	// 3*RetryInterval/2) so that waiters spread out. Default
	// DefaultRetryInterval (25ms).
	RetryInterval time.Duration
}

// Acquire takes the lock named key in st with the default Options: see
// Options.Acquire.
func Acquire(ctx context.Context, st store.Store, key string, ttl time.Duration) (*Lock, error) {
	return Options{}.Acquire(ctx, st, key, ttl)
}

// Acquire takes the lock named key in st: SetNX(key, random token, ttl). If
// it is held by someone else it retries every o.RetryInterval (jittered)
// until it gets it or ctx ends, then returning an error that wraps both
// ErrNotAcquired and ctx.Err(). A store error ends it at once, wrapped. ttl
// is the lease and must be at least MinTTL.
//
// While the lock is held, a goroutine renews the lease every ttl/3 with
// CompareAndExpire, so a holder running longer than ttl keeps it; see Lost
// for when it does not. The renewals use ctx's values but not its
// cancellation: the lock is held until Release, whatever happens to ctx.
func (o Options) Acquire(ctx context.Context, st store.Store, key string, ttl time.Duration) (*Lock, error) {
	if ttl < MinTTL {
		return nil, fmt.Errorf("lock: acquire: ttl must be at least %v, got %v", MinTTL, ttl)
	}
	retry := o.RetryInterval
	if retry <= 0 {
		retry = DefaultRetryInterval
	}
	token := []byte(crand.Text())
	var wait *time.Timer
	for {
		sent := time.Now()
		ok, err := st.SetNX(ctx, key, token, ttl)
		if err != nil {
			// The key may have been set all the same.
			abandon(ctx, st, key, token)
			if ctxErr(ctx) != nil {
				return nil, notAcquired(ctx)
			}
			return nil, fmt.Errorf("lock: acquire: %w", err)
		}
		if ok {
			return hold(ctx, st, key, token, ttl, sent), nil
		}
		d := backoff.Spread(retry, 0.5) // [retry/2, 3retry/2)
		if wait == nil {
			wait = time.NewTimer(d)
			defer wait.Stop()
		} else {
			wait.Reset(d)
		}
		select {
		case <-ctx.Done():
			return nil, notAcquired(ctx)
		case <-wait.C:
		}
	}
}

// hold returns the Lock for a key set at sent and starts its renewal.
func hold(ctx context.Context, st store.Store, key string, token []byte, ttl time.Duration, sent time.Time) *Lock {
	renewCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	l := &Lock{
		st:          st,
		key:         key,
		token:       token,
		ttl:         ttl,
		stopRenewal: stop,
		renewalDone: make(chan struct{}),
		lost:        make(chan struct{}),
	}
	go l.renew(renewCtx, sent)
	return l
}

// abandon deletes key if it holds token, best effort, after a SetNX whose
// outcome is unknown, so that the lock is not left held by nobody until its
// lease runs out.
func abandon(ctx context.Context, st store.Store, key string, token []byte) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abandonTimeout)
	defer cancel()
	_, _ = st.CompareAndDelete(ctx, key, token)
}

// notAcquired is Acquire's error once ctx has ended.
func notAcquired(ctx context.Context) error {
	return fmt.Errorf("%w: %w", ErrNotAcquired, ctxErr(ctx))
}

// ctxErr is ctx.Err(), or context.DeadlineExceeded if ctx's deadline has
// passed but its timer has not fired yet: a store call may see the deadline
// first, through its connection's, and fail with an I/O timeout.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}
