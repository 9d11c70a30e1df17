package gate

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/identity"
	"github.com/gatehouse-auth/gatehouse/internal/lock"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// A session's last use is written under the lock a token refresh takes
// (both rewrite the whole session): while another instance holds it, the
// write waits and then gives up, and it lands once the lock is free.
func TestSeenWaitsForTheRefreshLock(t *testing.T) {
	saved := seenBudget
	seenBudget = 300 * time.Millisecond
	defer func() { seenBudget = saved }()
	g, _ := newTestGate(t, &stubAuth{})
	ctx := context.Background()
	tok, err := g.Sessions.Create(ctx, &session.Session{User: identity.User{UserID: "corp:1", Provider: "corp"}, Host: "app.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	s, _ := g.Sessions.Load(ctx, tok)
	s.LastSeenAt = old
	if err := g.Sessions.Update(ctx, tok, s); err != nil {
		t.Fatal(err)
	}
	seen := func() time.Time {
		s, err := g.Sessions.Reload(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		return s.LastSeenAt
	}
	l, err := lock.Acquire(ctx, g.Store, "gatehouse:lock:refresh:"+g.Sessions.ID(tok), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	get := func() {
		r := newRequest(http.MethodGet, "/app", false, &http.Cookie{Name: testCookie, Value: tok})
		if w := serve(t, g, r, &upstream{}); w.Code >= 300 {
			t.Fatalf("request: %d %s", w.Code, w.Body)
		}
		g.Wait()
	}
	get()
	if !seen().Equal(old) {
		t.Fatal("the last use was written while a refresh held the session's lock")
	}
	_ = l.Release(ctx)
	get()
	if !seen().After(old) {
		t.Fatal("the last use was not written once the lock was free")
	}
}
