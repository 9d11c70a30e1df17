package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
)

// panicHandler is a test-only Caddy handler that panics: a buggy handler
// placed after gatehouse, on the way to the upstream. In a Caddyfile:
// e2e_panic [<matcher>], ordered before reverse_proxy.
type panicHandler struct{}

func init() {
	caddy.RegisterModule(panicHandler{})
	httpcaddyfile.RegisterHandlerDirective("e2e_panic", func(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
		h.Next()
		if h.NextArg() {
			return nil, h.ArgErr()
		}
		return panicHandler{}, nil
	})
	httpcaddyfile.RegisterDirectiveOrder("e2e_panic", httpcaddyfile.Before, "reverse_proxy")
}

func (panicHandler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "http.handlers.e2e_panic", New: func() caddy.Module { return new(panicHandler) }}
}

const downstreamPanic = "e2e: a handler after gatehouse panicked"

func (panicHandler) ServeHTTP(http.ResponseWriter, *http.Request, caddyhttp.Handler) error {
	panic(downstreamPanic)
}

// TestPanicDownstream: a handler after gatehouse panics on /boom. Caddy
// (net/http under it) recovers it: that one request gets no answer — the
// connection is closed, Gatehouse does not turn it into an auth error —
// and it is logged at error; the server keeps serving: the same session
// works on the next request, public paths and new logins too. An
// unauthenticated /boom never reaches the panicking handler.
func TestPanicDownstream(t *testing.T) {
	logFile := filepath.Join(t.TempDir(), "caddy.log")
	load(t, config{site: "e2e_panic /boom*", logTo: logFile})
	b := browsertest.NewBrowser(t)
	_, tok := login(t, b, "/private")

	// Without a session Gatehouse answers first: /boom is never reached.
	if r := get(t, site+"/boom", map[string]string{"Accept": "application/json"}); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unauthenticated /boom: %d, want 401", r.StatusCode)
	} else {
		r.Body.Close()
	}

	// With the session, the request reaches the panicking handler. A new
	// connection, so that Go's client does not retry the GET on another.
	once := &http.Client{Jar: b.Jar, Transport: &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodGet, site+"/boom", nil)
	req.Header.Set("Accept", "text/html")
	resp, err := once.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("the panicking request got an answer: %d %v", resp.StatusCode, resp.Header)
	}

	// The server is still up, and the session still works.
	for range 3 {
		r := b.Get(site + "/private")
		r.Body.Close()
		if r.StatusCode != http.StatusOK || b.Cookie(site, cookieName) != tok {
			t.Fatalf("after the panic: %d, session %q", r.StatusCode, b.Cookie(site, cookieName))
		}
	}
	if r := get(t, site+"/public/x", nil); r.StatusCode != http.StatusOK {
		t.Fatalf("public path after the panic: %d", r.StatusCode)
	} else {
		r.Body.Close()
	}
	login(t, browsertest.NewBrowser(t), "/after")

	logs, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	var line string
	for _, l := range strings.Split(string(logs), "\n") {
		if strings.Contains(l, "http: panic serving") {
			line = l
		}
	}
	if !strings.Contains(line, `"level":"error"`) || !strings.Contains(line, downstreamPanic) {
		t.Errorf("Caddy did not log the panic at error: %q", line)
	}
	if strings.Contains(string(logs), "panic in gatehouse") {
		t.Error("Gatehouse took the downstream panic for its own")
	}
	if strings.Contains(string(logs), tok) {
		t.Error("the session token was logged")
	}
}
