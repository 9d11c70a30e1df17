// Package storetest is a conformance suite for store.Store implementations.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

const (
	// shortTTL is the TTL of keys a test waits to see expire.
	shortTTL = 150 * time.Millisecond
	// expiryBound is how long a test waits for a short-lived key to go.
	expiryBound = 3 * time.Second
	// pollEvery is the polling interval while waiting for expiry.
	pollEvery = 10 * time.Millisecond
	// longTTL is the TTL of keys that must not expire during a test.
	longTTL = time.Minute
	// takers is the number of goroutines racing to Take one key, or to
	// CompareAndDelete it.
	takers = 64
	// adders is the number of goroutines adding to one set at once.
	adders = 32
)

// Run runs the conformance suite against stores made by newStore, which is
// called once per subtest and should register its own cleanup. Subtests run
// in parallel and use distinct keys, so newStore may return stores sharing
// one backend.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []suiteTest[store.Store]{
		{"SetGet", testSetGet},
		{"Overwrite", testOverwrite},
		{"Missing", testMissing},
		{"CopiesValues", testCopiesValues},
		{"RejectsBadTTL", testRejectsBadTTL},
		{"Expiry", testExpiry},
		{"TouchExtends", testTouchExtends},
		{"NoTouchKeepsTTL", testNoTouchKeepsTTL},
		{"SetNX", testSetNX},
		{"SetNXAfterExpiry", testSetNXAfterExpiry},
		{"SetXX", testSetXX},
		{"Take", testTake},
		{"TakeConcurrent", testTakeConcurrent},
		{"Delete", testDelete},
		{"SetAddMembers", testSetAddMembers},
		{"SetAddSetsTTL", testSetAddSetsTTL},
		{"SetExpiry", testSetExpiry},
		{"SetRemove", testSetRemove},
		{"SetAddConcurrent", testSetAddConcurrent},
		{"SetRejectsBadTTL", testSetRejectsBadTTL},
		{"WrongType", testWrongType},
		{"CompareAndDelete", testCompareAndDelete},
		{"CompareAndDeleteConcurrent", testCompareAndDeleteConcurrent},
		{"CompareAndExpire", testCompareAndExpire},
		{"CompareAndExpireTTL", testCompareAndExpireTTL},
		{"Incr", testIncr},
		{"IncrConcurrent", testIncrConcurrent},
		{"Ping", testPing},
		{"CancelledContext", testCancelledContext},
	}
	runParallel(t, tests, newStore)
}

// suiteTest is one test of a conformance suite for implementations of T.
type suiteTest[T any] struct {
	name string
	fn   func(t *testing.T, impl T)
}

// runParallel runs tests as parallel subtests, each with an implementation
// made by newImpl.
func runParallel[T any](t *testing.T, tests []suiteTest[T], newImpl func(t *testing.T) T) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newImpl(t))
		})
	}
}

func testSetGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	big := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	values := []struct {
		key   string
		value []byte
	}{
		{"text", []byte("hello")},
		{"binary", []byte{0, 1, 2, 0xff, '\r', '\n', 0}},
		{"empty", []byte{}},
		{"big", big},
	}
	for _, v := range values {
		if err := s.Set(ctx, v.key, v.value, longTTL); err != nil {
			t.Fatalf("Set(%s): %v", v.key, err)
		}
	}
	for _, v := range values {
		got, err := s.Get(ctx, v.key, 0)
		if err != nil {
			t.Fatalf("Get(%s): %v", v.key, err)
		}
		if !bytes.Equal(got, v.value) {
			t.Errorf("Get(%s) = %d bytes %.16q, want %d bytes %.16q", v.key, len(got), got, len(v.value), v.value)
		}
	}
}

func testOverwrite(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustSet(t, s, "k", "first", longTTL)
	mustSet(t, s, "k", "second", shortTTL)
	wantValue(t, s, "k", "second")
	// The second Set's TTL replaced the first's.
	waitGone(t, s, "k", time.Now())
	if _, err := s.Get(ctx, "k", 0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get after expiry: %v, want ErrNotFound", err)
	}
}

func testMissing(t *testing.T, s store.Store) {
	ctx := t.Context()
	if v, err := s.Get(ctx, "missing", 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get = %q, %v; want ErrNotFound", v, err)
	}
	if v, err := s.Get(ctx, "missing", longTTL); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get with touch = %q, %v; want ErrNotFound", v, err)
	}
	if v, err := s.Take(ctx, "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Take = %q, %v; want ErrNotFound", v, err)
	}
}

func testCopiesValues(t *testing.T, s store.Store) {
	ctx := t.Context()
	buf := []byte("original")
	if err := s.Set(ctx, "set", buf, longTTL); err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXXXXXXX")
	wantValue(t, s, "set", "original")

	buf = []byte("original")
	if ok, err := s.SetNX(ctx, "setnx", buf, longTTL); err != nil || !ok {
		t.Fatalf("SetNX = %v, %v; want true", ok, err)
	}
	copy(buf, "XXXXXXXX")
	wantValue(t, s, "setnx", "original")

	for _, touch := range []time.Duration{0, longTTL} {
		got, err := s.Get(ctx, "set", touch)
		if err != nil {
			t.Fatal(err)
		}
		copy(got, "YYYYYYYY")
		wantValue(t, s, "set", "original")
	}
}

func testRejectsBadTTL(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, ttl := range []time.Duration{0, -time.Second} {
		if err := s.Set(ctx, "k", []byte("v"), ttl); err == nil {
			t.Errorf("Set with ttl %v succeeded", ttl)
		}
		if _, err := s.SetNX(ctx, "k", []byte("v"), ttl); err == nil {
			t.Errorf("SetNX with ttl %v succeeded", ttl)
		}
	}
	if _, err := s.Get(ctx, "k", 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after refused Sets: %v, want ErrNotFound", err)
	}
}

func testExpiry(t *testing.T, s store.Store) {
	start := time.Now()
	mustSet(t, s, "k", "v", shortTTL)
	wantValue(t, s, "k", "v")
	gone := waitGone(t, s, "k", start)
	// Allow the server's millisecond clock a little rounding.
	if early := shortTTL - gone; early > 20*time.Millisecond {
		t.Errorf("key expired after %v, before its ttl %v", gone, shortTTL)
	}
}

func testTouchExtends(t *testing.T, s store.Store) {
	ctx := t.Context()
	const touch = 4 * shortTTL
	mustSet(t, s, "k", "v", shortTTL)
	touched := time.Now()
	got, err := s.Get(ctx, "k", touch)
	if err != nil || string(got) != "v" {
		t.Fatalf("Get with touch = %q, %v; want v", got, err)
	}
	// Past the original TTL, well within the touched one.
	time.Sleep(2 * shortTTL)
	if time.Since(touched) < touch {
		wantValue(t, s, "k", "v")
	}
	// The touched TTL still runs out.
	waitGone(t, s, "k", touched)
}

func testNoTouchKeepsTTL(t *testing.T, s store.Store) {
	ctx := t.Context()
	start := time.Now()
	mustSet(t, s, "k", "v", shortTTL)
	// Reading without touch, however often, does not keep the key alive.
	for {
		_, err := s.Get(ctx, "k", 0)
		if errors.Is(err, store.ErrNotFound) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Since(start) > expiryBound {
			t.Fatalf("key read without touch still there after %v (ttl %v)", expiryBound, shortTTL)
		}
		time.Sleep(pollEvery)
	}
}

func testSetNX(t *testing.T, s store.Store) {
	ctx := t.Context()
	steps := []struct {
		value  string
		wantOK bool
	}{
		{"first", true},
		{"second", false},
		{"third", false},
	}
	for _, st := range steps {
		ok, err := s.SetNX(ctx, "k", []byte(st.value), longTTL)
		if err != nil || ok != st.wantOK {
			t.Fatalf("SetNX(%s) = %v, %v; want %v", st.value, ok, err, st.wantOK)
		}
	}
	wantValue(t, s, "k", "first")

	mustSet(t, s, "set", "by-set", longTTL)
	if ok, err := s.SetNX(ctx, "set", []byte("by-setnx"), longTTL); err != nil || ok {
		t.Fatalf("SetNX over Set = %v, %v; want false", ok, err)
	}
	wantValue(t, s, "set", "by-set")

	// Once deleted, the key can be claimed again.
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.SetNX(ctx, "k", []byte("again"), longTTL); err != nil || !ok {
		t.Fatalf("SetNX after Delete = %v, %v; want true", ok, err)
	}
	wantValue(t, s, "k", "again")
}

func testSetNXAfterExpiry(t *testing.T, s store.Store) {
	ctx := t.Context()
	start := time.Now()
	if ok, err := s.SetNX(ctx, "k", []byte("first"), shortTTL); err != nil || !ok {
		t.Fatalf("SetNX = %v, %v; want true", ok, err)
	}
	waitGone(t, s, "k", start)
	if ok, err := s.SetNX(ctx, "k", []byte("second"), longTTL); err != nil || !ok {
		t.Fatalf("SetNX after expiry = %v, %v; want true", ok, err)
	}
	wantValue(t, s, "k", "second")
}

// SetXX replaces only what exists: a missing, deleted or expired key stays
// missing, and an existing one takes the new value and time to live.
func testSetXX(t *testing.T, s store.Store) {
	ctx := t.Context()
	if ok, err := s.SetXX(ctx, "k", []byte("v"), longTTL); err != nil || ok {
		t.Fatalf("SetXX on a missing key = %v, %v; want false", ok, err)
	}
	if v, err := s.Get(ctx, "k", 0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SetXX created a missing key: %q, %v", v, err)
	}
	start := time.Now()
	mustSet(t, s, "k", "first", longTTL)
	if ok, err := s.SetXX(ctx, "k", []byte("second"), shortTTL); err != nil || !ok {
		t.Fatalf("SetXX on an existing key = %v, %v; want true", ok, err)
	}
	wantValue(t, s, "k", "second")
	waitGone(t, s, "k", start) // with SetXX's time to live, not Set's
	if ok, err := s.SetXX(ctx, "k", []byte("third"), longTTL); err != nil || ok {
		t.Fatalf("SetXX on an expired key = %v, %v; want false", ok, err)
	}
	mustSet(t, s, "d", "v", longTTL)
	if err := s.Delete(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.SetXX(ctx, "d", []byte("back"), longTTL); err != nil || ok {
		t.Fatalf("SetXX on a deleted key = %v, %v; want false", ok, err)
	}
	if _, err := s.SetXX(ctx, "k", []byte("v"), 0); err == nil {
		t.Error("SetXX with a zero TTL was accepted")
	}
}

func testTake(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustSet(t, s, "k", "v", longTTL)
	got, err := s.Take(ctx, "k")
	if err != nil || string(got) != "v" {
		t.Fatalf("Take = %q, %v; want v", got, err)
	}
	if v, err := s.Get(ctx, "k", 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after Take = %q, %v; want ErrNotFound", v, err)
	}
	if v, err := s.Take(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second Take = %q, %v; want ErrNotFound", v, err)
	}
}

func testTakeConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustSet(t, s, "k", "prize", longTTL)
	var won atomic.Int64
	errs := atOnce(takers, func(int) error {
		got, err := s.Take(ctx, "k")
		switch {
		case err == nil && string(got) == "prize":
			won.Add(1)
		case errors.Is(err, store.ErrNotFound):
		case err == nil:
			return fmt.Errorf("Take = %q", got)
		default:
			return err
		}
		return nil
	})
	if won.Load() != 1 || len(errs) > 0 {
		t.Fatalf("%d of %d takers got the value (want 1); errors: %v", won.Load(), takers, errs)
	}
}

// atOnce runs fn(0) to fn(n-1) in n goroutines released together and
// returns the errors they returned.
func atOnce(n int, fn func(i int) error) []error {
	var (
		start sync.WaitGroup
		done  sync.WaitGroup
		mu    sync.Mutex
		errs  []error
	)
	start.Add(1)
	for i := range n {
		done.Go(func() {
			start.Wait()
			if err := fn(i); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	start.Done()
	done.Wait()
	return errs
}

func testDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	if err := s.Delete(ctx, "missing"); err != nil {
		t.Errorf("Delete missing: %v", err)
	}
	mustSet(t, s, "k", "v", longTTL)
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if v, err := s.Get(ctx, "k", 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after Delete = %q, %v; want ErrNotFound", v, err)
	}
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func testCancelledContext(t *testing.T, s store.Store) {
	mustSet(t, s, "k", "v", longTTL)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := []struct {
		name string
		call func() error
	}{
		{"Get", func() error { _, err := s.Get(ctx, "k", 0); return err }},
		{"GetTouch", func() error { _, err := s.Get(ctx, "k", longTTL); return err }},
		{"GetMissing", func() error { _, err := s.Get(ctx, "missing", 0); return err }},
		{"Set", func() error { return s.Set(ctx, "k", []byte("w"), longTTL) }},
		{"SetNX", func() error { _, err := s.SetNX(ctx, "nx", []byte("w"), longTTL); return err }},
		{"Take", func() error { _, err := s.Take(ctx, "k"); return err }},
		{"TakeMissing", func() error { _, err := s.Take(ctx, "missing"); return err }},
		{"Delete", func() error { return s.Delete(ctx, "k") }},
		{"SetAdd", func() error { return s.SetAdd(ctx, "set", longTTL, "x") }},
		{"SetMembers", func() error { _, err := s.SetMembers(ctx, "set"); return err }},
		{"SetRemove", func() error { return s.SetRemove(ctx, "set", "x") }},
		{"CompareAndDelete", func() error { _, err := s.CompareAndDelete(ctx, "k", []byte("v")); return err }},
		{"CompareAndExpire", func() error {
			_, err := s.CompareAndExpire(ctx, "k", []byte("v"), longTTL)
			return err
		}},
		{"Incr", func() error { _, err := s.Incr(ctx, "n", longTTL); return err }},
		{"Ping", func() error { return s.Ping(ctx) }},
	}
	for _, c := range calls {
		err := c.call()
		if err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s with a cancelled context = %v; want an error other than ErrNotFound", c.name, err)
		}
	}
	// Nothing was changed.
	wantValue(t, s, "k", "v")
	if _, err := s.Get(t.Context(), "nx", 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetNX with a cancelled context stored a value (Get: %v)", err)
	}
	if _, err := s.Get(t.Context(), "n", 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Incr with a cancelled context created a counter (Get: %v)", err)
	}
	wantMembers(t, s, "set")
}

func mustSet(t *testing.T, s store.Store, key, value string, ttl time.Duration) {
	t.Helper()
	if err := s.Set(t.Context(), key, []byte(value), ttl); err != nil {
		t.Fatalf("Set(%s): %v", key, err)
	}
}

func wantValue(t *testing.T, s store.Store, key, want string) {
	t.Helper()
	got, err := s.Get(t.Context(), key, 0)
	if err != nil || string(got) != want {
		t.Fatalf("Get(%s) = %q, %v; want %q", key, got, err, want)
	}
}

// waitGone polls key until it is gone and returns how long after since that
// was seen, failing t if it is still there after expiryBound.
func waitGone(t *testing.T, s store.Store, key string, since time.Time) time.Duration {
	t.Helper()
	for {
		_, err := s.Get(t.Context(), key, 0)
		if errors.Is(err, store.ErrNotFound) {
			return time.Since(since)
		}
		if err != nil {
			t.Fatalf("Get(%s): %v", key, err)
		}
		if time.Since(since) > expiryBound {
			t.Fatalf("Get(%s): still there %v after it should have expired", key, expiryBound)
		}
		time.Sleep(pollEvery)
	}
}

// testIncr: a counter starts at one, counts up, keeps the time to live
// it was created with, starts again after it expires, and refuses a bad
// ttl and a key holding a set or a non-number.
func testIncr(t *testing.T, s store.Store) {
	ctx := t.Context()
	for want := int64(1); want <= 3; want++ {
		n, err := s.Incr(ctx, "n", shortTTL)
		if err != nil || n != want {
			t.Fatalf("Incr #%d = %d, %v", want, n, err)
		}
	}
	wantValue(t, s, "n", "3")
	start := time.Now()
	waitGone(t, s, "n", start)
	if n, err := s.Incr(ctx, "n", longTTL); err != nil || n != 1 {
		t.Fatalf("Incr after expiry = %d, %v; want 1", n, err)
	}
	if _, err := s.Incr(ctx, "m", 0); err == nil {
		t.Error("Incr with ttl 0 succeeded")
	}
	if err := s.SetAdd(ctx, "set", longTTL, "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Incr(ctx, "set", longTTL); !errors.Is(err, store.ErrWrongType) {
		t.Errorf("Incr on a set = %v; want ErrWrongType", err)
	}
	mustSet(t, s, "text", "abc", longTTL)
	if _, err := s.Incr(ctx, "text", longTTL); err == nil {
		t.Error("Incr on a non-number succeeded")
	}
	wantValue(t, s, "text", "abc")
}

// testIncrConcurrent: concurrent increments are all counted.
func testIncrConcurrent(t *testing.T, s store.Store) {
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Incr(t.Context(), "n", longTTL); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	wantValue(t, s, "n", "50")
}
