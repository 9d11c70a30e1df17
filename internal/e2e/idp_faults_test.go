package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/devidp"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
)

// faultIdP is a development OIDC provider of its own (not the shared idp),
// served behind a handler that can hold the requests to chosen paths —
// the IdP is slow — and whose listener can be closed and opened again on
// the same port — the IdP is down, then back.
type faultIdP struct {
	URL   string
	addr  string
	p     *devidp.Provider
	stall *testsupport.Stall

	mu  sync.Mutex
	srv *http.Server
}

func startFaultIdP(t *testing.T) *faultIdP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &faultIdP{addr: ln.Addr().String()}
	f.URL = "http://" + f.addr
	if f.p, err = devidp.New(devidp.Options{Issuer: f.URL}); err != nil {
		t.Fatal(err)
	}
	f.stall = testsupport.NewStall(f.p)
	f.stall.Max = 15 * time.Second
	if err := f.p.SetAutoLogin("alice"); err != nil {
		t.Fatal(err)
	}
	f.serve(ln)
	t.Cleanup(f.down)
	return f
}

func (f *faultIdP) serve(ln net.Listener) {
	srv := &http.Server{Handler: f.stall, ReadHeaderTimeout: 5 * time.Second}
	f.mu.Lock()
	f.srv = srv
	f.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// down closes the listener and every connection: connections are refused.
func (f *faultIdP) down() {
	f.mu.Lock()
	srv := f.srv
	f.mu.Unlock()
	_ = srv.Close()
}

// up listens on the same address again.
func (f *faultIdP) up(t *testing.T) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", f.addr); err == nil {
			f.serve(ln)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the IdP cannot listen on %s again: %v", f.addr, err)
}

// loadWithFaultIdP runs a site with the shared idp as provider corp, and
// two providers on f with a 1 s timeout: oidc "slow" and oauth2 "forge"
// (which reads the userinfo endpoint).
func loadWithFaultIdP(t *testing.T, f *faultIdP, logTo string) {
	t.Helper()
	load(t, config{logTo: logTo, extra: fmt.Sprintf(`provider oidc slow {
			issuer %[1]s
			client_id CLIENT_ID
			client_secret %[2]s
			timeout 1s
		}
		provider oauth2 forge {
			auth_url %[1]s/authorize
			token_url %[1]s/token
			userinfo_url %[1]s/userinfo
			client_id CLIENT_ID
			client_secret %[2]s
			scopes openid email profile
			claims {
				id sub
				login preferred_username
			}
			timeout 1s
		}`, f.URL, clientSecret)})
	if err := f.p.AddClient(devidp.Client{ID: clientID, Secret: clientSecret, RedirectURIs: []string{
		site + "/.gatehouse/callback/slow", site + "/.gatehouse/callback/forge",
	}}); err != nil {
		t.Fatal(err)
	}
}

// getAs GETs rawURL with b's cookies, as an API client when accept is
// JSON, and returns the status, headers and body, and how long it took.
func getAs(t *testing.T, b *browsertest.Browser, rawURL, accept string) (*http.Response, string, time.Duration) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, rawURL, nil)
	req.Header.Set("Accept", accept)
	start := time.Now()
	resp, err := b.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body), time.Since(start)
}

const (
	acceptHTML = "text/html,application/xhtml+xml,*/*;q=0.8"
	acceptJSON = "application/json"
)

// wantNotAnswering checks the "not answering" answer: status, a page for
// browsers (heading, code, a link that starts a new login with name) or
// JSON for API clients, no session cookie, quickly. It returns the retry
// link.
func wantNotAnswering(t *testing.T, resp *http.Response, body string, took time.Duration, status int, code, name string, html bool) string {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, body)
	}
	if took > 5*time.Second {
		t.Errorf("answered after %v with a 1s timeout", took)
	}
	if hasCookie(resp.Header.Values("Set-Cookie"), cookieName) {
		t.Errorf("a session cookie was set: %v", resp.Header.Values("Set-Cookie"))
	}
	prefix := "/.gatehouse/login/" + name + "?rd="
	if !html {
		var j map[string]string
		if err := json.Unmarshal([]byte(body), &j); err != nil {
			t.Fatalf("not JSON: %v: %s", err, body)
		}
		if j["error"] != code || j["message"] == "" || !strings.HasPrefix(j["login_url"], prefix) {
			t.Fatalf("JSON %v, want error %s and a login_url", j, code)
		}
		return j["login_url"]
	}
	if !strings.Contains(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(body, "The sign-in provider is not answering") || !strings.Contains(body, code) {
		t.Fatalf("not the page: %s", body)
	}
	i := strings.Index(body, `href="`+prefix)
	if i < 0 {
		t.Fatalf("no retry link to %s in the page: %s", prefix, body)
	}
	link := body[i+len(`href="`):]
	return strings.ReplaceAll(link[:strings.IndexByte(link, '"')], "&amp;", "&")
}

// TestIdPSlow: an IdP slower than the provider's timeout (1 s) at any
// login step — discovery when the login starts, the token exchange or the
// userinfo read at the callback — ends the login within about the timeout
// on a 504 provider_timeout page (JSON for API clients), with no session;
// sessions already open and public paths keep working meanwhile, and the
// page's retry link signs the user in once the IdP answers again.
func TestIdPSlow(t *testing.T) {
	f := startFaultIdP(t)
	for _, tt := range []struct {
		name, provider, path string
		atStart              bool // the slow call is discovery, when the login starts
	}{
		{"token endpoint", "slow", "/token", false},
		{"userinfo endpoint", "forge", "/userinfo", false},
		{"discovery", "slow", "/.well-known/openid-configuration", true},
	} {
		for _, html := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/html=%v", tt.name, html), func(t *testing.T) {
				loadWithFaultIdP(t, f, "")
				accept := acceptHTML
				if !html {
					accept = acceptJSON
				}
				signedIn := browsertest.NewBrowser(t)
				login(t, signedIn, "/.gatehouse/login/corp?rd=/private")
				upstream.Reset()

				b := browsertest.NewBrowser(t)
				f.stall.Hold(tt.path)
				defer f.stall.Release(tt.path)
				target := site + "/.gatehouse/login/" + tt.provider + "?rd=" + url.QueryEscape("/private")
				if !tt.atStart {
					target = toCallback(t, b, tt.provider, "/private").String()
				}
				resp, body, took := getAs(t, b, target, accept)
				retry := wantNotAnswering(t, resp, body, took, http.StatusGatewayTimeout, "provider_timeout", tt.provider, html)
				if b.Cookie(site, cookieName) != "" || upstream.Hits() != 0 {
					t.Fatalf("session %q, upstream hits %d", b.Cookie(site, cookieName), upstream.Hits())
				}

				// Meanwhile Caddy serves the open session and public paths.
				if r := signedIn.Get(site + "/private"); r.StatusCode != http.StatusOK {
					t.Errorf("an open session got %d while the IdP was slow", r.StatusCode)
				} else {
					r.Body.Close()
				}
				if r := get(t, site+"/public/x", nil); r.StatusCode != http.StatusOK {
					t.Errorf("a public path got %d", r.StatusCode)
				} else {
					r.Body.Close()
				}

				if tt.atStart {
					return // discovery failures are retried after 5s: TestIdPDown covers the way back
				}
				f.stall.Release(tt.path)
				echo, _ := login(t, b, retry)
				if echo.URI != "/private" || http.Header(echo.Headers).Get("X-Auth-Provider") != tt.provider {
					t.Fatalf("after the retry: landed on %q as %q", echo.URI, http.Header(echo.Headers).Get("X-Auth-Provider"))
				}
			})
		}
	}
}

// TestIdPDown: with the IdP's listener closed, starting a login answers a
// 502 provider_unavailable page at once (JSON for API clients), logged at
// warn with the provider's name and the cause and no secret; Caddy keeps
// serving public paths and open sessions; when the IdP listens again,
// logins work without restarting Caddy.
func TestIdPDown(t *testing.T) {
	f := startFaultIdP(t)
	logFile := filepath.Join(t.TempDir(), "caddy.log")
	loadWithFaultIdP(t, f, logFile)
	signedIn := browsertest.NewBrowser(t)
	login(t, signedIn, "/.gatehouse/login/corp?rd=/private")

	f.down()
	start := site + "/.gatehouse/login/slow?rd=" + url.QueryEscape("/private")
	b := browsertest.NewBrowser(t)
	resp, body, took := getAs(t, b, start, acceptHTML)
	wantNotAnswering(t, resp, body, took, http.StatusBadGateway, "provider_unavailable", "slow", true)
	resp, body, took = getAs(t, b, start, acceptJSON)
	wantNotAnswering(t, resp, body, took, http.StatusBadGateway, "provider_unavailable", "slow", false)
	if b.Cookie(site, cookieName) != "" {
		t.Fatal("a session cookie was set")
	}

	// The rest of the site is unaffected.
	if r := get(t, site+"/public/x", nil); r.StatusCode != http.StatusOK {
		t.Errorf("a public path got %d with the IdP down", r.StatusCode)
	} else {
		r.Body.Close()
	}
	if r := signedIn.Get(site + "/private"); r.StatusCode != http.StatusOK {
		t.Errorf("an open session got %d with the IdP down", r.StatusCode)
	} else {
		r.Body.Close()
	}

	// The IdP comes back: a failed discovery is retried after 5 s.
	f.up(t)
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := b.Get(start)
		r.Body.Close()
		if r.StatusCode == http.StatusFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("login start still answers %d after the IdP came back", r.StatusCode)
		}
		time.Sleep(250 * time.Millisecond)
	}
	echo, _ := login(t, b, "/.gatehouse/login/slow?rd=/private")
	if echo.URI != "/private" {
		t.Fatalf("landed on %q", echo.URI)
	}

	logs, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, line := range strings.Split(string(logs), "\n") {
		if strings.Contains(line, "login failed: the provider is not answering") {
			found = true
			if !strings.Contains(line, `"level":"warn"`) || !strings.Contains(line, `"provider":"slow"`) ||
				!strings.Contains(line, `"reason":"provider_unavailable"`) || !strings.Contains(line, "connection refused") {
				t.Errorf("log line lacks the level, provider, reason or cause: %s", line)
			}
		}
	}
	if !found {
		t.Error("the failure was not logged")
	}
	if strings.Contains(string(logs), clientSecret) || strings.Contains(string(logs), secret) {
		t.Error("the log holds a secret")
	}
}
