package devidp

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

// logoutReceiver is a client's back-channel logout endpoint: it records
// the logout tokens it is sent and answers status.
type logoutReceiver struct {
	srv *httptest.Server

	mu     sync.Mutex
	tokens []string
	status int
}

func newLogoutReceiver(t *testing.T) *logoutReceiver {
	rc := &logoutReceiver{status: http.StatusOK}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "want a form POST", http.StatusBadRequest)
			return
		}
		_ = r.ParseForm()
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.tokens = append(rc.tokens, r.PostForm.Get("logout_token"))
		w.WriteHeader(rc.status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// took returns the tokens received since the last call.
func (rc *logoutReceiver) took() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := rc.tokens
	rc.tokens = nil
	return out
}

// verifyLogoutToken checks raw's signature against the provider's JWKS and
// returns its typ and claims.
func verifyLogoutToken(t *testing.T, p *Provider, raw string) (string, map[string]any) {
	t.Helper()
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("logout token: %v", err)
	}
	set := p.JWKS()
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		t.Fatalf("logout token kid %q is not published", jws.Signatures[0].Header.KeyID)
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("logout token does not verify: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	typ, _ := jws.Signatures[0].Protected.ExtraHeaders[jose.HeaderType].(string)
	return typ, claims
}

// idTokenSID returns the sid of tok's ID token.
func idTokenSID(t *testing.T, r *rp, raw string) string {
	t.Helper()
	idt, err := r.verifier.Verify(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Sid string `json:"sid"`
	}
	if err := idt.Claims(&c); err != nil || c.Sid == "" {
		t.Fatalf("ID token has no sid: %v", err)
	}
	return c.Sid
}

// Each sign-in is a session of its own, named by its ID tokens' sid; ending
// one sends the client's back-channel logout in the spec's form by default
// and in Ory Hydra's with SetHydraLogoutTokens, at EndSession and at the
// end-session endpoint; the other session stays.
func TestBackchannelLogout(t *testing.T) {
	rc := newLogoutReceiver(t)
	srv := startIdP(t, func(o *Options) {
		o.Clients[0].BackchannelLogoutURI = rc.srv.URL + "/bc"
	})
	p := srv.Provider
	_ = p.SetAutoLogin("alice")
	r := appRP(t, srv)
	first := r.login(t, srv, newFlow())
	second := r.login(t, srv, newFlow())
	sid1, sid2 := idTokenSID(t, r, idToken(t, first)), idTokenSID(t, r, idToken(t, second))
	if sid1 == sid2 {
		t.Fatal("two sign-ins share a sid")
	}
	// A refreshed ID token keeps its session's sid.
	refreshed, err := r.config.TokenSource(context.Background(), &oauth2.Token{RefreshToken: first.RefreshToken}).Token()
	if err != nil {
		t.Fatal(err)
	}
	if got := idTokenSID(t, r, idToken(t, refreshed)); got != sid1 {
		t.Fatalf("refreshed ID token's sid %q, want %q", got, sid1)
	}
	sessions := p.Sessions()
	if len(sessions) != 2 || sessions[0].ID != sid1 || sessions[1].ID != sid2 || sessions[0].Username != "alice" || sessions[0].ClientID != appID {
		t.Fatalf("sessions %+v", sessions)
	}

	// The spec's form.
	deliveries, err := p.EndSession(context.Background(), sid1)
	if err != nil || len(deliveries) != 1 || deliveries[0].Status != http.StatusOK || deliveries[0].Err != nil {
		t.Fatalf("EndSession = %+v, %v", deliveries, err)
	}
	got := rc.took()
	if len(got) != 1 {
		t.Fatalf("%d logout tokens received, want 1", len(got))
	}
	typ, c := verifyLogoutToken(t, p, got[0])
	alice, _ := p.User("alice")
	if typ != TypLogoutJWT || c["iss"] != srv.URL || c["aud"] != appID || c["sid"] != sid1 || c["sub"] != alice.Subject ||
		c["exp"].(float64)-c["iat"].(float64) != 120 || c["jti"] == "" || c["nonce"] != nil {
		t.Fatalf("logout token typ %q, claims %v", typ, c)
	}
	if ev, ok := c["events"].(map[string]any)[BackchannelLogoutEvent].(map[string]any); !ok || len(ev) != 0 {
		t.Fatalf("events %v", c["events"])
	}
	if s := p.Sessions(); len(s) != 1 || s[0].ID != sid2 {
		t.Fatalf("sessions after ending the first: %+v", s)
	}
	if _, err := p.EndSession(context.Background(), sid1); !errors.Is(err, ErrUnknownSession) {
		t.Fatalf("ending it again: %v", err)
	}

	// Ory Hydra's form, through the end-session endpoint.
	p.SetHydraLogoutTokens(true)
	resp := get(t, srv.URL+"/logout?"+url.Values{"id_token_hint": {idToken(t, second)}}.Encode())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	got = rc.took()
	if len(got) != 1 {
		t.Fatalf("%d logout tokens received at the end-session endpoint, want 1", len(got))
	}
	typ, c = verifyLogoutToken(t, p, got[0])
	keys := slices.Sorted(maps.Keys(c))
	if typ != TypJWT || strings.Join(keys, " ") != "aud events iat iss jti sid" || c["sid"] != sid2 {
		t.Fatalf("hydra logout token typ %q, claims %v", typ, c)
	}
	if aud, _ := c["aud"].([]any); len(aud) != 1 || aud[0] != appID {
		t.Fatalf("hydra aud %v", c["aud"])
	}
	if len(p.Sessions()) != 0 {
		t.Fatalf("sessions left: %+v", p.Sessions())
	}

	// A client's refusal is reported; a client without a URI is not told.
	rc.mu.Lock()
	rc.status = http.StatusBadRequest
	rc.mu.Unlock()
	r.login(t, srv, newFlow())
	deliveries, err = p.EndUserSessions(context.Background(), "ALICE")
	if err != nil || len(deliveries) != 1 || deliveries[0].Status != http.StatusBadRequest || deliveries[0].Err == nil {
		t.Fatalf("refused delivery: %+v, %v", deliveries, err)
	}
	spa := newRP(t, srv, spaID, "", spaRedirect)
	spa.login(t, srv, newFlow())
	rc.took()
	deliveries, err = p.EndSession(context.Background(), p.Sessions()[0].ID)
	if err != nil || len(deliveries) != 0 || len(rc.took()) != 0 {
		t.Fatalf("client without a URI: %+v, %v", deliveries, err)
	}
}

// The index page lists the sessions with a button that ends one, from the
// page itself only.
func TestIndexEndsSessions(t *testing.T) {
	rc := newLogoutReceiver(t)
	srv := startIdP(t, func(o *Options) { o.Clients[0].BackchannelLogoutURI = rc.srv.URL + "/bc" })
	_ = srv.Provider.SetAutoLogin("bob")
	appRP(t, srv).login(t, srv, newFlow())
	sid := srv.Provider.Sessions()[0].ID
	page := body(t, get(t, srv.URL+"/"))
	if !strings.Contains(page, `name="sid" value="`+sid+`"`) || !strings.Contains(page, rc.srv.URL+"/bc") {
		t.Fatalf("index page lacks the session or the back-channel URI:\n%s", page)
	}

	resp := postForm(t, srv.URL+"/sessions/end", url.Values{"sid": {sid}}, func(r *http.Request) {
		r.Header.Set("Origin", "https://evil.example")
	})
	if resp.StatusCode != http.StatusForbidden || len(srv.Provider.Sessions()) != 1 || len(rc.took()) != 0 {
		t.Fatalf("cross-site end: %d, %d sessions", resp.StatusCode, len(srv.Provider.Sessions()))
	}
	resp = postForm(t, srv.URL+"/sessions/end", url.Values{"sid": {sid}}, func(r *http.Request) {
		r.Header.Set("Origin", srv.URL)
		r.Header.Set("Sec-Fetch-Site", "same-origin")
	})
	if html := body(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(html, "Ended bob&#39;s session. Back-channel logout sent to app, which answered 200.") {
		t.Fatalf("end: %d\n%s", resp.StatusCode, html)
	}
	if len(srv.Provider.Sessions()) != 0 || len(rc.took()) != 1 {
		t.Fatal("the session did not end, or its client was not told")
	}
}
