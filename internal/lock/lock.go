// Package lock is a distributed mutual-exclusion lock kept in a
// store.Store, so that Gatehouse instances sharing a Redis can agree on who
// does a piece of work.
//
// A lock is a key holding a random token with a time to live (the lease).
// Acquire sets it only if it is missing; while the lock is held a goroutine
// renews the lease, so the holder may run longer than the lease; Release
// deletes the key only if it still holds the holder's token. If a holder
// stalls (or loses the store) for longer than the lease, the key expires and
// another may take the lock: Lost tells the old holder, which should stop
// working on what the lock protects.
package lock

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// ErrNotAcquired is returned by Acquire when its context ends before the
// lock is free. The error also wraps the context's error.
var ErrNotAcquired = errors.New("lock: not acquired")

// ErrLost is returned by Release when the key no longer held the holder's
// token: the lease had run out (and another may have taken the lock) or the
// key was deleted or overwritten.
var ErrLost = errors.New("lock: lost before release")

// Lock is a held lock; Release it when done. Its methods are safe for
// concurrent use.
type Lock struct {
	st    store.Store
	key   string
	token []byte
	ttl   time.Duration

	stopRenewal context.CancelFunc
	renewalDone chan struct{} // closed when the renewal goroutine has returned
	lost        chan struct{}
	loseOnce    sync.Once

	mu       sync.Mutex // serialises Release
	released bool       // a Release reached the store and got an answer
}

// Lost returns a channel that is closed when the lock is found lost: a
// renewal found the key gone or holding another token, renewals failed for
// so long that the lease may run out before the next attempt, or Release
// returned ErrLost. A successful Release does not close it.
func (l *Lock) Lost() <-chan struct{} { return l.lost }

// Release stops renewal and deletes the key only if it still holds this
// lock's token (store.Store.CompareAndDelete), so it never deletes a lock
// another holder took after this one's lease ran out; in that case it
// returns ErrLost. Pass a live context (context.WithoutCancel of a request's
// context, say): if ctx has ended, Release fails and the key stays until its
// lease runs out.
//
// Release is safe to call twice: once one call has had the store's answer,
// later calls return nil. A call that failed with a store error may be
// retried; renewal stays stopped either way.
func (l *Lock) Release(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return nil
	}
	l.stopRenewal()
	<-l.renewalDone
	ok, err := l.st.CompareAndDelete(ctx, l.key, l.token)
	if err != nil {
		return fmt.Errorf("lock: release: %w", err)
	}
	l.released = true
	if !ok {
		l.lose()
		return ErrLost
	}
	return nil
}

// lose closes the Lost channel, once.
func (l *Lock) lose() { l.loseOnce.Do(func() { close(l.lost) }) }
