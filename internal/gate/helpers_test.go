package gate

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/gatehouse-auth/gatehouse/internal/allow"
	"github.com/gatehouse-auth/gatehouse/internal/assertion"
	"github.com/gatehouse-auth/gatehouse/internal/headers"
	"github.com/gatehouse-auth/gatehouse/internal/keys"
	"github.com/gatehouse-auth/gatehouse/internal/loginstate"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
	"github.com/gatehouse-auth/gatehouse/internal/publicpath"
	"github.com/gatehouse-auth/gatehouse/internal/redirect"
	"github.com/gatehouse-auth/gatehouse/internal/session"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

const (
	testSecret = "gate-test-secret-0123456789abcdef0123456789abcdef"
	testOrigin = "https://app.example.com"
	testCookie = "__Host-gatehouse"
)

// newTestGate builds a Gate as module.Handler does, on the memory store,
// with one provider "corp" whose login is auth, and a logger whose
// entries the test can read.
func newTestGate(t *testing.T, auth provider.Provider, with ...func(*Options)) (*Gate, *observer.ObservedLogs) {
	t.Helper()
	ring, err := keys.Derive(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := assertion.New(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewMemory()
	policy, _ := allow.New(nil)
	pub, _ := publicpath.New([]string{"/public/*"})
	redirects, _ := redirect.New(nil)
	ext, _ := url.Parse(testOrigin)
	core, logs := observer.New(zapcore.DebugLevel)
	opts := Options{
		Prefix:      "/.gatehouse",
		KeyPrefix:   "gatehouse:",
		Store:       st,
		Sessions:    session.NewManager(session.Options{Store: st, Ring: ring}),
		States:      loginstate.New(st, ring, "gatehouse:"),
		Providers:   []Provider{{Name: "corp", Label: "Corp SSO", Auth: auth, Timeout: time.Second}},
		Policy:      policy,
		Public:      pub,
		Redirects:   redirects,
		Headers:     headers.New(headers.Defaults()),
		Cookie:      Cookie{Name: testCookie, SameSite: http.SameSiteLaxMode},
		Assertion:   signer,
		Logger:      zap.New(core),
		ExternalURL: ext,
	}
	for _, f := range with {
		f(&opts)
	}
	g, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Wait)
	return g, logs
}

// newRequest builds a request as Caddy's server hands it to a handler,
// from a browser (html) or an API client.
func newRequest(method, target string, html bool, cookies ...*http.Cookie) *http.Request {
	r := httptest.NewRequest(method, testOrigin+target, nil)
	if html {
		r.Header.Set("Accept", "text/html,*/*;q=0.8")
	} else {
		r.Header.Set("Accept", "application/json")
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	ctx := context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{})
	ctx = context.WithValue(ctx, caddyhttp.ExtraLogFieldsCtxKey, new(caddyhttp.ExtraLogFields))
	r = r.WithContext(ctx)
	repl := caddyhttp.NewTestReplacer(r)
	return r.WithContext(context.WithValue(ctx, caddy.ReplacerCtxKey, repl))
}

// upstream is a next handler that counts the requests reaching it.
type upstream struct{ hits int }

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) error {
	u.hits++
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// serve runs one request through g and returns the response.
func serve(t *testing.T, g *Gate, r *http.Request, next caddyhttp.Handler) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	if err := g.ServeHTTP(w, r, next); err != nil {
		t.Fatalf("ServeHTTP returned %v", err)
	}
	return w
}

// startLogin starts a login with corp and returns the browser binding
// cookie and the state sent to the provider.
func startLogin(t *testing.T, g *Gate, rd string) (*http.Cookie, string) {
	t.Helper()
	w := serve(t, g, newRequest(http.MethodGet, "/.gatehouse/login/corp?rd="+url.QueryEscape(rd), true), &upstream{})
	if w.Code != http.StatusFound {
		t.Fatalf("login start: %d %s", w.Code, w.Body)
	}
	loc, err := url.Parse(w.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == g.BindingCookieName() {
			return c, loc.Query().Get("state")
		}
	}
	t.Fatalf("login start set no binding cookie: %v", w.Header()["Set-Cookie"])
	return nil, ""
}

// sessionCookieSet reports whether w sets a (non-deleting) session cookie.
func sessionCookieSet(w *httptest.ResponseRecorder) bool {
	for _, c := range w.Header()["Set-Cookie"] {
		if strings.HasPrefix(c, testCookie+"=") && !strings.Contains(c, "Max-Age=0") {
			return true
		}
	}
	return false
}

// stubAuth is a provider whose answers a test chooses.
type stubAuth struct {
	authErr     error
	exchangeErr error
	authPanic   any
	exchPanic   any
	refreshPanc any
	revokePanic any
}

func (s *stubAuth) AuthURL(_ context.Context, redirectURI, state, _, _ string) (string, error) {
	if s.authPanic != nil {
		panic(s.authPanic)
	}
	if s.authErr != nil {
		return "", s.authErr
	}
	return "https://idp.example.com/authorize?state=" + url.QueryEscape(state) + "&redirect_uri=" + url.QueryEscape(redirectURI), nil
}

func (s *stubAuth) Exchange(context.Context, string, string, string, string) (*provider.Identity, *provider.Tokens, error) {
	if s.exchPanic != nil {
		panic(s.exchPanic)
	}
	if s.exchangeErr != nil {
		return nil, nil, s.exchangeErr
	}
	return &provider.Identity{Subject: "1", Username: "alice"}, &provider.Tokens{AccessToken: "at"}, nil
}

func (s *stubAuth) Refresh(context.Context, string) (*provider.Tokens, error) {
	if s.refreshPanc != nil {
		panic(s.refreshPanc)
	}
	return &provider.Tokens{AccessToken: "at2", Expiry: time.Now().Add(time.Hour)}, nil
}

func (s *stubAuth) Revoke(context.Context, *provider.Tokens) error {
	if s.revokePanic != nil {
		panic(s.revokePanic)
	}
	return nil
}

func dumpLogs(t *testing.T, logs *observer.ObservedLogs) {
	for _, e := range logs.All() {
		t.Logf("%s %s %v", e.Level, e.Message, e.ContextMap())
	}
}
