package session

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/identity"
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
	m.Seen(ctx, tok, s)
	if cs.sets.Load() != before {
		t.Fatal("Seen wrote within SeenEvery")
	}
	clock = clock.Add(2 * time.Second)
	m.Seen(ctx, tok, s)
	got, _ := m.Load(ctx, tok)
	if !got.LastSeenAt.After(created) || s.LastSeenAt != created {
		t.Fatalf("LastSeenAt %v (was %v); the caller's copy %v must stay", got.LastSeenAt, created, s.LastSeenAt)
	}
}
