package session

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/identity"
	"github.com/gatehouse-auth/gatehouse/internal/keys"
	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/store/storetest"
)

// A user's sessions are listed by handle, newest use first; one can be
// ended by its handle (only by its owner), the others all at once.
func TestListEndAndEndOthers(t *testing.T) {
	m, _, _ := newManager(t, secret)
	ctx := context.Background()
	clock := time.Now()
	m.now = func() time.Time { return clock }
	var toks []string
	for i := range 3 {
		clock = clock.Add(time.Minute)
		tok, err := m.Create(ctx, &Session{User: identity.User{UserID: "corp:1", Provider: "corp"}, IP: "192.0.2." + string(rune('1'+i))})
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
	}
	other, _ := m.Create(ctx, &Session{User: identity.User{UserID: "corp:2", Provider: "corp"}})

	list, err := m.List(ctx, "corp:1")
	if err != nil || len(list) != 3 {
		t.Fatalf("List = %d sessions, %v; want 3", len(list), err)
	}
	if list[0].Handle != m.Handle(toks[2]) || list[2].Handle != m.Handle(toks[0]) {
		t.Fatal("not the most recent first")
	}
	for _, l := range list {
		if len(l.Handle) != handleLen || strings.Contains(toks[0]+toks[1]+toks[2], l.Handle) || strings.Contains(l.key, l.Handle) {
			t.Fatalf("handle %q: not a public name of its own", l.Handle)
		}
	}

	// Another user's handle ends nothing.
	if s, err := m.End(ctx, "corp:1", m.Handle(other)); s != nil || err != nil {
		t.Fatalf("End of another user's session = %v, %v", s, err)
	}
	if _, err := m.Load(ctx, other); err != nil {
		t.Fatalf("the other user's session: %v", err)
	}
	if s, err := m.End(ctx, "corp:1", m.Handle(toks[1])); s == nil || err != nil {
		t.Fatalf("End = %v, %v", s, err)
	}
	if _, err := m.Load(ctx, toks[1]); err != ErrNoSession {
		t.Fatalf("ended session loads: %v", err)
	}
	ended, err := m.EndOthers(ctx, "corp:1", toks[2])
	if err != nil || len(ended) != 1 {
		t.Fatalf("EndOthers = %d, %v; want 1", len(ended), err)
	}
	if _, err := m.Load(ctx, toks[0]); err != ErrNoSession {
		t.Fatalf("other session survived: %v", err)
	}
	if _, err := m.Load(ctx, toks[2]); err != nil {
		t.Fatalf("current session ended: %v", err)
	}
	if list, _ := m.List(ctx, "corp:1"); len(list) != 1 {
		t.Fatalf("%d sessions left, want 1", len(list))
	}
}

// The provider's session id ends exactly the sessions it started.
func TestEndIdPSession(t *testing.T) {
	m, _, _ := newManager(t, secret)
	ctx := context.Background()
	a, _ := m.Create(ctx, &Session{User: identity.User{UserID: "corp:1", Provider: "corp"}, IdPSession: "sid-a"})
	b, _ := m.Create(ctx, &Session{User: identity.User{UserID: "corp:1", Provider: "corp"}, IdPSession: "sid-b"})
	c, _ := m.Create(ctx, &Session{User: identity.User{UserID: "other:1", Provider: "other"}, IdPSession: "sid-a"})
	ended, err := m.EndIdPSession(ctx, "corp", "sid-a")
	if err != nil || len(ended) != 1 {
		t.Fatalf("EndIdPSession = %d, %v; want 1", len(ended), err)
	}
	if _, err := m.Load(ctx, a); err != ErrNoSession {
		t.Fatalf("session of sid-a: %v", err)
	}
	for _, tok := range []string{b, c} {
		if _, err := m.Load(ctx, tok); err != nil {
			t.Fatalf("a session of another provider session ended: %v", err)
		}
	}
	if ended, err := m.EndIdPSession(ctx, "corp", "unknown"); len(ended) != 0 || err != nil {
		t.Fatalf("unknown sid: %d, %v", len(ended), err)
	}
}

// With a user, the provider's session id ends only that user's sessions;
// the others stay indexed under it and a later logout naming them still
// finds them.
func TestEndIdPSessionOf(t *testing.T) {
	m, _, _ := newManager(t, secret)
	ctx := context.Background()
	mine, _ := m.Create(ctx, &Session{User: identity.User{UserID: "corp:1", Provider: "corp"}, IdPSession: "sid-a"})
	theirs, _ := m.Create(ctx, &Session{User: identity.User{UserID: "corp:2", Provider: "corp"}, IdPSession: "sid-a"})
	ended, err := m.EndIdPSessionOf(ctx, "corp", "sid-a", "corp:1")
	if err != nil || len(ended) != 1 || ended[0].UserID != "corp:1" {
		t.Fatalf("EndIdPSessionOf = %v, %v; want corp:1's session", ended, err)
	}
	if _, err := m.Load(ctx, mine); err != ErrNoSession {
		t.Fatalf("corp:1's session: %v", err)
	}
	if _, err := m.Load(ctx, theirs); err != nil {
		t.Fatalf("corp:2's session ended: %v", err)
	}
	if ended, err := m.EndIdPSessionOf(ctx, "corp", "sid-a", "corp:3"); len(ended) != 0 || err != nil {
		t.Fatalf("a user with no session of sid-a: %d, %v", len(ended), err)
	}
	if ended, err := m.EndIdPSession(ctx, "corp", "sid-a"); len(ended) != 1 || err != nil {
		t.Fatalf("EndIdPSession after: %d, %v; want corp:2's session", len(ended), err)
	}
	if _, err := m.Load(ctx, theirs); err != ErrNoSession {
		t.Fatalf("corp:2's session: %v", err)
	}
}

// Seen writes LastSeenAt at most every SeenEvery.
func TestSeen(t *testing.T) {
	m, cs, _ := newManager(t, secret)
	ctx := context.Background()
	clock := time.Now()
	m.now = func() time.Time { return clock }
	tok, _ := m.Create(ctx, &Session{User: identity.User{UserID: "corp:1"}})
	s, _ := m.Load(ctx, tok)
	created := s.LastSeenAt
	before := cs.sets.Load()
	clock = clock.Add(SeenEvery - time.Second)
	m.Seen(ctx, tok)
	if cs.sets.Load() != before || m.SeenDue(s) {
		t.Fatal("Seen wrote within SeenEvery")
	}
	clock = clock.Add(2 * time.Second)
	if !m.SeenDue(s) {
		t.Fatal("not due past SeenEvery")
	}
	m.Seen(ctx, tok)
	got, _ := m.Load(ctx, tok)
	if !got.LastSeenAt.After(created) || s.LastSeenAt != created {
		t.Fatalf("LastSeenAt %v (was %v); the caller's copy %v must stay", got.LastSeenAt, created, s.LastSeenAt)
	}
}

// After a rotation a session made under the previous secret loads, its
// CSRF token checks, and its record is sealed under the new secret when
// next written; without the previous secret the token is refused.
func TestSessionAcrossRotation(t *testing.T) {
	const newSecret = "a-new-secret-0123456789abcdef0123456789"
	old, _, mem := newManager(t, secret)
	ctx := context.Background()
	tok, err := old.Create(ctx, &Session{User: identity.User{UserID: "corp:1"}})
	if err != nil {
		t.Fatal(err)
	}
	csrf := old.CSRFToken(tok)
	ring, err := keys.Derive(newSecret, secret)
	if err != nil {
		t.Fatal(err)
	}
	rotated := NewManager(Options{Store: mem, Ring: ring, KeyPrefix: "t:", Lifetime: time.Hour, IdleTimeout: 10 * time.Minute})
	s, err := rotated.Load(ctx, tok)
	if err != nil || !rotated.CheckCSRF(tok, csrf) {
		t.Fatalf("after the rotation: %v, CSRF ok %v", err, rotated.CheckCSRF(tok, csrf))
	}
	if rotated.CSRFToken(tok) == csrf {
		t.Fatal("new CSRF tokens are still made under the previous secret")
	}
	if err := rotated.Update(ctx, tok, s); err != nil {
		t.Fatal(err)
	}
	pt, _ := parseToken(ring, tok)
	raw, _ := mem.Get(ctx, rotated.key(pt), 0)
	onlyNew := testRing(t, newSecret)
	if _, err := onlyNew.Open(raw, []byte(rotated.key(pt))); err != nil {
		t.Fatal("the record written after the rotation is not sealed under the new secret")
	}
	dropped := NewManager(Options{Store: mem, Ring: onlyNew, KeyPrefix: "t:"})
	if _, err := dropped.Load(ctx, tok); err != ErrMalformed || dropped.CheckCSRF(tok, csrf) {
		t.Fatalf("once the previous secret is dropped: %v", err)
	}
}

// A session created with an ExpiresAt earlier than the lifetime keeps it
// (a device's session ends with the session that approved it); a later
// one does not extend the lifetime; a past one is refused.
func TestCreateKeepsAnEarlierExpiry(t *testing.T) {
	m, _, _ := newManager(t, secret) // lifetime 1h
	ctx := context.Background()
	soon := time.Now().Add(10 * time.Minute).UTC().Truncate(time.Second)
	tok, err := m.Create(ctx, &Session{User: identity.User{UserID: "u"}, ExpiresAt: soon})
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := m.Load(ctx, tok); !s.ExpiresAt.Equal(soon) {
		t.Fatalf("ExpiresAt %v, want the earlier %v", s.ExpiresAt, soon)
	}
	tok, _ = m.Create(ctx, &Session{User: identity.User{UserID: "u"}, ExpiresAt: time.Now().Add(48 * time.Hour)})
	if s, _ := m.Load(ctx, tok); s.ExpiresAt.After(time.Now().Add(time.Hour + time.Second)) {
		t.Fatalf("a later ExpiresAt extended the lifetime: %v", s.ExpiresAt)
	}
	if _, err := m.Create(ctx, &Session{User: identity.User{UserID: "u"}, ExpiresAt: time.Now().Add(-time.Second)}); err != ErrNoSession {
		t.Fatalf("a past ExpiresAt: %v, want ErrNoSession", err)
	}
}

// membersHook runs hook once, right after the first read of a set: a
// login landing while sessions are being ended.
type membersHook struct {
	store.Store
	hook func()
}

func (h *membersHook) SetMembers(ctx context.Context, key string) ([]string, error) {
	m, err := h.Store.SetMembers(ctx, key)
	if h.hook != nil {
		f := h.hook
		h.hook = nil
		f()
	}
	return m, err
}

// Ending every session of a user leaves a session created meanwhile in
// the user's index, for the next ending (offboarding, back-channel
// logout) to find.
func TestEndAllKeepsASessionCreatedMeanwhile(t *testing.T) {
	mem := storetest.NewMemory(t)
	hs := &membersHook{Store: mem}
	ring := testRing(t, secret)
	m := NewManager(Options{Store: hs, Ring: ring, KeyPrefix: "t:"})
	other := NewManager(Options{Store: mem, Ring: ring, KeyPrefix: "t:"})
	ctx := context.Background()
	if _, err := m.Create(ctx, &Session{User: identity.User{UserID: "u"}}); err != nil {
		t.Fatal(err)
	}
	var late string
	hs.hook = func() {
		late, _ = other.Create(ctx, &Session{User: identity.User{UserID: "u"}})
	}
	if ended, err := m.EndAll(ctx, "u"); err != nil || len(ended) != 1 {
		t.Fatalf("EndAll = %d, %v; want 1", len(ended), err)
	}
	list, err := m.List(ctx, "u")
	if err != nil || len(list) != 1 || list[0].Handle != m.Handle(late) {
		t.Fatalf("after EndAll, the session created meanwhile is not listed: %d sessions, %v", len(list), err)
	}
}
