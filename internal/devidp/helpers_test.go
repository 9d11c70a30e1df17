package devidp

import (
	"context"
	"crypto"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
)

// Registered clients used throughout the tests. The redirect URIs are never
// contacted: the test client does not follow redirects.
const (
	appID       = "app"
	appSecret   = "app-secret with spaces & symbols"
	appRedirect = "http://127.0.0.1:1/callback"
	spaID       = "spa"
	spaRedirect = "http://localhost:1/spa/callback"
)

// testKey returns an RSA key shared by the tests, so that each provider does
// not generate its own.
func testKey(testing.TB) crypto.Signer { return testsupport.RSAKey() }

// testClients are the clients every test provider registers.
func testClients() []Client {
	return []Client{
		{ID: appID, Secret: appSecret, RedirectURIs: []string{appRedirect, "http://127.0.0.1:1/other"}, Name: "Test App"},
		{ID: spaID, RedirectURIs: []string{spaRedirect}},
	}
}

// startIdP serves a provider with the test clients on a free port, after
// applying edit to its options.
func startIdP(t testing.TB, edit func(*Options)) *Server {
	t.Helper()
	opts := Options{Clients: testClients(), Key: testKey(t)}
	if edit != nil {
		edit(&opts)
	}
	srv, err := Listen("127.0.0.1:0", opts)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// noRedirects is an HTTP client that returns redirects instead of following
// them.
var noRedirects = &http.Client{
	Timeout: 10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// rp is a relying party configured from the provider's discovery document.
type rp struct {
	provider *oidc.Provider
	config   oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// newRP discovers srv and configures a relying party for client.
func newRP(t testing.TB, srv *Server, clientID, secret, redirect string) *rp {
	t.Helper()
	provider, err := oidc.NewProvider(context.Background(), srv.URL)
	if err != nil {
		t.Fatalf("oidc.NewProvider: %v", err)
	}
	return &rp{
		provider: provider,
		config: oauth2.Config{
			ClientID:     clientID,
			ClientSecret: secret,
			RedirectURL:  redirect,
			Endpoint:     provider.Endpoint(),
			Scopes:       []string{oidc.ScopeOpenID, "profile", "email", "groups"},
		},
		verifier: provider.Verifier(&oidc.Config{ClientID: clientID}),
	}
}

// appRP is a relying party for the confidential test client.
// aliceApp starts a provider that signs alice in at once and returns it
// with the confidential client app's relying party.
func aliceApp(t testing.TB) (*Server, *rp) {
	t.Helper()
	srv := startIdP(t, nil)
	_ = srv.Provider.SetAutoLogin("alice")
	return srv, appRP(t, srv)
}

func appRP(t testing.TB, srv *Server) *rp {
	return newRP(t, srv, appID, appSecret, appRedirect)
}

// flow is one authorization request's secrets.
type flow struct {
	state, nonce, verifier string
}

func newFlow() flow {
	return flow{state: oauth2.GenerateVerifier(), nonce: oauth2.GenerateVerifier(), verifier: oauth2.GenerateVerifier()}
}

// authURL is the authorization URL for f.
func (r *rp) authURL(f flow, extra ...oauth2.AuthCodeOption) string {
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.verifier), oidc.Nonce(f.nonce)}, extra...)
	return r.config.AuthCodeURL(f.state, opts...)
}

// get fetches u without following redirects.
func get(t testing.TB, u string) *http.Response {
	t.Helper()
	resp, err := noRedirects.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// postForm posts form to u without following redirects.
func postForm(t testing.TB, u string, form url.Values, edit func(*http.Request)) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if edit != nil {
		edit(req)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// body reads resp's body.
func body(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return string(b)
}

// decode reads resp's JSON body into a map.
func decode(t testing.TB, resp *http.Response) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("decoding JSON body (status %d): %v", resp.StatusCode, err)
	}
	return m
}

// callback checks that resp redirects to redirect and returns the query.
func callback(t testing.TB, resp *http.Response, redirect string) url.Values {
	t.Helper()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status = %d, want 302; body: %s", resp.StatusCode, body(t, resp))
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("bad Location: %v", err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirect {
		t.Fatalf("redirected to %s, want %s", got, redirect)
	}
	return loc.Query()
}

// code runs an authorization request for f as the auto-login user and
// returns the code.
func (r *rp) code(t testing.TB, srv *Server, f flow, extra ...oauth2.AuthCodeOption) string {
	t.Helper()
	q := callback(t, get(t, r.authURL(f, extra...)), r.config.RedirectURL)
	if q.Get("error") != "" {
		t.Fatalf("authorization error %s: %s", q.Get("error"), q.Get("error_description"))
	}
	if q.Get("state") != f.state {
		t.Fatalf("state = %q, want %q", q.Get("state"), f.state)
	}
	if q.Get("iss") != srv.URL {
		t.Fatalf("iss = %q, want %q", q.Get("iss"), srv.URL)
	}
	return q.Get("code")
}

// exchange redeems code for tokens with f's verifier.
func (r *rp) exchange(t testing.TB, code string, f flow) *oauth2.Token {
	t.Helper()
	tok, err := r.config.Exchange(context.Background(), code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return tok
}

// login signs in as the auto-login user and returns the tokens.
func (r *rp) login(t testing.TB, srv *Server, f flow) *oauth2.Token {
	t.Helper()
	return r.exchange(t, r.code(t, srv, f), f)
}

// idToken returns tok's raw ID token.
func idToken(t testing.TB, tok *oauth2.Token) string {
	t.Helper()
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		t.Fatal("token response has no id_token")
	}
	return raw
}

// loginIDPattern finds the parked sign-in request ID in the page.
var loginIDPattern = regexp.MustCompile(`name="login" value="([^"]+)"`)

// loginID extracts the sign-in request ID from a sign-in page.
func loginID(t testing.TB, page string) string {
	t.Helper()
	m := loginIDPattern.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no sign-in request ID in page:\n%s", page)
	}
	return m[1]
}

// tokenPost posts form to the token endpoint as the confidential client
// (HTTP Basic), unless edit changes the request.
func tokenPost(t testing.TB, srv *Server, form url.Values, edit func(*http.Request)) *http.Response {
	t.Helper()
	return postForm(t, srv.URL+"/token", form, func(r *http.Request) {
		r.SetBasicAuth(url.QueryEscape(appID), url.QueryEscape(appSecret))
		if edit != nil {
			edit(r)
		}
	})
}

// wantOAuthError checks resp is a JSON OAuth error.
func wantOAuthError(t testing.TB, resp *http.Response, status int, code string) {
	t.Helper()
	m := decode(t, resp)
	if resp.StatusCode != status || m["error"] != code {
		t.Fatalf("got %d %v (%v), want %d %s", resp.StatusCode, m["error"], m["error_description"], status, code)
	}
}

// clock is a settable clock for Options.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now()} }

// Now returns the clock's time.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
