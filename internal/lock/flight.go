package lock

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Flight runs a function once at a time per key across every instance
// that shares the store: callers in this process share one call
// (singleflight), and that call first takes the store lock Prefix+key, so
// another instance's call waits for it. It is how every token refresh in
// Gatehouse happens (sessions, GitHub App user tokens, linked accounts),
// where a refresh token works only once: fn must read the record again
// under the lock and return it as it is when someone else refreshed it
// meanwhile.
type Flight struct {
	// Store holds the locks.
	Store store.Store
	// Prefix is put before each key to name its lock, e.g.
	// "gatehouse:lock:refresh:".
	Prefix string

	group singleflight.Group
}

// ErrNoLock is wrapped by the error of a Do whose lock could not be taken
// (held past the budget, or the store failed).
var ErrNoLock = errors.New("lock: cannot take the lock")

// flightLease is the lock's lease; it is renewed while fn runs.
const flightLease = 10 * time.Second

// Do runs fn for key once at a time across instances, with at most
// budget for the lock wait and fn together. The call is detached from
// ctx's cancellation (its values are kept): callers that share it must
// not fail because the first one went away. When the lock cannot be taken
// fn is not run and the error wraps ErrNoLock and the cause.
func Do[T any](ctx context.Context, f *Flight, key string, budget time.Duration, fn func(ctx context.Context) (T, error)) (T, error) {
	v, err, _ := f.group.Do(key, func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), budget)
		defer cancel()
		l, err := Acquire(ctx, f.Store, f.Prefix+key, flightLease)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNoLock, err) // the key may name a session: not in logs
		}
		defer l.Release(context.WithoutCancel(ctx))
		return fn(ctx)
	})
	t, _ := v.(T)
	return t, err
}
