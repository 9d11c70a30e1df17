package gate

import (
	"context"
	"crypto/tls"
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

// The assertion kept with a session is reused only for requests it was
// made for: the same host over the same scheme and port. Without an
// external_url the issuer is the origin the request came in on, so a
// request over https gets its own, with that issuer.
func TestProjectionAssertionFollowsTheOrigin(t *testing.T) {
	g, _ := newTestGate(t, nil, func(o *Options) {
		ring, _ := keys.Derive(testSecret)
		o.Sessions = session.NewManager(session.Options{Store: o.Store, Ring: ring, CacheTTL: time.Minute})
		o.ExternalURL = nil
		o.SiteHosts = func(*http.Request) []string { return []string{"app.example.com"} }
	})
	tok, err := g.Sessions.Create(context.Background(), &session.Session{User: identity.User{UserID: "corp:1", Provider: "corp"}, Host: "app.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	issuer := func(secure bool) string {
		t.Helper()
		r := newRequest("GET", "/app", false, &http.Cookie{Name: testCookie, Value: tok})
		r.TLS = nil // httptest sets it for the https test origin
		if secure {
			r.TLS = &tls.ConnectionState{}
		}
		var jwt string
		if w := serve(t, g, r, upstreamFunc(func(r *http.Request) { jwt = r.Header.Get("X-Auth-Jwt") })); w.Code != http.StatusNoContent {
			t.Fatalf("status %d", w.Code)
		}
		iss, _ := assertionClaims(t, jwt)["iss"].(string)
		return iss
	}
	for range 2 { // the second time from the session's memo
		if iss := issuer(false); iss != "http://app.example.com" {
			t.Fatalf("over http: iss %q", iss)
		}
		if iss := issuer(true); iss != "https://app.example.com" {
			t.Fatalf("over https: iss %q", iss)
		}
	}
}
