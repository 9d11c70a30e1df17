package lock_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/lock"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Two instances (two Flights on one store), each with many callers, run
// the function one at a time, and callers in one process share a call.
func TestFlightOnceAcrossInstances(t *testing.T) {
	forEachStore(t, func(t *testing.T, st store.Store, key string) {
		a := &lock.Flight{Store: st, Prefix: "lock:"}
		b := &lock.Flight{Store: st, Prefix: "lock:"}
		var inside, calls atomic.Int32
		release := make(chan struct{})
		fn := func(ctx context.Context) (int, error) {
			if n := inside.Add(1); n != 1 {
				t.Errorf("%d calls at once", n)
			}
			defer inside.Add(-1)
			<-release
			return int(calls.Add(1)), nil
		}
		var wg sync.WaitGroup
		results := make(chan int, 20)
		for i := range 20 {
			f := a
			if i%2 == 1 {
				f = b
			}
			wg.Go(func() {
				v, err := lock.Do(t.Context(), f, key, 10*time.Second, fn)
				if err != nil {
					t.Errorf("Do: %v", err)
				}
				results <- v
			})
		}
		time.Sleep(50 * time.Millisecond) // let the callers pile up
		close(release)
		wg.Wait()
		close(results)
		if n := calls.Load(); n < 1 || n > 20 {
			t.Fatalf("%d calls", n)
		}
		for v := range results {
			if v < 1 {
				t.Errorf("a caller got %d", v)
			}
		}
	})
}

// A caller that goes away does not cancel the call others share.
func TestFlightDetachedFromCaller(t *testing.T) {
	forEachStore(t, func(t *testing.T, st store.Store, key string) {
		f := &lock.Flight{Store: st, Prefix: "lock:"}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		v, err := lock.Do(ctx, f, key, 5*time.Second, func(ctx context.Context) (string, error) {
			return "done", ctx.Err()
		})
		if err != nil || v != "done" {
			t.Fatalf("Do with a cancelled caller = %q, %v", v, err)
		}
	})
}

// While another instance holds the lock past the budget, fn never runs
// and the error says why.
func TestFlightLockBusy(t *testing.T) {
	forEachStore(t, func(t *testing.T, st store.Store, key string) {
		held := mustAcquire(t, st, "lock:"+key, lease)
		defer held.Release(t.Context())
		f := &lock.Flight{Store: st, Prefix: "lock:"}
		ran := false
		_, err := lock.Do(t.Context(), f, key, 200*time.Millisecond, func(ctx context.Context) (int, error) {
			ran = true
			return 1, nil
		})
		if ran || !errors.Is(err, lock.ErrNoLock) || !errors.Is(err, lock.ErrNotAcquired) {
			t.Fatalf("Do while locked: ran=%v err=%v, want ErrNoLock and ErrNotAcquired", ran, err)
		}
		// The key may be a session id: it must not reach the logs.
		if strings.Contains(err.Error(), key) {
			t.Errorf("the error names the key: %v", err)
		}
	})
}
