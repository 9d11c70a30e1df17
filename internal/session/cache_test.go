package session

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/identity"
	"github.com/gatehouse-auth/gatehouse/internal/keys"
	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/store/storetest"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// instances returns two managers with long-lived caches over one Redis,
// like two Gatehouse instances.
func instances(t *testing.T) (*Manager, *Manager) {
	t.Helper()
	ring := testRing(t, secret)
	mk := func() *Manager {
		st := storetest.OpenRedis(t, redistest.Shared.Addr)
		m := NewManager(Options{Store: st, Ring: ring, KeyPrefix: t.Name() + ":", CacheTTL: time.Hour})
		t.Cleanup(m.Close)
		return m
	}
	return mk(), mk()
}

// revocationBound is how soon every instance sharing the store sees a
// session end or change: the invalidation travels over pub/sub, and the
// cache (an hour here) never decides it.
const revocationBound = time.Second

func TestLogoutReachesOtherInstancesCache(t *testing.T) {
	a, b := instances(t)
	ctx := context.Background()
	tok, err := a.Create(ctx, &Session{User: identity.User{UserID: "u1", Login: "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Load(ctx, tok); err != nil { // now cached on b for an hour
		t.Fatal(err)
	}
	if err := a.Delete(ctx, tok); err != nil {
		t.Fatal(err)
	}
	testsupport.WaitFor(t, revocationBound, "logout on a ending the session cached on b did not happen", func() bool {
		_, err := b.Load(ctx, tok)
		return errors.Is(err, ErrNoSession)
	})
}

func TestUpdatesAndEndAllReachOtherInstances(t *testing.T) {
	a, b := instances(t)
	ctx := context.Background()
	tok, _ := a.Create(ctx, &Session{User: identity.User{UserID: "u2", Repos: []string{"acme/api"}}})
	if _, err := b.Load(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := a.UpdateAll(ctx, "u2", func(s *Session) { s.Repos = nil }); err != nil {
		t.Fatal(err)
	}
	testsupport.WaitFor(t, revocationBound, "a webhook's change reaching b's cache did not happen", func() bool {
		s, err := b.Load(ctx, tok)
		return err == nil && len(s.Repos) == 0
	})
	if _, err := a.EndAll(ctx, "u2"); err != nil {
		t.Fatal(err)
	}
	testsupport.WaitFor(t, revocationBound, "revocation reaching b's cache did not happen", func() bool {
		_, err := b.Load(ctx, tok)
		return errors.Is(err, ErrNoSession)
	})
}

// Messages published while an instance's subscription was down are lost;
// on reconnecting the instance drops its whole cache.
func TestCacheClearedAfterRedisOutage(t *testing.T) {
	r := redistest.StartRedisT(t)
	if !r.Real {
		t.Skip("needs a real redis-server")
	}
	ring, _ := keys.Derive(secret)
	st, err := store.OpenRedis(store.RedisOptions{Addrs: []string{r.Addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := NewManager(Options{Store: st, Ring: ring, CacheTTL: time.Hour})
	defer m.Close()
	ctx := context.Background()
	tok, _ := m.Create(ctx, &Session{User: identity.User{UserID: "u3"}})
	if _, err := m.Load(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := r.Kill(); err != nil { // the dataset is lost too
		t.Fatal(err)
	}
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	testsupport.WaitFor(t, 2*time.Second, "the cache being dropped after the outage did not happen", func() bool {
		_, err := m.Load(ctx, tok)
		return errors.Is(err, ErrNoSession)
	})
}

func TestCacheServesWithoutStore(t *testing.T) {
	ring, _ := keys.Derive(secret)
	mem := storetest.NewMemory(t)
	cs := &countingStore{Store: mem}
	m := NewManager(Options{Store: cs, Ring: ring, CacheTTL: 200 * time.Millisecond})
	defer m.Close()
	ctx := context.Background()
	tok, _ := m.Create(ctx, &Session{User: identity.User{UserID: "u4"}})
	for i := 0; i < 10; i++ {
		if _, err := m.Load(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := cs.calls.Load(); n != 1 {
		t.Fatalf("10 loads made %d store reads, want 1", n)
	}
	time.Sleep(250 * time.Millisecond) // past the bound: read (and slide) again
	if _, err := m.Load(ctx, tok); err != nil || cs.calls.Load() != 2 {
		t.Fatalf("after the cache bound: %v, %d reads", err, cs.calls.Load())
	}
	// Cached copies are independent of each other.
	s1, _ := m.Load(ctx, tok)
	s1.Login = "changed"
	if s2, _ := m.Load(ctx, tok); s2.Login == "changed" {
		t.Fatal("a caller's change leaked into the cache")
	}
}

// Load hands out the caller's own copy of a cached session; Peek the
// cache's, which the cache never changes: a caller modifying what Load
// gave (as the re-check does) leaves what the next Peek sees intact.
func TestLoadCopiesPeekShares(t *testing.T) {
	m := cachedManager(t, time.Minute)
	ctx := context.Background()
	tok, err := m.Create(ctx, &Session{User: identity.User{UserID: "corp:1", Groups: []string{"a"}}})
	if err != nil {
		t.Fatal(err)
	}
	p1, err := m.Peek(ctx, tok) // from the store, now cached
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := m.Peek(ctx, tok)
	p3, _ := m.Peek(ctx, tok)
	if p2 != p3 {
		t.Fatal("Peek copied a cached session")
	}
	own, _ := m.Load(ctx, tok)
	if own == p2 {
		t.Fatal("Load returned the cache's own session")
	}
	own.Groups = []string{"changed"}
	own.UserID = "other"
	if again, _ := m.Peek(ctx, tok); again.UserID != "corp:1" || again.Groups[0] != "a" || p1.UserID != "corp:1" {
		t.Fatalf("the cached session changed: %+v", again)
	}
}

// heldBus is a store whose subscriptions become live only when the test
// says, as a Redis subscription does once Redis confirms it.
type heldBus struct {
	*countingStore
	live func(bool)
}

func (h *heldBus) Publish(context.Context, string, string) error { return nil }

func (h *heldBus) Subscribe(_ string, _ func(string), live func(bool)) func() {
	h.live = live
	return func() {}
}

// The cache serves and keeps sessions only while its subscription is
// live: before Redis confirmed it, or while the connection is broken, an
// invalidation could be missed, so every lookup reads the store.
func TestCacheOnlyWhileSubscribed(t *testing.T) {
	mem := storetest.NewMemory(t)
	bus := &heldBus{countingStore: &countingStore{Store: mem}}
	m := NewManager(Options{Store: bus, Ring: testRing(t, secret), KeyPrefix: "t:", CacheTTL: time.Hour})
	defer m.Close()
	ctx := context.Background()
	tok, err := m.Create(ctx, &Session{User: identity.User{UserID: "u1"}})
	if err != nil {
		t.Fatal(err)
	}
	reads := func() int64 {
		before := bus.calls.Load()
		for range 3 {
			if _, err := m.Peek(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		return bus.calls.Load() - before
	}
	if n := reads(); n != 3 {
		t.Fatalf("before the subscription is live: %d store reads for 3 lookups, want 3", n)
	}
	bus.live(true)
	if n := reads(); n != 1 {
		t.Fatalf("once live: %d store reads for 3 lookups, want 1", n)
	}
	bus.live(false)
	if n := reads(); n != 3 {
		t.Fatalf("with the subscription broken: %d store reads for 3 lookups, want 3", n)
	}
}
