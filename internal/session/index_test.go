package session

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/identity"
	"github.com/gatehouse-auth/gatehouse/internal/store/storetest"
)

// cachedManager is a manager over a memory store with a session cache of
// ttl (0: none).
func cachedManager(t *testing.T, ttl time.Duration) *Manager {
	t.Helper()
	m := NewManager(Options{Store: storetest.NewMemory(t), Ring: testRing(t, secret), KeyPrefix: "t:", CacheTTL: ttl})
	t.Cleanup(m.Close)
	return m
}

// Ending a session drops it from its user's index, so that the index of a
// user who signs in and out over and over holds only live sessions.
func TestDeleteUnindexes(t *testing.T) {
	for _, cacheTTL := range []time.Duration{0, time.Minute} {
		t.Run("cache "+cacheTTL.String(), func(t *testing.T) {
			m := cachedManager(t, cacheTTL)
			ctx := context.Background()
			toks := createSessions(t, m, 3, "corp:1")
			if _, err := m.Load(ctx, toks[0]); err != nil { // cached, when there is a cache
				t.Fatal(err)
			}
			for _, tok := range toks[:2] {
				if err := m.Delete(ctx, tok); err != nil {
					t.Fatal(err)
				}
			}
			keys, err := m.Keys(ctx, "corp:1")
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != 1 || keys[0] != "t:session:"+m.ID(toks[2]) {
				t.Fatalf("index after ending 2 of 3 sessions: %v", keys)
			}
			// Ending the last one removes the index; ending one twice is harmless.
			for _, tok := range toks[1:] {
				if err := m.Delete(ctx, tok); err != nil {
					t.Fatal(err)
				}
			}
			if keys, _ := m.Keys(ctx, "corp:1"); len(keys) != 0 {
				t.Fatalf("index after ending every session: %v", keys)
			}
		})
	}
}

// A request that loaded a session before a logout and writes it back
// after (a token refresh, a GitHub re-check) does not bring it back: the
// logout is final, and the index stays clean. UpdateAll skips it too.
func TestUpdateAfterLogoutDoesNotRevive(t *testing.T) {
	for _, cacheTTL := range []time.Duration{0, time.Minute} {
		t.Run("cache "+cacheTTL.String(), func(t *testing.T) {
			m := cachedManager(t, cacheTTL)
			ctx := context.Background()
			tok, err := m.Create(ctx, &Session{User: identity.User{UserID: "corp:1", Login: "alice"}})
			if err != nil {
				t.Fatal(err)
			}
			s, err := m.Load(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Delete(ctx, tok); err != nil {
				t.Fatal(err)
			}
			s.Login = "written-back"
			if err := m.Update(ctx, tok, s); !errors.Is(err, ErrNoSession) {
				t.Fatalf("Update after logout: %v, want ErrNoSession", err)
			}
			if got, err := m.Load(ctx, tok); !errors.Is(err, ErrNoSession) {
				t.Fatalf("the logged-out session came back: %+v, %v", got, err)
			}
			if keys, _ := m.Keys(ctx, "corp:1"); len(keys) != 0 {
				t.Fatalf("index after a refused write-back: %v", keys)
			}
			// A live session is still updated.
			live, err := m.Create(ctx, &Session{User: identity.User{UserID: "corp:1", Login: "alice"}})
			if err != nil {
				t.Fatal(err)
			}
			ls, _ := m.Load(ctx, live)
			ls.Login = "alice2"
			if err := m.Update(ctx, live, ls); err != nil {
				t.Fatal(err)
			}
			if got, err := m.Load(ctx, live); err != nil || got.Login != "alice2" {
				t.Fatalf("live session after Update: %+v, %v", got, err)
			}
		})
	}
}

// Sessions that ended by themselves (their store key expired) leave the
// index at the user's next login, so it does not grow with every login of
// a user who never signs out.
func TestCreatePrunesEndedSessions(t *testing.T) {
	m, _, mem := newManager(t, secret)
	ctx := context.Background()
	toks := createSessions(t, m, 3, "corp:1")
	// The first two expire (idle timeout): their keys vanish from the store.
	for _, tok := range toks[:2] {
		if err := mem.Delete(ctx, "t:session:"+m.ID(tok)); err != nil {
			t.Fatal(err)
		}
	}
	if keys, _ := m.Keys(ctx, "corp:1"); len(keys) != 3 {
		t.Fatalf("index before the next login: %v", keys)
	}
	next, err := m.Create(ctx, &Session{User: identity.User{UserID: "corp:1"}})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := m.Keys(ctx, "corp:1")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"t:session:" + m.ID(toks[2]): true, "t:session:" + m.ID(next): true}
	if len(keys) != 2 || !want[keys[0]] || !want[keys[1]] {
		t.Fatalf("index after the next login: %v, want the two live sessions", keys)
	}
}
