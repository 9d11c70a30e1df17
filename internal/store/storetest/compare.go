package storetest

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func testCompareAndDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustSet(t, s, "k", "mine\x00\xff", longTTL)
	mustSet(t, s, "empty", "", longTTL)
	steps := []struct {
		name   string
		key    string
		value  []byte
		wantOK bool
	}{
		{"missing key", "missing", []byte("mine"), false},
		{"wrong value", "k", []byte("theirs"), false},
		{"prefix of the value", "k", []byte("mine"), false},
		{"value plus more", "k", []byte("mine\x00\xff!"), false},
		{"right value", "k", []byte("mine\x00\xff"), true},
		{"right value again", "k", []byte("mine\x00\xff"), false},
		{"empty value, nil", "empty", nil, true},
	}
	for _, st := range steps {
		ok, err := s.CompareAndDelete(ctx, st.key, st.value)
		if err != nil || ok != st.wantOK {
			t.Fatalf("%s: CompareAndDelete = %v, %v; want %v", st.name, ok, err, st.wantOK)
		}
		if st.name == "wrong value" {
			wantValue(t, s, "k", "mine\x00\xff") // left alone
		}
	}
	for _, key := range []string{"k", "empty", "missing"} {
		if v, err := s.Get(ctx, key, 0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(%s) after CompareAndDelete = %q, %v; want ErrNotFound", key, v, err)
		}
	}
}

func testCompareAndDeleteConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustSet(t, s, "k", "token", longTTL)
	var won atomic.Int64
	errs := atOnce(takers, func(int) error {
		ok, err := s.CompareAndDelete(ctx, "k", []byte("token"))
		if ok && err == nil {
			won.Add(1)
		}
		return err
	})
	if won.Load() != 1 || len(errs) > 0 {
		t.Fatalf("%d of %d callers deleted the key (want 1); errors: %v", won.Load(), takers, errs)
	}
}

func testCompareAndExpire(t *testing.T, s store.Store) {
	ctx := t.Context()
	const extendedTTL = 4 * shortTTL
	mustSet(t, s, "wrong", "mine", shortTTL)
	mustSet(t, s, "right", "mine", shortTTL)
	start := time.Now()
	steps := []struct {
		name   string
		key    string
		value  string
		wantOK bool
	}{
		{"missing key", "missing", "mine", false},
		{"wrong value", "wrong", "theirs", false},
		{"prefix of the value", "wrong", "min", false},
		{"right value", "right", "mine", true},
	}
	for _, st := range steps {
		ok, err := s.CompareAndExpire(ctx, st.key, []byte(st.value), extendedTTL)
		if err != nil || ok != st.wantOK {
			t.Fatalf("%s: CompareAndExpire = %v, %v; want %v", st.name, ok, err, st.wantOK)
		}
	}
	// Past the first TTL, well within the extended one: only the key whose
	// value matched was extended, and its value is unchanged.
	time.Sleep(2 * shortTTL)
	if time.Since(start) < extendedTTL {
		wantValue(t, s, "right", "mine")
	}
	if v, err := s.Get(ctx, "wrong", 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get of the key compared with the wrong value = %q, %v; want it expired", v, err)
	}
	if v, err := s.Get(ctx, "missing", 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CompareAndExpire created a missing key: Get = %q, %v", v, err)
	}
	// The extended TTL still runs out.
	waitGone(t, s, "right", start)
}

func testCompareAndExpireTTL(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustSet(t, s, "k", "mine", longTTL)
	for _, ttl := range []time.Duration{0, -time.Second} {
		if _, err := s.CompareAndExpire(ctx, "k", []byte("mine"), ttl); err == nil {
			t.Errorf("CompareAndExpire with ttl %v succeeded", ttl)
		}
	}
	wantValue(t, s, "k", "mine")
	// It sets the TTL, so it can shorten it too.
	start := time.Now()
	if ok, err := s.CompareAndExpire(ctx, "k", []byte("mine"), shortTTL); err != nil || !ok {
		t.Fatalf("CompareAndExpire to a shorter ttl = %v, %v; want true", ok, err)
	}
	waitGone(t, s, "k", start)
}
