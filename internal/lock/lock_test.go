package lock_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/lock"
	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/store/storetest"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// keySeq tells apart the keys of runs of one test (go test -count).
var keySeq atomic.Int64

// lease is the lease of the tests that watch renewals at work. It is long
// enough that a busy machine's scheduling delays (goroutines starved for
// tens of milliseconds under -race on two loaded cores) never outlast a
// renewal interval (lease/3), so the tests see renewal, not the scheduler.
const lease = 1500 * time.Millisecond

// forEachStore runs fn as a parallel subtest against a memory store and
// against redistest.Shared, with a key of the subtest's own.
func forEachStore(t *testing.T, fn func(t *testing.T, st store.Store, key string)) {
	t.Helper()
	backends := []struct {
		name string
		open func(t *testing.T) store.Store
	}{
		{"memory", func(t *testing.T) store.Store { return storetest.NewMemory(t) }},
		{"redis", func(t *testing.T) store.Store { return storetest.OpenRedis(t, redistest.Shared.Addr) }},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, b.open(t), fmt.Sprintf("lock:%s#%d", t.Name(), keySeq.Add(1)))
		})
	}
}

// mustAcquire acquires key with a bounded wait, failing t if it cannot.
func mustAcquire(t *testing.T, st store.Store, key string, ttl time.Duration) *lock.Lock {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	l, err := lock.Acquire(ctx, st, key, ttl)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	return l
}

// mustRelease releases l, failing the test with what if that fails.
func mustRelease(t *testing.T, l *lock.Lock, what string) {
	t.Helper()
	if err := l.Release(t.Context()); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantNotAcquired fails t unless key stays taken for wait.
func wantNotAcquired(t *testing.T, st store.Store, key string, wait time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	l, err := lock.Options{RetryInterval: 5 * time.Millisecond}.Acquire(ctx, st, key, time.Second)
	if err == nil {
		_ = l.Release(t.Context())
		t.Fatal("Acquire got a lock that is held")
	}
	if !errors.Is(err, lock.ErrNotAcquired) {
		t.Fatalf("Acquire of a held lock = %v, want ErrNotAcquired", err)
	}
}

func wantNotLost(t *testing.T, l *lock.Lock) {
	t.Helper()
	select {
	case <-l.Lost():
		t.Fatal("Lost is closed")
	default:
	}
}

func waitLost(t *testing.T, l *lock.Lock, within time.Duration) {
	t.Helper()
	select {
	case <-l.Lost():
	case <-time.After(within):
		t.Fatalf("Lost not closed within %v", within)
	}
}

func TestMutualExclusion(t *testing.T) {
	const (
		workers = 8
		rounds  = 5
	)
	forEachStore(t, func(t *testing.T, st store.Store, key string) {
		var (
			wg      sync.WaitGroup
			inside  atomic.Int32
			counter atomic.Int64 // read and written apart: a lost update shows
		)
		for range workers {
			wg.Go(func() {
				for range rounds {
					ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
					l, err := lock.Acquire(ctx, st, key, 2*time.Second)
					cancel()
					if err != nil {
						t.Errorf("Acquire: %v", err)
						return
					}
					if n := inside.Add(1); n != 1 {
						t.Errorf("%d holders at once", n)
					}
					v := counter.Load()
					time.Sleep(time.Millisecond)
					counter.Store(v + 1)
					inside.Add(-1)
					if err := l.Release(t.Context()); err != nil {
						t.Errorf("Release: %v", err)
					}
				}
			})
		}
		wg.Wait()
		if got := counter.Load(); got != workers*rounds {
			t.Errorf("counter = %d, want %d", got, workers*rounds)
		}
	})
}

func TestRenewalOutlivesTTL(t *testing.T) {
	const ttl = lease
	forEachStore(t, func(t *testing.T, st store.Store, key string) {
		start := time.Now()
		l := mustAcquire(t, st, key, ttl)
		// Another tries for three leases while the holder works on.
		wantNotAcquired(t, st, key, 3*ttl)
		if held := time.Since(start); held < 3*ttl {
			t.Fatalf("held for %v only", held)
		}
		wantNotLost(t, l)
		mustRelease(t, l, "Release")
		// Released, it is free at once (no lease to wait out: far less
		// than the lease).
		ctx, cancel := context.WithTimeout(t.Context(), ttl/2)
		defer cancel()
		next, err := lock.Acquire(ctx, st, key, ttl)
		if err != nil {
			t.Fatalf("Acquire after Release: %v", err)
		}
		mustRelease(t, next, "Release")
	})
}

func TestReleaseAfterTakeover(t *testing.T) {
	const ttl = lease
	forEachStore(t, func(t *testing.T, st store.Store, key string) {
		// The first holder stalls: its renewals fail, so its lease runs out.
		stalled := &faulty{Store: st}
		stalled.expireFailures.Store(-1)
		first := mustAcquire(t, stalled, key, ttl)
		second := mustAcquire(t, st, key, ttl)
		waitLost(t, first, 2*ttl)

		if err := first.Release(t.Context()); !errors.Is(err, lock.ErrLost) {
			t.Fatalf("Release by the expired holder = %v, want ErrLost", err)
		}
		// The second holder's lock is still there, and still renewed.
		wantNotAcquired(t, st, key, 2*ttl)
		wantNotLost(t, second)
		mustRelease(t, second, "Release by the new holder")
		if _, err := st.Get(t.Context(), key, 0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get after the new holder's Release: %v, want ErrNotFound", err)
		}
	})
}

func TestAcquireContextEnds(t *testing.T) {
	tests := []struct {
		name     string
		held     bool                                                   // someone holds the lock
		ctx      func(parent context.Context) (context.Context, func()) // Acquire's context
		want     error
		minSpent time.Duration
	}{
		{
			name: "deadline while held",
			held: true,
			ctx: func(p context.Context) (context.Context, func()) {
				return context.WithTimeout(p, 100*time.Millisecond)
			},
			want:     context.DeadlineExceeded,
			minSpent: 100 * time.Millisecond,
		},
		{
			name: "cancelled while held",
			held: true,
			ctx: func(p context.Context) (context.Context, func()) {
				ctx, cancel := context.WithCancel(p)
				stop := time.AfterFunc(50*time.Millisecond, cancel)
				return ctx, func() { stop.Stop(); cancel() }
			},
			want:     context.Canceled,
			minSpent: 50 * time.Millisecond,
		},
		{
			name: "cancelled before, free",
			ctx: func(p context.Context) (context.Context, func()) {
				ctx, cancel := context.WithCancel(p)
				cancel()
				return ctx, cancel
			},
			want: context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachStore(t, func(t *testing.T, st store.Store, key string) {
				if tt.held {
					holder := mustAcquire(t, st, key, time.Second)
					defer holder.Release(context.WithoutCancel(t.Context()))
				}
				start := time.Now()
				ctx, cancel := tt.ctx(t.Context())
				defer cancel()
				l, err := lock.Acquire(ctx, st, key, time.Second)
				spent := time.Since(start)
				if l != nil || !errors.Is(err, lock.ErrNotAcquired) || !errors.Is(err, tt.want) {
					t.Fatalf("Acquire = %v, %v; want ErrNotAcquired and %v", l, err, tt.want)
				}
				if spent < tt.minSpent {
					t.Errorf("Acquire gave up after %v, before its context ended (%v)", spent, tt.minSpent)
				}
				if !tt.held {
					// Nothing was left behind.
					if _, err := st.Get(t.Context(), key, 0); !errors.Is(err, store.ErrNotFound) {
						t.Errorf("Get after a failed Acquire: %v, want ErrNotFound", err)
					}
				}
			})
		})
	}
}

func TestLostWhenTamperedWith(t *testing.T) {
	const ttl = lease
	tests := []struct {
		name      string
		tamper    func(ctx context.Context, st store.Store, key string) error
		wantAfter string // the key's value after Release; "" for none
	}{
		{"deleted", func(ctx context.Context, st store.Store, key string) error {
			return st.Delete(ctx, key)
		}, ""},
		{"overwritten", func(ctx context.Context, st store.Store, key string) error {
			return st.Set(ctx, key, []byte("intruder"), time.Minute)
		}, "intruder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachStore(t, func(t *testing.T, st store.Store, key string) {
				l := mustAcquire(t, st, key, ttl)
				wantNotLost(t, l)
				if err := tt.tamper(t.Context(), st, key); err != nil {
					t.Fatal(err)
				}
				// The next renewal, within ttl/3, finds out.
				waitLost(t, l, 2*ttl)
				if err := l.Release(t.Context()); !errors.Is(err, lock.ErrLost) {
					t.Fatalf("Release = %v, want ErrLost", err)
				}
				got, err := st.Get(t.Context(), key, 0)
				switch {
				case tt.wantAfter == "" && !errors.Is(err, store.ErrNotFound):
					t.Errorf("Get after Release = %q, %v; want ErrNotFound", got, err)
				case tt.wantAfter != "" && (err != nil || string(got) != tt.wantAfter):
					t.Errorf("Get after Release = %q, %v; want %q left alone", got, err, tt.wantAfter)
				}
			})
		})
	}
}

func TestReleaseTwice(t *testing.T) {
	forEachStore(t, func(t *testing.T, st store.Store, key string) {
		l := mustAcquire(t, st, key, time.Second)
		for i := range 2 {
			if err := l.Release(t.Context()); err != nil {
				t.Fatalf("Release #%d: %v", i+1, err)
			}
		}
		wantNotLost(t, l)
		// A second Release does not delete a lock taken since.
		next := mustAcquire(t, st, key, time.Second)
		mustRelease(t, l, "third Release")
		wantNotAcquired(t, st, key, 50*time.Millisecond)
		mustRelease(t, next, "Release")
	})
}

func TestRenewalSurvivesAFailure(t *testing.T) {
	const ttl = lease
	forEachStore(t, func(t *testing.T, st store.Store, key string) {
		flaky := &faulty{Store: st}
		flaky.expireFailures.Store(1)
		l := mustAcquire(t, flaky, key, ttl)
		wantNotAcquired(t, st, key, 2*ttl)
		wantNotLost(t, l)
		if n := flaky.expireFailures.Load(); n != 0 {
			t.Fatalf("renewal never failed (%d failures left)", n)
		}
		mustRelease(t, l, "Release")
	})
}

func TestReleaseStoreError(t *testing.T) {
	st := storetest.NewMemory(t)
	l := mustAcquire(t, st, "k", time.Second)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := l.Release(ctx); err == nil || errors.Is(err, lock.ErrLost) {
		t.Fatalf("Release with a cancelled context = %v, want a store error", err)
	}
	// Renewal has stopped, but the Release may be retried.
	mustRelease(t, l, "retried Release")
	if _, err := st.Get(t.Context(), "k", 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after the retried Release: %v, want ErrNotFound", err)
	}
}

func TestAcquireErrors(t *testing.T) {
	errDown := errors.New("store down")
	tests := []struct {
		name string
		ttl  time.Duration
		st   func(st store.Store) store.Store
	}{
		{"zero ttl", 0, nil},
		{"negative ttl", -time.Second, nil},
		{"ttl under a millisecond", 500 * time.Microsecond, nil},
		{"store error", time.Second, func(st store.Store) store.Store {
			return &faulty{Store: st, setNXErr: errDown}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := storetest.NewMemory(t)
			var st store.Store = mem
			if tt.st != nil {
				st = tt.st(st)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			start := time.Now()
			l, err := lock.Acquire(ctx, st, "k", tt.ttl)
			if l != nil || err == nil || errors.Is(err, lock.ErrNotAcquired) {
				t.Fatalf("Acquire = %v, %v; want an error other than ErrNotAcquired", l, err)
			}
			if tt.st != nil && !errors.Is(err, errDown) {
				t.Errorf("Acquire = %v; want it to wrap the store's error", err)
			}
			if spent := time.Since(start); spent > 5*time.Second {
				t.Errorf("Acquire took %v to fail; want no retries (they would last until the context's 10s end)", spent)
			}
			if n := mem.Len(); n != 0 {
				t.Errorf("%d keys left in the store", n)
			}
		})
	}
}

// faulty is a store.Store whose SetNX and CompareAndExpire can be made to
// fail.
type faulty struct {
	store.Store
	// setNXErr, if set, is SetNX's error.
	setNXErr error
	// expireFailures is how many CompareAndExpire calls are still to fail;
	// negative for all of them.
	expireFailures atomic.Int64
}

var errInjected = errors.New("injected failure")

func (f *faulty) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if f.setNXErr != nil {
		return false, f.setNXErr
	}
	return f.Store.SetNX(ctx, key, value, ttl)
}

func (f *faulty) CompareAndExpire(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	for {
		n := f.expireFailures.Load()
		if n == 0 {
			return f.Store.CompareAndExpire(ctx, key, value, ttl)
		}
		if n < 0 || f.expireFailures.CompareAndSwap(n, n-1) {
			return false, errInjected
		}
	}
}
