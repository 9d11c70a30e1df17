package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/devidp"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
)

// startLogin walks b to the corp provider and back, stopping before the
// callback; it returns the callback URL the provider sent the browser to.
func startLogin(t *testing.T, b *browsertest.Browser, rd string) *url.URL {
	t.Helper()
	return toCallback(t, b, "corp", rd)
}

// toCallback starts a login with the named provider as b and follows it to
// the provider and back: it returns the callback URL, not yet visited.
func toCallback(t *testing.T, b *browsertest.Browser, name, rd string) *url.URL {
	t.Helper()
	r1, loc := b.Hop(site + "/.gatehouse/login/" + name + "?rd=" + url.QueryEscape(rd))
	if r1.StatusCode != http.StatusFound || loc == nil {
		t.Fatalf("login start: %d %v", r1.StatusCode, loc)
	}
	r2, cb := b.Hop(loc.String())
	if r2.StatusCode != http.StatusFound || cb == nil || !strings.HasPrefix(cb.String(), site+"/.gatehouse/callback/"+name) {
		t.Fatalf("the IdP answered %d Location %v", r2.StatusCode, cb)
	}
	return cb
}

// finishLogin follows the callback cb in b and fails (naming what) unless
// it answers 302 with a session cookie; it returns the callback's answer.
func finishLogin(t *testing.T, b *browsertest.Browser, cb *url.URL, what string) *http.Response {
	t.Helper()
	resp := b.Get(cb.String())
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || !hasCookie(resp.Header["Set-Cookie"], cookieName) {
		t.Fatalf("%s: callback %d", what, resp.StatusCode)
	}
	return resp
}

// assertRefused checks a callback answer: 400 and no session cookie.
func assertRefused(t *testing.T, resp *http.Response, want int) {
	t.Helper()
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("callback: %d, want %d", resp.StatusCode, want)
	}
	if hasCookie(resp.Header["Set-Cookie"], cookieName) {
		t.Fatalf("a refused callback set a session: %v", resp.Header["Set-Cookie"])
	}
}

func TestCallbackStateRefused(t *testing.T) {
	both(t, "", func(t *testing.T) {
		t.Run("missing state", func(t *testing.T) {
			b := browsertest.NewBrowser(t)
			cb := startLogin(t, b, "/")
			q := cb.Query()
			q.Del("state")
			cb.RawQuery = q.Encode()
			assertRefused(t, b.Get(cb.String()), http.StatusBadRequest)
		})
		t.Run("empty state", func(t *testing.T) {
			b := browsertest.NewBrowser(t)
			cb := startLogin(t, b, "/")
			q := cb.Query()
			q.Set("state", "")
			cb.RawQuery = q.Encode()
			assertRefused(t, b.Get(cb.String()), http.StatusBadRequest)
		})
		t.Run("reused state", func(t *testing.T) {
			b := browsertest.NewBrowser(t)
			cb := startLogin(t, b, "/")
			finishLogin(t, b, cb, "first use")
			assertRefused(t, browsertest.NewBrowser(t).Get(cb.String()), http.StatusBadRequest)
			assertRefused(t, b.Get(cb.String()), http.StatusBadRequest)
		})
		t.Run("state from another browser", func(t *testing.T) {
			victim := browsertest.NewBrowser(t)
			cb := startLogin(t, victim, "/")
			attacker := browsertest.NewBrowser(t)
			attacker.Get(site + "/.gatehouse/login/corp").Body.Close() // has its own binding cookie
			assertRefused(t, attacker.Get(cb.String()), http.StatusBadRequest)
			assertRefused(t, browsertest.NewBrowser(t).Get(cb.String()), http.StatusBadRequest)
			// Neither attempt used the state up: the victim signs in with it.
			own := victim.Get(cb.String())
			own.Body.Close()
			if own.StatusCode != http.StatusFound || !hasCookie(own.Header.Values("Set-Cookie"), cookieName) {
				t.Fatalf("the owner's callback after foreign ones: %d", own.StatusCode)
			}
		})
		t.Run("unknown state", func(t *testing.T) {
			b := browsertest.NewBrowser(t)
			cb := startLogin(t, b, "/")
			q := cb.Query()
			q.Set("state", "AAAA"+q.Get("state")[4:])
			cb.RawQuery = q.Encode()
			assertRefused(t, b.Get(cb.String()), http.StatusBadRequest)
		})
	})
}

func TestCallbackStateExpires(t *testing.T) {
	load(t, config{store: "redis"})
	redisSrv.FlushAll(t)
	b := browsertest.NewBrowser(t)
	cb := startLogin(t, b, "/")
	// Age the stored login state the way Redis would after ten minutes.
	ctx := context.Background()
	keys, err := redisSrv.Client().Keys(ctx, "gatehouse:login:*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("login state keys: %v %v", keys, err)
	}
	ttl, _ := redisSrv.Client().PTTL(ctx, keys[0]).Result()
	if ttl <= 9*time.Minute || ttl > 10*time.Minute {
		t.Fatalf("login state TTL %s, want 10m", ttl)
	}
	redisSrv.Client().PExpire(ctx, keys[0], time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	assertRefused(t, b.Get(cb.String()), http.StatusBadRequest)
}

func TestProviderErrorsEndOnAPage(t *testing.T) {
	load(t, config{})
	b := browsertest.NewBrowser(t)
	cb := startLogin(t, b, "/")
	q := cb.Query()
	q.Del("code")
	q.Set("error", "access_denied")
	cb.RawQuery = q.Encode()
	resp := b.Get(cb.String())
	assertRefused(t, resp, http.StatusForbidden)
	if !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("denied consent: %s", resp.Header.Get("Content-Type"))
	}

	// A forged or replayed code is refused by the provider: no session.
	b = browsertest.NewBrowser(t)
	cb = startLogin(t, b, "/")
	q = cb.Query()
	q.Set("code", "forged")
	cb.RawQuery = q.Encode()
	assertRefused(t, b.Get(cb.String()), http.StatusBadRequest)
}

// An id_token whose nonce is wrong, missing, or that was issued for an
// earlier login (replayed as is) is refused with 401 and no session.
func TestNonceMismatchRefused(t *testing.T) {
	load(t, config{})
	t.Cleanup(func() { idp.Provider.SetSigner(nil) })
	for name, mutate := range map[string]devidp.ClaimsFunc{
		"wrong nonce":   func(c map[string]any) { c["nonce"] = "from-another-login" },
		"missing nonce": func(c map[string]any) { delete(c, "nonce") },
	} {
		t.Run(name, func(t *testing.T) {
			idp.Provider.MutateIDToken(mutate)
			defer idp.Provider.MutateIDToken(nil)
			b := browsertest.NewBrowser(t)
			cb := startLogin(t, b, "/")
			assertRefused(t, b.Get(cb.String()), http.StatusUnauthorized)
		})
	}
	t.Run("replayed from an earlier login", func(t *testing.T) {
		// The earlier login's id_token, without at_hash so that only its
		// nonce ties it to that login.
		var earlier string
		idp.Provider.SetSigner(func(c map[string]any) (string, error) {
			delete(c, "at_hash")
			tok, err := idp.Provider.SignIDToken(c)
			earlier = tok
			return tok, err
		})
		login(t, browsertest.NewBrowser(t), "/")
		idp.Provider.SetSigner(func(map[string]any) (string, error) { return earlier, nil })
		defer idp.Provider.SetSigner(nil)
		b := browsertest.NewBrowser(t)
		cb := startLogin(t, b, "/")
		assertRefused(t, b.Get(cb.String()), http.StatusUnauthorized)
	})
}

func TestRedirectTargetsAfterLogin(t *testing.T) {
	load(t, config{})
	cases := map[string]string{
		"/reports?y=1#top":              "/reports?y=1#top",
		site + "/same-origin":           site + "/same-origin",
		"//evil.com":                    "/",
		"/\\evil.com":                   "/",
		"https:evil.com":                "/",
		"/%2F%2Fevil.com":               "/",
		"/%5Cevil.com":                  "/",
		"/%09/evil.com":                 "/",
		"https://localhost@evil.com":    "/",
		"https://evil.com\\@localhost":  "/",
		"http://localhost.evil.com/":    "/",
		"javascript:alert(1)":           "/",
		"https://evil.com":              "/",
		" /leading-space":               "/",
		"http://localhost:1/other-port": "/",
	}
	for rd, want := range cases {
		b := browsertest.NewBrowser(t)
		cb := startLogin(t, b, rd)
		resp := b.Get(cb.String())
		resp.Body.Close()
		if got := resp.Header.Get("Location"); got != want {
			t.Errorf("rd=%q: sent to %q, want %q", rd, got, want)
		}
	}
}

// Every case-4 path (security.md) that a server, proxy or app could read as
// something other than the public prefix it seems to be under is treated
// as protected: 401 for API clients, 302 to the login for browsers, or 400
// where Caddy or Go refuse the request line; the upstream never sees one.
func TestPublicPathsCannotBeTraversed(t *testing.T) {
	load(t, config{})
	for _, p := range []string{
		"/public/../admin", "/public/%2e%2e/admin", "/public/%2E%2E/admin", "/public/.%2e/admin",
		"/public%2F..%2Fadmin", "/public%2f..%2fadmin", "/public/..%5Cadmin", "/public/..%5cadmin",
		`/public/..\admin`, "/public/x%2Fy", "/public/x%5Cy", "//admin", "//public/x", "/public//x",
		"/ADMIN", "/admin.", "/admin;x", "/admin%00", "/public/x%00", "/public/x%0a", "/admin?x=/public/",
		"/admin#/public/", "/PUBLIC/x", "/Public", "/public/x/../../admin", "/public/./x", "/public/.",
		"/public/..", "/public/..;/admin", "/public/.;/x", "/public;/../admin", "/publicx", "/public.css",
	} {
		for _, accept := range []string{"application/json", "text/html"} {
			resp := rawGetAccept(t, p, accept)
			switch {
			case resp.StatusCode == http.StatusUnauthorized && accept == "application/json":
			case resp.StatusCode == http.StatusFound && accept == "text/html" &&
				strings.HasPrefix(resp.Header.Get("Location"), "/.gatehouse/login?rd="):
			case resp.StatusCode == http.StatusBadRequest:
			default:
				t.Errorf("%s (%s): %d %q, want 401/302 to the login, or 400", p, accept, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
	}
	if upstream.Hits() != 0 {
		t.Fatalf("traversal reached the upstream %d times", upstream.Hits())
	}
	if code := status(t, request(t, "GET", "/public/app.css", "", nil, "")); code != 200 {
		t.Fatalf("a public path: %d", code)
	}
}

func TestAllowRules(t *testing.T) {
	load(t, config{extra: "allow email *@example.com"})
	_, tok := login(t, browsertest.NewBrowser(t), "/") // alice@example.com, verified
	if code := status(t, request(t, "GET", "/", tok, nil, "")); code != 200 {
		t.Fatalf("allowed user: %d", code)
	}
	hits := upstream.Hits()
	// eve's address is in the domain but unverified: never trusted.
	if err := idp.Provider.SetAutoLogin("eve"); err != nil {
		t.Fatal(err)
	}
	_, eve := forbiddenLogin(t, "/", "unverified email")
	r := request(t, "GET", "/", eve, map[string]string{"Accept": "application/json"}, "")
	if code := status(t, r); code != http.StatusForbidden {
		t.Fatalf("denied user API call: %d, want 403", code)
	}
	if upstream.Hits() != hits {
		t.Fatalf("a denied user reached the upstream")
	}
}

func TestChooserWithSeveralProviders(t *testing.T) {
	load(t, config{extra: "provider oidc other {\n\t\t\tlabel \"Other IdP\"\n\t\t\tissuer " + idp.URL + "\n\t\t\tclient_id CLIENT_ID\n\t\t\tclient_secret " + clientSecret + "\n\t\t}"})
	resp := browsertest.NewBrowser(t).Get(site + "/.gatehouse/login?rd=/x")
	body := make([]byte, 1<<16)
	n, _ := resp.Body.Read(body)
	resp.Body.Close()
	page := string(body[:n])
	for _, want := range []string{"/.gatehouse/login/corp?rd=%2Fx", "/.gatehouse/login/other?rd=%2Fx", "Other IdP"} {
		if !strings.Contains(page, want) {
			t.Errorf("chooser lacks %q", want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("chooser CSP: %q", csp)
	}
	b := browsertest.NewBrowser(t)
	echo, _ := login(t, b, "/.gatehouse/login/other?rd=/y")
	if echo.Headers["X-Auth-Provider"][0] != "other" || echo.URI != "/y" {
		t.Fatalf("login through the second provider: %v %s", echo.Headers["X-Auth-Provider"], echo.URI)
	}
}

// rawGetAccept sends a request line with the path exactly as written
// (net/http's client would normalise it) and the given Accept header.
func rawGetAccept(t *testing.T, path, accept string) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(site, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second)) // a hang fails, bounded
	host := strings.TrimPrefix(site, "http://")
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: %s\r\nConnection: close\r\n\r\n", path, host, accept)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}
