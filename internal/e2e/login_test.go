package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
)

const cookieName = "__Host-gatehouse"

// login signs b in through the whole flow starting at path and returns the
// final response's upstream echo and the session token.
func login(t *testing.T, b *browsertest.Browser, path string) (testsupport.Echo, string) {
	t.Helper()
	resp, visited := b.Follow(site + path)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login ended with %d after %v: %s", resp.StatusCode, visited, body)
	}
	var echo testsupport.Echo
	if err := json.Unmarshal(body, &echo); err != nil {
		t.Fatalf("final page is not the upstream: %v: %s", err, body)
	}
	tok := b.Cookie(site, cookieName)
	if tok == "" {
		t.Fatal("no session cookie after login")
	}
	return echo, tok
}

// forbiddenLogin signs in from path in a new browser and fails (naming
// what) unless the sign-in ends on 403, a user the rules deny; it returns
// the browser and its session token.
func forbiddenLogin(t *testing.T, path, what string) (*browsertest.Browser, string) {
	t.Helper()
	b := browsertest.NewBrowser(t)
	resp, _ := b.Follow(site + path)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("%s: %d, want 403", what, resp.StatusCode)
	}
	return b, b.Cookie(site, cookieName)
}

func get(t *testing.T, rawURL string, hdr map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, rawURL, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestUnauthenticated(t *testing.T) {
	load(t, config{})
	t.Run("browser is sent to login with the original URL", func(t *testing.T) {
		resp := browsertest.NewBrowser(t).Get(site + "/reports?year=2026")
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("status %d, want 302", resp.StatusCode)
		}
		want := "/.gatehouse/login?rd=" + url.QueryEscape("/reports?year=2026")
		if got := resp.Header.Get("Location"); got != want {
			t.Fatalf("Location %q, want %q", got, want)
		}
	})
	t.Run("API client gets 401 JSON with login_url", func(t *testing.T) {
		resp := get(t, site+"/api/items", map[string]string{"Accept": "application/json"})
		defer resp.Body.Close()
		var body map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&body)
		if resp.StatusCode != http.StatusUnauthorized || body["error"] != "unauthenticated" || !strings.HasPrefix(body["login_url"], "/.gatehouse/login?rd=") {
			t.Fatalf("status %d body %v", resp.StatusCode, body)
		}
	})
	t.Run("POST from a browser is not redirected", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, site+"/form", strings.NewReader("a=1"))
		req.Header.Set("Accept", "text/html")
		resp, _ := testsupport.Do(t, req)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", resp.StatusCode)
		}
	})
	if upstream.Hits() != 0 {
		t.Fatalf("unauthenticated requests reached the upstream %d times", upstream.Hits())
	}
}

func TestLoginHeadersReachUpstream(t *testing.T) {
	both(t, "", func(t *testing.T) {
		b := browsertest.NewBrowser(t)
		echo, _ := login(t, b, "/private?x=1")
		if echo.URI != "/private?x=1" {
			t.Fatalf("landed on %q, want the original URL", echo.URI)
		}
		h := http.Header(echo.Headers)
		wantHeaders(t, h, map[string]string{
			"X-Auth-User":     "alice",
			"X-Auth-Email":    "alice@example.com",
			"X-Auth-Provider": "corp",
			"X-Auth-Name":     "Alice",
		})
		if id := h.Get("X-Auth-User-Id"); !strings.HasPrefix(id, "corp:") || len(id) <= len("corp:") {
			t.Errorf("X-Auth-User-Id = %q", id)
		}
		if c := h.Get("Cookie"); strings.Contains(c, "gatehouse") {
			t.Errorf("Gatehouse cookies reached the upstream: %q", c)
		}
	})
}

func TestAuthorizeRequestIsStrict(t *testing.T) {
	load(t, config{})
	b := browsertest.NewBrowser(t)
	resp, loc := b.Hop(site + "/.gatehouse/login/corp?rd=/x")
	if loc == nil || !strings.HasPrefix(loc.String(), idp.URL+"/authorize") {
		t.Fatalf("login start: %d to %v", resp.StatusCode, loc)
	}
	q := loc.Query()
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) < 43 {
		t.Errorf("PKCE missing or weak: %v", q)
	}
	if q.Get("nonce") == "" || len(q.Get("state")) < 32 {
		t.Errorf("nonce or state missing: %v", q)
	}
	if q.Get("redirect_uri") != site+"/.gatehouse/callback/corp" {
		t.Errorf("redirect_uri %q", q.Get("redirect_uri"))
	}
	var binding *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-gatehouse_login" {
			binding = c
		}
	}
	if binding == nil || !binding.HttpOnly || !binding.Secure || binding.MaxAge != 600 || binding.SameSite != http.SameSiteLaxMode {
		t.Errorf("browser binding cookie: %+v", binding)
	}
}

func TestRedirectURIIgnoresClientHost(t *testing.T) {
	load(t, config{})
	for name, hdr := range map[string]map[string]string{
		"X-Forwarded-Host": {"X-Forwarded-Host": "evil.com", "X-Forwarded-Proto": "https"},
		"Forwarded":        {"Forwarded": "host=evil.com;proto=https"},
	} {
		t.Run(name, func(t *testing.T) {
			resp := get(t, site+"/.gatehouse/login/corp", hdr)
			resp.Body.Close()
			loc, _ := resp.Location()
			if loc == nil || loc.Query().Get("redirect_uri") != site+"/.gatehouse/callback/corp" {
				t.Fatalf("redirect_uri follows the client: %v", loc)
			}
		})
	}
	t.Run("Host header of another site", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, site+"/.gatehouse/login/corp", nil)
		req.Host = "evil.com"
		resp, _ := testsupport.Do(t, req)
		if loc := resp.Header.Get("Location"); strings.Contains(loc, "evil.com") || resp.StatusCode == http.StatusFound {
			t.Fatalf("Host: evil.com got %d Location %q", resp.StatusCode, loc)
		}
	})
}

func TestSessionCookieFlags(t *testing.T) {
	load(t, config{})
	// Walk the flow hop by hop to see the callback's own Set-Cookie.
	b2 := browsertest.NewBrowser(t)
	_, loc := b2.Hop(site + "/.gatehouse/login/corp")
	_, cb := b2.Hop(loc.String()) // the IdP (auto login) redirects to the callback
	r3, _ := b2.Hop(cb.String())
	var sc *http.Cookie
	for _, c := range r3.Cookies() {
		if c.Name == cookieName {
			sc = c
		}
	}
	if sc == nil {
		t.Fatalf("callback set no session cookie: %v", r3.Header["Set-Cookie"])
	}
	raw := strings.Join(r3.Header["Set-Cookie"], "\n")
	for _, attr := range []string{"HttpOnly", "Secure", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(raw, attr) {
			t.Errorf("session cookie lacks %s: %s", attr, raw)
		}
	}
	if strings.Contains(strings.ToLower(raw), "domain=") {
		t.Errorf("session cookie has a Domain: %s", raw)
	}
	if len(sc.Value) != 64 {
		t.Errorf("session token length %d", len(sc.Value))
	}

	// A Domain only when one is configured (and then not a __Host- name).
	load(t, config{extra: "cookie {\n\t\t\tdomain example.test\n\t\t}"})
	b3 := browsertest.NewBrowser(t)
	cb3 := startLogin(t, b3, "/")
	r4 := b3.Get(cb3.String())
	r4.Body.Close()
	raw = strings.Join(r4.Header["Set-Cookie"], "\n")
	if !strings.Contains(raw, "__Secure-gatehouse=") || !strings.Contains(raw, "Domain=example.test") ||
		!strings.Contains(raw, "HttpOnly") || !strings.Contains(raw, "Secure") || !strings.Contains(raw, "SameSite=Lax") {
		t.Errorf("session cookie with a configured domain: %s", raw)
	}
}

// The identity is also published as Caddy placeholders, under the names
// Caddy's own authentication handler uses.
func TestPlaceholders(t *testing.T) {
	load(t, config{site: `request_header X-Placeholders "{http.auth.user.login}|{http.auth.user.email}|{http.auth.user.provider}|{http.auth.user.name}|{http.auth.user.id}"`})
	echo, _ := login(t, browsertest.NewBrowser(t), "/")
	got := http.Header(echo.Headers).Get("X-Placeholders")
	id := http.Header(echo.Headers).Get("X-Auth-User-Id")
	if want := "alice|alice@example.com|corp|Alice|" + id; got != want || id == "" {
		t.Fatalf("placeholders = %q, want %q", got, want)
	}
}
