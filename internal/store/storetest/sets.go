package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func testSetAddMembers(t *testing.T, s store.Store) {
	ctx := t.Context()
	steps := []struct {
		name string
		add  []string
		want []string
	}{
		{"unsorted with duplicates", []string{"c", "a", "B", "a"}, []string{"B", "a", "c"}},
		{"more, one already in", []string{"b", "c", "", "bin\x00\xff"}, []string{"", "B", "a", "b", "bin\x00\xff", "c"}},
		{"no members", nil, []string{"", "B", "a", "b", "bin\x00\xff", "c"}},
	}
	for _, st := range steps {
		if err := s.SetAdd(ctx, "s", longTTL, st.add...); err != nil {
			t.Fatalf("%s: SetAdd: %v", st.name, err)
		}
		got, err := s.SetMembers(ctx, "s")
		if err != nil || !slices.Equal(got, st.want) {
			t.Fatalf("%s: SetMembers = %q, %v; want %q", st.name, got, err, st.want)
		}
	}

	// A missing key is an empty set, and SetAdd with no members creates none.
	if got, err := s.SetMembers(ctx, "missing"); err != nil || len(got) != 0 {
		t.Errorf("SetMembers of a missing key = %q, %v; want empty", got, err)
	}
	if err := s.SetAdd(ctx, "none", longTTL); err != nil {
		t.Fatalf("SetAdd with no members: %v", err)
	}
	if _, err := s.Get(ctx, "none", 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after SetAdd with no members: %v, want ErrNotFound", err)
	}
}

func testSetAddSetsTTL(t *testing.T, s store.Store) {
	const extendedTTL = 4 * shortTTL
	mustSetAdd(t, s, "extended", shortTTL, "a")
	mustSetAdd(t, s, "shortened", longTTL, "a")
	extended := time.Now()
	mustSetAdd(t, s, "extended", extendedTTL, "b")
	mustSetAdd(t, s, "shortened", shortTTL, "b")
	// Past the first TTL, well within the extended one.
	time.Sleep(2 * shortTTL)
	if time.Since(extended) < extendedTTL {
		wantMembers(t, s, "extended", "a", "b")
	}
	waitSetGone(t, s, "extended", extended)
	waitSetGone(t, s, "shortened", extended)
}

func testSetExpiry(t *testing.T, s store.Store) {
	ctx := t.Context()
	start := time.Now()
	mustSetAdd(t, s, "s", shortTTL, "a", "b", "c")
	wantMembers(t, s, "s", "a", "b", "c")
	// Reading the set, however often, does not keep it alive.
	gone := waitSetGone(t, s, "s", start)
	if early := shortTTL - gone; early > 20*time.Millisecond {
		t.Errorf("set expired after %v, before its ttl %v", gone, shortTTL)
	}
	if _, err := s.Get(ctx, "s", 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after the set expired: %v, want ErrNotFound", err)
	}
	// The whole set went: adding again starts an empty one.
	mustSetAdd(t, s, "s", longTTL, "d")
	wantMembers(t, s, "s", "d")
}

func testSetRemove(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustSetAdd(t, s, "s", longTTL, "a", "b", "c")
	steps := []struct {
		name   string
		key    string
		remove []string
		want   []string // members of "s" afterwards
	}{
		{"one and a missing one", "s", []string{"b", "missing"}, []string{"a", "c"}},
		{"none", "s", nil, []string{"a", "c"}},
		{"from a missing key", "missing", []string{"a"}, []string{"a", "c"}},
		{"the rest", "s", []string{"a", "c"}, nil},
		{"from the emptied set", "s", []string{"a"}, nil},
	}
	for _, st := range steps {
		if err := s.SetRemove(ctx, st.key, st.remove...); err != nil {
			t.Fatalf("%s: SetRemove: %v", st.name, err)
		}
		wantMembers(t, s, "s", st.want...)
	}
	// Removing the last member deleted the key, so it is free for a value.
	if ok, err := s.SetNX(ctx, "s", []byte("v"), longTTL); err != nil || !ok {
		t.Fatalf("SetNX on an emptied set = %v, %v; want true", ok, err)
	}
}

func testSetAddConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	want := []string{"shared-0", "shared-1", "shared-2", "shared-3"}
	for i := range adders {
		want = append(want, fmt.Sprintf("m%02d-1", i), fmt.Sprintf("m%02d-2", i))
	}
	slices.Sort(want)
	errs := atOnce(adders, func(i int) error {
		one, two := fmt.Sprintf("m%02d-1", i), fmt.Sprintf("m%02d-2", i)
		shared := fmt.Sprintf("shared-%d", i%4)
		var errs []error
		for _, members := range [][]string{{one}, {two, shared}} {
			if err := s.SetAdd(ctx, "s", longTTL, members...); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	})
	if len(errs) > 0 {
		t.Fatalf("concurrent SetAdd: %v", errs)
	}
	wantMembers(t, s, "s", want...)
}

func testSetRejectsBadTTL(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, ttl := range []time.Duration{0, -time.Second} {
		if err := s.SetAdd(ctx, "s", ttl, "a"); err == nil {
			t.Errorf("SetAdd with ttl %v succeeded", ttl)
		}
	}
	wantMembers(t, s, "s")
}

func testWrongType(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustSet(t, s, "value", "v", longTTL)
	mustSetAdd(t, s, "set", longTTL, "a")
	calls := []struct {
		name string
		call func() error
	}{
		{"SetAdd on a value", func() error { return s.SetAdd(ctx, "value", longTTL, "a") }},
		{"SetMembers on a value", func() error { _, err := s.SetMembers(ctx, "value"); return err }},
		{"SetRemove on a value", func() error { return s.SetRemove(ctx, "value", "a") }},
		{"Get on a set", func() error { _, err := s.Get(ctx, "set", 0); return err }},
		{"Get with touch on a set", func() error { _, err := s.Get(ctx, "set", longTTL); return err }},
		{"Take on a set", func() error { _, err := s.Take(ctx, "set"); return err }},
		{"CompareAndDelete on a set", func() error { _, err := s.CompareAndDelete(ctx, "set", []byte("a")); return err }},
		{"CompareAndExpire on a set", func() error {
			_, err := s.CompareAndExpire(ctx, "set", []byte("a"), longTTL)
			return err
		}},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, store.ErrWrongType) {
			t.Errorf("%s = %v; want ErrWrongType", c.name, err)
		}
	}
	// Neither key was changed.
	wantValue(t, s, "value", "v")
	wantMembers(t, s, "set", "a")

	// SetNX does not replace a set; Set does; Delete deletes one.
	if ok, err := s.SetNX(ctx, "set", []byte("w"), longTTL); err != nil || ok {
		t.Fatalf("SetNX over a set = %v, %v; want false", ok, err)
	}
	wantMembers(t, s, "set", "a")
	mustSet(t, s, "set", "w", longTTL)
	wantValue(t, s, "set", "w")
	mustSetAdd(t, s, "deleted", longTTL, "a")
	if err := s.Delete(ctx, "deleted"); err != nil {
		t.Fatalf("Delete a set: %v", err)
	}
	wantMembers(t, s, "deleted")
}

func mustSetAdd(t *testing.T, s store.Store, key string, ttl time.Duration, members ...string) {
	t.Helper()
	if err := s.SetAdd(t.Context(), key, ttl, members...); err != nil {
		t.Fatalf("SetAdd(%s): %v", key, err)
	}
}

// wantMembers fails t unless the set at key has exactly the members want,
// given sorted; no want means an empty set.
func wantMembers(t *testing.T, s store.Store, key string, want ...string) {
	t.Helper()
	got, err := s.SetMembers(t.Context(), key)
	if err != nil {
		t.Fatalf("SetMembers(%s): %v", key, err)
	}
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Fatalf("SetMembers(%s) = %q, want %q", key, got, want)
	}
}

// waitSetGone polls the set at key until it is empty and returns how long
// after since that was seen, failing t if it is still there after
// expiryBound.
func waitSetGone(t *testing.T, s store.Store, key string, since time.Time) time.Duration {
	t.Helper()
	for {
		got, err := s.SetMembers(t.Context(), key)
		if err != nil {
			t.Fatalf("SetMembers(%s): %v", key, err)
		}
		if len(got) == 0 {
			return time.Since(since)
		}
		if time.Since(since) > expiryBound {
			t.Fatalf("SetMembers(%s): still %q %v after it should have expired", key, got, expiryBound)
		}
		time.Sleep(pollEvery)
	}
}
