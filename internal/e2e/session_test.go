package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
)

// request sends a request with the session cookie tok (if any).
func request(t *testing.T, method, path, tok string, hdr map[string]string, body string) *http.Response {
	t.Helper()
	resp, err := tryRequest(method, site+path, tok, hdr, body)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// e2eClient sends the tests' requests as they are: no redirects followed,
// no cookie jar, and a bound on each.
var e2eClient = &http.Client{Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// tryRequest is request for any URL, returning the error (for
// goroutines other than the test's, which may not call t.Fatal).
func tryRequest(method, rawURL, tok string, hdr map[string]string, body string) (*http.Response, error) {
	req, err := http.NewRequest(method, rawURL, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	if tok != "" {
		req.AddCookie(&http.Cookie{Name: cookieName, Value: tok})
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return e2eClient.Do(req)
}

func status(t *testing.T, resp *http.Response) int {
	t.Helper()
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestSpoofedHeadersAreStripped(t *testing.T) {
	both(t, "", func(t *testing.T) {
		_, tok := login(t, browsertest.NewBrowser(t), "/")
		spoof := []string{"X-Auth-User", "x-auth-user", "X_Auth_User", "X-Auth_User", "X-AUTH-EMAIL", "X-Auth-Repos", "X-Auth-Jwt", "X-Auth-Groups", "X-Auth-User-Id"}
		for _, path := range []string{"/protected", "/public/page"} {
			req, _ := http.NewRequest(http.MethodGet, site+path, nil)
			req.AddCookie(&http.Cookie{Name: cookieName, Value: tok})
			req.AddCookie(&http.Cookie{Name: "theme", Value: "dark"})
			for _, h := range spoof {
				req.Header[h] = []string{"mallory", "mallory2"} // raw keys, duplicates
			}
			resp, _ := testsupport.Do(t, req)
			got := upstream.Last()
			if got == nil || resp.StatusCode != 200 {
				t.Fatalf("%s: status %d", path, resp.StatusCode)
			}
			for k, v := range got.Header {
				for _, x := range v {
					if strings.Contains(x, "mallory") {
						t.Errorf("%s: spoofed %s: %q reached the upstream", path, k, x)
					}
				}
			}
			if path == "/protected" && got.Header.Get("X-Auth-User") != "alice" {
				t.Errorf("X-Auth-User = %q", got.Header.Get("X-Auth-User"))
			}
			if path == "/public/page" && got.Header.Get("X-Auth-User") != "" {
				t.Errorf("public route got an identity: %q", got.Header.Get("X-Auth-User"))
			}
			if c := got.Header.Get("Cookie"); c != "theme=dark" {
				t.Errorf("%s: upstream Cookie = %q, want only theme=dark", path, c)
			}
		}
	})
}

func TestBearerToken(t *testing.T) {
	both(t, "", func(t *testing.T) {
		_, tok := login(t, browsertest.NewBrowser(t), "/")
		resp := request(t, "GET", "/api", "", map[string]string{"Authorization": "Bearer " + tok, "Accept": "application/json"}, "")
		if status(t, resp) != 200 {
			t.Fatalf("bearer token refused: %d", resp.StatusCode)
		}
		if a := upstream.Last().Header.Get("Authorization"); a != "" {
			t.Fatalf("the session token reached the upstream: %q", a)
		}
		// Someone else's bearer token (the app's own API keys) is not ours.
		resp = request(t, "GET", "/api", "", map[string]string{"Authorization": "Bearer app-api-key", "Accept": "application/json"}, "")
		if status(t, resp) != http.StatusUnauthorized {
			t.Fatalf("foreign bearer: %d", resp.StatusCode)
		}
	})
}

// Every login issues a new session id and ends the one the browser had:
// a session from an earlier login, or one an attacker planted in the
// browser before it signed in (session fixation). With Redis, the old
// session's key is deleted, not merely left unused.
func TestSessionRotatesOnLogin(t *testing.T) {
	both(t, "", func(t *testing.T) {
		withRedis := strings.HasSuffix(t.Name(), "/redis")
		gone := func(tok string) {
			t.Helper()
			if code := status(t, request(t, "GET", "/", tok, map[string]string{"Accept": "application/json"}, "")); code != http.StatusUnauthorized {
				t.Fatalf("the replaced session still works: %d", code)
			}
			if withRedis {
				if n, err := redisSrv.Client().Exists(t.Context(), sessionKey(t, tok)).Result(); err != nil || n != 0 {
					t.Fatalf("the replaced session's Redis key: exists=%d %v", n, err)
				}
			}
		}
		// The attacker's own session, planted in the victim's browser.
		_, planted := login(t, browsertest.NewBrowser(t), "/")
		victim := browsertest.NewBrowser(t)
		u, _ := url.Parse(site)
		victim.Jar.SetCookies(u, []*http.Cookie{{Name: cookieName, Value: planted, Path: "/", Secure: true}})
		if withRedis {
			if n, _ := redisSrv.Client().Exists(t.Context(), sessionKey(t, planted)).Result(); n != 1 {
				t.Fatal("the planted session is not in Redis")
			}
		}
		vresp, _ := victim.Follow(site + "/.gatehouse/login/corp")
		vresp.Body.Close()
		if got := victim.Cookie(site, cookieName); got == "" || got == planted {
			t.Fatalf("the planted session id survived the login")
		}
		gone(planted)

		b := browsertest.NewBrowser(t)
		_, first := login(t, b, "/")
		// Signing in again (e.g. as another user) replaces the old session.
		resp, _ := b.Follow(site + "/.gatehouse/login/corp")
		resp.Body.Close()
		second := b.Cookie(site, cookieName)
		if second == "" || second == first {
			t.Fatalf("session id was not renewed at login")
		}
		gone(first)
		if code := status(t, request(t, "GET", "/", second, nil, "")); code != 200 {
			t.Fatalf("the new session does not work: %d", code)
		}
	})
}

func TestLogout(t *testing.T) {
	both(t, "", func(t *testing.T) {
		b := browsertest.NewBrowser(t)
		_, tok := login(t, b, "/")

		// GET shows a confirmation page and signs nobody out.
		page := b.Get(site + "/.gatehouse/logout")
		body, _ := io.ReadAll(page.Body)
		page.Body.Close()
		if page.StatusCode != 200 || !strings.Contains(string(body), `name="csrf"`) {
			t.Fatalf("logout page: %d %s", page.StatusCode, body)
		}
		csrf := between(string(body), `name="csrf" value="`, `"`)
		if status(t, request(t, "GET", "/", tok, nil, "")) != 200 {
			t.Fatal("GET /logout ended the session")
		}

		form := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"}
		if code := status(t, request(t, "POST", "/.gatehouse/logout", tok, form, "csrf=wrong")); code != http.StatusForbidden {
			t.Fatalf("logout with a bad CSRF token: %d", code)
		}
		cross := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.com"}
		if code := status(t, request(t, "POST", "/.gatehouse/logout", tok, cross, "csrf="+url.QueryEscape(csrf))); code != http.StatusForbidden {
			t.Fatalf("cross-origin logout: %d", code)
		}
		if status(t, request(t, "GET", "/", tok, nil, "")) != 200 {
			t.Fatal("a refused logout ended the session")
		}

		form["Origin"] = site
		resp := request(t, "POST", "/.gatehouse/logout", tok, form, "csrf="+url.QueryEscape(csrf)+"&rd=//evil.com")
		// The provider has an end_session_endpoint: the browser ends its
		// session there too, and comes back to the signed-out page with
		// the (validated: //evil.com became /) target in state.
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if code := status(t, resp); code != http.StatusSeeOther || loc == nil || !strings.HasPrefix(loc.String(), idp.URL+"/logout?") ||
			loc.Query().Get("state") != "/" || loc.Query().Get("post_logout_redirect_uri") != site+"/.gatehouse/logout" {
			t.Fatalf("logout: %d Location %q", code, resp.Header.Get("Location"))
		}
		if !strings.Contains(strings.Join(resp.Header["Set-Cookie"], ";"), cookieName+"=;") {
			t.Fatalf("logout did not clear the cookie: %v", resp.Header["Set-Cookie"])
		}
		// Replaying the old cookie or bearer token after logout fails.
		if code := status(t, request(t, "GET", "/", tok, map[string]string{"Accept": "application/json"}, "")); code != http.StatusUnauthorized {
			t.Fatalf("cookie replay after logout: %d", code)
		}
		if code := status(t, request(t, "GET", "/", "", map[string]string{"Authorization": "Bearer " + tok}, "")); code != http.StatusUnauthorized {
			t.Fatalf("bearer replay after logout: %d", code)
		}
	})
}

// signOutWith takes b's logout page for its CSRF token and posts the
// sign-out form with tok, as the page's button does; it returns the
// answer to the POST.
func signOutWith(t *testing.T, b *browsertest.Browser, tok string) *http.Response {
	t.Helper()
	page := b.Get(site + "/.gatehouse/logout")
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	csrf := between(string(body), `name="csrf" value="`, `"`)
	if page.StatusCode != 200 || csrf == "" {
		t.Fatalf("logout page: %d %s", page.StatusCode, body)
	}
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html", "Origin": site}
	return request(t, "POST", "/.gatehouse/logout", tok, form, "csrf="+url.QueryEscape(csrf))
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	s = s[i+len(a):]
	j := strings.Index(s, b)
	if j < 0 {
		return ""
	}
	return s[:j]
}

func TestUserinfoAndHealthz(t *testing.T) {
	both(t, "", func(t *testing.T) {
		if code := status(t, request(t, "GET", "/.gatehouse/userinfo", "", nil, "")); code != http.StatusUnauthorized {
			t.Fatalf("userinfo without session: %d", code)
		}
		_, tok := login(t, browsertest.NewBrowser(t), "/")
		resp := request(t, "GET", "/.gatehouse/userinfo", tok, nil, "")
		var info map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&info)
		resp.Body.Close()
		if info["user"] != "alice" || info["email"] != "alice@example.com" || info["provider"] != "corp" {
			t.Fatalf("userinfo = %v", info)
		}
		if _, leaked := info["access_token"]; leaked {
			t.Fatal("userinfo exposes tokens")
		}
		if code := status(t, request(t, "GET", "/.gatehouse/healthz", "", nil, "")); code != 200 {
			t.Fatalf("healthz: %d", code)
		}
	})
}

func TestForwardAuth(t *testing.T) {
	load(t, config{extra: "redirect_domains app.example.com"})
	_, tok := login(t, browsertest.NewBrowser(t), "/")
	resp := request(t, "GET", "/.gatehouse/auth", tok, nil, "")
	if status(t, resp) != 200 || resp.Header.Get("X-Auth-User") != "alice" {
		t.Fatalf("auth with session: %d %v", resp.StatusCode, resp.Header)
	}
	fwd := map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "app.example.com", "X-Forwarded-Uri": "/a?b=1", "X-Forwarded-Method": "GET"}
	resp = request(t, "GET", "/.gatehouse/auth", "", fwd, "")
	if status(t, resp) != http.StatusUnauthorized {
		t.Fatalf("auth without session (API): %d", resp.StatusCode)
	}
	fwd["Accept"] = "text/html"
	resp = request(t, "GET", "/.gatehouse/auth", "", fwd, "")
	if status(t, resp) != http.StatusFound {
		t.Fatalf("auth without session (browser): %d", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Host != "localhost:"+strings.Split(site, ":")[2] || loc.Query().Get("rd") != "https://app.example.com/a?b=1" {
		t.Fatalf("auth redirect: %s", loc)
	}
	resp = request(t, "GET", "/.gatehouse/auth?redirect=false", "", fwd, "")
	if status(t, resp) != http.StatusUnauthorized {
		t.Fatalf("auth ?redirect=false: %d", resp.StatusCode)
	}
}

func TestStoreDownAndRecovery(t *testing.T) {
	// A short cache: a session cached before the outage ages out quickly.
	load(t, config{store: "redis", extra: "session_cache 100ms"})
	_, tok := login(t, browsertest.NewBrowser(t), "/")
	if err := redisSrv.Stop(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond) // past the cache's bound
	restarted := false
	defer func() {
		if !restarted {
			_ = redisSrv.Start()
		}
	}()
	hits := upstream.Hits()
	for _, accept := range []string{"text/html", "application/json"} {
		resp := request(t, "GET", "/protected", tok, map[string]string{"Accept": accept}, "")
		if code := status(t, resp); code != http.StatusServiceUnavailable {
			t.Fatalf("store down (%s): %d, want 503", accept, code)
		}
		if resp.Header.Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
		if sc := resp.Header.Get("Set-Cookie"); sc != "" {
			t.Errorf("store outage touched the cookie: %s", sc)
		}
		if strings.Contains(resp.Header.Get("Location"), "authorize") {
			t.Error("store outage sent the browser to the provider")
		}
	}
	if upstream.Hits() != hits {
		t.Fatal("a protected request reached the upstream during the outage")
	}
	if code := status(t, request(t, "GET", "/public/x", "", nil, "")); code != 200 {
		t.Fatalf("public route during the outage: %d", code)
	}
	if code := status(t, request(t, "GET", "/.gatehouse/healthz", "", nil, "")); code != http.StatusServiceUnavailable {
		t.Fatalf("healthz during the outage: %d", code)
	}
	if err := redisSrv.Start(); err != nil {
		t.Fatal(err)
	}
	restarted = true
	// Service resumes by itself (the client redials within a second), and
	// the session survived: Redis saved it on shutdown.
	deadline := time.Now().Add(5 * time.Second)
	for {
		code := status(t, request(t, "GET", "/protected", tok, nil, ""))
		if code == 200 {
			break
		}
		if code != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("after recovery: %d", code)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code := status(t, request(t, "GET", "/.gatehouse/healthz", "", nil, "")); code != 200 {
		t.Fatalf("healthz after recovery: %d", code)
	}
}

// A session is valid only on the host it was issued for: a cookie issued
// for one site is refused by another that shares the store and secret.
func TestSessionBoundToHost(t *testing.T) {
	load(t, config{store: "redis", alias: true})
	_, tok := login(t, browsertest.NewBrowser(t), "/")
	if code := status(t, request(t, "GET", "/", tok, nil, "")); code != 200 {
		t.Fatalf("on its own host: %d", code)
	}
	other := strings.Replace(site, "localhost", "127.0.0.1", 1)
	req, _ := http.NewRequest(http.MethodGet, other+"/", nil)
	req.Header.Set("Accept", "application/json")
	req.AddCookie(&http.Cookie{Name: cookieName, Value: tok})
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if code := status(t, resp); code != http.StatusUnauthorized {
		t.Fatalf("the same session on another host: %d, want 401", code)
	}
	// Bearer use is bound the same way.
	req, _ = http.NewRequest(http.MethodGet, other+"/", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err = http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if code := status(t, resp); code != http.StatusUnauthorized {
		t.Fatalf("bearer on another host: %d, want 401", code)
	}
}

// Forward-auth answers 403 (not 200 or 401) for a signed-in user an allow
// rule refuses, and never carries the identity in that case.
func TestForwardAuthDenied(t *testing.T) {
	load(t, config{extra: "allow email *@other.example"})
	b := browsertest.NewBrowser(t)
	resp, _ := b.Follow(site + "/")
	resp.Body.Close()
	tok := b.Cookie(site, cookieName)
	r := request(t, "GET", "/.gatehouse/auth", tok, map[string]string{"Accept": "application/json"}, "")
	if code := status(t, r); code != http.StatusForbidden || r.Header.Get("X-Auth-User") != "" {
		t.Fatalf("forward-auth for a denied user: %d %v", code, r.Header)
	}
}
