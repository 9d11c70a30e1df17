package session

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/identity"
	"github.com/gatehouse-auth/gatehouse/internal/keys"
	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/store/storetest"
)

// countingStore counts the calls that reach the store.
type countingStore struct {
	store.Store
	calls atomic.Int64
	// sets counts writes over an existing key.
	sets atomic.Int64
}

func (c *countingStore) SetXX(ctx context.Context, k string, v []byte, ttl time.Duration) (bool, error) {
	c.sets.Add(1)
	return c.Store.SetXX(ctx, k, v, ttl)
}

func (c *countingStore) Get(ctx context.Context, k string, t time.Duration) ([]byte, error) {
	c.calls.Add(1)
	return c.Store.Get(ctx, k, t)
}

func newManager(t *testing.T, secret string) (*Manager, *countingStore, *store.Memory) {
	t.Helper()
	mem := storetest.NewMemory(t)
	cs := &countingStore{Store: mem}
	return NewManager(Options{Store: cs, Ring: testRing(t, secret), KeyPrefix: "t:", Lifetime: time.Hour, IdleTimeout: 10 * time.Minute}), cs, mem
}

// testRing is the key ring derived from secret.
func testRing(t *testing.T, secret string) *keys.Ring {
	t.Helper()
	ring, err := keys.Derive(secret)
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

// createSessions creates n sessions of user and returns their tokens.
func createSessions(t *testing.T, m *Manager, n int, user string) []string {
	t.Helper()
	toks := make([]string, 0, n)
	for range n {
		tok, err := m.Create(context.Background(), &Session{User: identity.User{UserID: user}})
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
	}
	return toks
}

const secret = "0123456789abcdef0123456789abcdef-test"

func TestCreateLoadDelete(t *testing.T) {
	m, _, _ := newManager(t, secret)
	ctx := context.Background()
	tok, err := m.Create(ctx, &Session{User: identity.User{UserID: "corp:1", Login: "alice", Provider: "corp"}, Host: "app"})
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != TokenLen || TokenLen != 64 {
		t.Fatalf("token length %d, want 64", len(tok))
	}
	s, err := m.Load(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if s.Login != "alice" || s.UserID != "corp:1" {
		t.Fatalf("loaded %+v", s)
	}
	if got := s.ExpiresAt.Sub(s.CreatedAt); got != time.Hour {
		t.Fatalf("lifetime %s, want 1h", got)
	}
	if err := m.Delete(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Load(ctx, tok); !errors.Is(err, ErrNoSession) {
		t.Fatalf("after delete: %v, want ErrNoSession", err)
	}
}

func TestEveryTokenIsNew(t *testing.T) {
	m, _, _ := newManager(t, secret)
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		tok, err := m.Create(context.Background(), &Session{User: identity.User{UserID: "x"}})
		if err != nil {
			t.Fatal(err)
		}
		if seen[tok] {
			t.Fatal("token repeated")
		}
		seen[tok] = true
	}
}

func TestMalformedTokensNeverReachTheStore(t *testing.T) {
	m, cs, _ := newManager(t, secret)
	good, err := m.Create(context.Background(), &Session{User: identity.User{UserID: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	other, _, _ := newManager(t, "another-secret-another-secret-another-secret")
	foreign, _ := other.Create(context.Background(), &Session{User: identity.User{UserID: "x"}})
	flipped := []byte(good)
	flipped[10] ^= 1
	if flipped[10] == '`' {
		flipped[10] = 'a'
	}
	cases := map[string]string{
		"empty":         "",
		"star":          "*",
		"crlf":          strings.Repeat("a", 62) + "\r\n",
		"colon":         strings.Repeat("a", 63) + ":",
		"too long":      good + "A",
		"oversize":      strings.Repeat("A", 5000),
		"not base64":    strings.Repeat("!", 64),
		"padding":       good[:62] + "==",
		"bad mac":       string(flipped),
		"other secret":  foreign,
		"mac truncated": good[:63],
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			before := cs.calls.Load()
			if _, err := m.Load(context.Background(), tok); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Load(%q) = %v, want ErrMalformed", tok, err)
			}
			if cs.calls.Load() != before {
				t.Fatal("a malformed token reached the store")
			}
			if m.Valid(tok) {
				t.Fatal("Valid accepted a malformed token")
			}
		})
	}
}

func TestStoredValueIsEncryptedAndKeyIsHashed(t *testing.T) {
	m, _, mem := newManager(t, secret)
	tok, err := m.Create(context.Background(), &Session{User: identity.User{UserID: "corp:1", Email: "alice@example.com"}, AccessToken: "at-SECRET-123", RefreshToken: "rt-SECRET-456"})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := parseToken(m.ring, tok)
	key := "t:session:" + raw.hash()
	val, err := mem.Get(context.Background(), key, 0)
	if err != nil {
		t.Fatalf("session not under the hashed key %s: %v", key, err)
	}
	for _, plain := range []string{"alice@example.com", "at-SECRET-123", "rt-SECRET-456", "corp:1", tok} {
		if strings.Contains(string(val), plain) {
			t.Fatalf("stored value contains %q in plaintext", plain)
		}
	}
	if strings.Contains(key, tok) || strings.Contains(key, tok[:43]) {
		t.Fatal("store key contains the token")
	}
	// The value does not open under another key: copying it elsewhere fails.
	if _, err := m.ring.Open(val, []byte("t:session:other")); err == nil {
		t.Fatal("sealed value opened under another key")
	}
}

func TestAbsoluteLifetimeEnforced(t *testing.T) {
	m, _, _ := newManager(t, secret)
	now := time.Now()
	m.now = func() time.Time { return now }
	tok, err := m.Create(context.Background(), &Session{User: identity.User{UserID: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	m.now = func() time.Time { return now.Add(59 * time.Minute) }
	if _, err := m.Load(context.Background(), tok); err != nil {
		t.Fatalf("before the end of the lifetime: %v", err)
	}
	m.now = func() time.Time { return now.Add(61 * time.Minute) }
	if _, err := m.Load(context.Background(), tok); !errors.Is(err, ErrNoSession) {
		t.Fatalf("after the lifetime: %v, want ErrNoSession", err)
	}
}

func TestIdleTimeoutSlides(t *testing.T) {
	ring, _ := keys.Derive(secret)
	mem := storetest.NewMemory(t)
	m := NewManager(Options{Store: mem, Ring: ring, Lifetime: time.Hour, IdleTimeout: 300 * time.Millisecond})
	// The manager rounds nothing below a minute; use the store TTL directly.
	tok, err := m.Create(context.Background(), &Session{User: identity.User{UserID: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ { // 4 × 150 ms > idle, but each use slides it
		time.Sleep(150 * time.Millisecond)
		if _, err := m.Load(context.Background(), tok); err != nil {
			t.Fatalf("use %d: %v", i, err)
		}
	}
	time.Sleep(450 * time.Millisecond)
	if _, err := m.Load(context.Background(), tok); !errors.Is(err, ErrNoSession) {
		t.Fatalf("after idling: %v, want ErrNoSession", err)
	}
}

type failingStore struct{ store.Store }

func (failingStore) Get(context.Context, string, time.Duration) ([]byte, error) {
	return nil, errors.New("connection refused")
}

func TestStoreFailureIsNotNoSession(t *testing.T) {
	m, _, mem := newManager(t, secret)
	tok, _ := m.Create(context.Background(), &Session{User: identity.User{UserID: "x"}})
	m.store = failingStore{mem}
	_, err := m.Load(context.Background(), tok)
	if err == nil || errors.Is(err, ErrNoSession) || errors.Is(err, ErrMalformed) {
		t.Fatalf("store failure reported as %v", err)
	}
}

func TestCSRF(t *testing.T) {
	m, _, _ := newManager(t, secret)
	a, _ := m.Create(context.Background(), &Session{User: identity.User{UserID: "a"}})
	b, _ := m.Create(context.Background(), &Session{User: identity.User{UserID: "b"}})
	if !m.CheckCSRF(a, m.CSRFToken(a)) {
		t.Fatal("own CSRF token refused")
	}
	for name, c := range map[string]string{"other session": m.CSRFToken(b), "empty": "", "garbage": "xyz"} {
		if m.CheckCSRF(a, c) {
			t.Fatalf("%s accepted", name)
		}
	}
	if m.CheckCSRF("bad", "") {
		t.Fatal("malformed token with empty CSRF accepted")
	}
}
