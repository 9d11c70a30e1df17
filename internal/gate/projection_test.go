package gate

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/identity"
	"github.com/gatehouse-auth/gatehouse/internal/keys"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// With the session cache on, a session's headers and assertion are made
// once and served again; a change of identity (here a webhook's
// UpdateAll) is what the next request shows, headers and assertion alike.
func TestProjectionFollowsTheIdentity(t *testing.T) {
	g, _ := newTestGate(t, nil, func(o *Options) {
		ring, _ := keys.Derive(testSecret)
		o.Sessions = session.NewManager(session.Options{Store: o.Store, Ring: ring, CacheTTL: time.Minute})
	})
	ctx := context.Background()
	tok, err := g.Sessions.Create(ctx, &session.Session{User: identity.User{UserID: "corp:1", Login: "al", Provider: "corp", Groups: []string{"a"}}, Host: "app.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	cookie := &http.Cookie{Name: testCookie, Value: tok}
	seen := func() (groups, jwt string) {
		t.Helper()
		next := upstreamFunc(func(r *http.Request) { groups, jwt = r.Header.Get("X-Auth-Groups"), r.Header.Get("X-Auth-Jwt") })
		if w := serve(t, g, newRequest("GET", "/app", false, cookie), next); w.Code != http.StatusNoContent {
			t.Fatalf("status %d", w.Code)
		}
		return groups, jwt
	}
	g1, jwt1 := seen()
	g2, jwt2 := seen()
	if g1 != "a" || jwt1 == "" || g2 != g1 || jwt2 != jwt1 {
		t.Fatalf("repeated request: groups %q %q, jwt equal %v", g1, g2, jwt1 == jwt2)
	}
	if err := g.Sessions.UpdateAll(ctx, "corp:1", func(s *session.Session) { s.Groups = []string{"a", "b"} }); err != nil {
		t.Fatal(err)
	}
	g3, jwt3 := seen()
	if g3 != "a,b" || jwt3 == jwt1 {
		t.Fatalf("after the change: groups %q, new jwt %v", g3, jwt3 != jwt1)
	}
	claims := assertionClaims(t, jwt3)
	if gs, _ := claims["groups"].([]any); len(gs) != 2 {
		t.Fatalf("assertion after the change: %v", claims)
	}
}
