package forward

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/backoff"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// keeper renews the claims of a batch of deliveries every third of Stale
// while they are attempted (HTTP requests and backoff waits alike), so that
// no other instance takes over a delivery this one is still working on. It
// remembers the ids the store says this consumer no longer holds.
type keeper struct {
	mu      sync.Mutex
	held    []string
	gone    map[string]bool
	cancel  context.CancelFunc
	stopped chan struct{}
}

// keep starts renewing the claims on ids until stop is called or ctx ends.
func (f *Forwarder) keep(ctx context.Context, ids []string) *keeper {
	ctx, cancel := context.WithCancel(ctx)
	k := &keeper{held: slices.Clone(ids), gone: map[string]bool{}, cancel: cancel, stopped: make(chan struct{})}
	go k.run(ctx, f, max(f.opts.Stale/3, time.Millisecond))
	return k
}

func (k *keeper) run(ctx context.Context, f *Forwarder, every time.Duration) {
	defer close(k.stopped)
	o := &f.opts
	backoff.Every(ctx, every, func() bool {
		k.mu.Lock()
		ids := slices.Clone(k.held)
		k.mu.Unlock()
		if len(ids) == 0 {
			return true
		}
		err := o.Queue.Extend(ctx, o.Stream, o.Group, o.Consumer, ids...)
		var nc *store.NotClaimedError
		switch {
		case err == nil, ctx.Err() != nil:
		case errors.As(err, &nc):
			k.mu.Lock()
			for _, id := range nc.IDs {
				k.gone[id] = true
			}
			k.held = slices.DeleteFunc(k.held, func(id string) bool { return k.gone[id] })
			k.mu.Unlock()
			f.log.Warn("forward: deliveries claimed by this instance were taken over or removed",
				zap.Int("count", len(nc.IDs)))
		default:
			// Tried again at the next tick; the claims hold until Stale.
			f.log.Warn("forward: cannot renew the claim on deliveries in the store", zap.Error(err))
		}
		return true
	})
}

// lost reports whether the claim on id has gone to another consumer (or
// the message was removed).
func (k *keeper) lost(id string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.gone[id]
}

// release stops renewing id's claim (its delivery is finished).
func (k *keeper) release(id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.held = slices.DeleteFunc(k.held, func(h string) bool { return h == id })
}

// stop ends the renewals and waits for them.
func (k *keeper) stop() {
	k.cancel()
	<-k.stopped
}

// newBackoff returns the waits between attempts: from MinBackoff doubling
// up to MaxBackoff, each with ±20% jitter and never above MaxBackoff.
func (f *Forwarder) newBackoff() *backoff.Backoff {
	return &backoff.Backoff{Min: f.opts.MinBackoff, Max: f.opts.MaxBackoff, Jitter: jitter}
}
