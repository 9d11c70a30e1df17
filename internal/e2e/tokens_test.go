package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/devidp"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/caddytest"
)

// shortIdP is a provider whose access tokens live tokenTTL, signed in as
// provider "short", with the access token passed upstream; edit changes
// its options.
func shortIdP(t *testing.T, tokenTTL time.Duration, store, extra string, edit ...func(*devidp.Options)) *devidp.Server {
	t.Helper()
	opts := devidp.Options{TokenTTL: tokenTTL}
	for _, f := range edit {
		f(&opts)
	}
	p, err := devidp.Listen("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	c := config{store: store, extra: fmt.Sprintf(`provider oidc short {
			issuer %s
			client_id short-client
			client_secret short-secret
		}
		pass_access_token
		%s`, p.URL, extra)}
	if err := p.Provider.SetAutoLogin("alice"); err != nil {
		t.Fatal(err)
	}
	caddytest.LoadFresh(t, func() (string, string) {
		usePort(t, caddytest.FreePort(t))
		if err := p.Provider.AddClient(devidp.Client{ID: "short-client", Secret: "short-secret",
			RedirectURIs: []string{site + "/.gatehouse/callback/short"}}); err != nil {
			t.Fatal(err)
		}
		return c.caddyfile(), fmt.Sprintf("localhost:%d", port)
	})
	upstream.Reset()
	return p
}

// accessTokens sends n concurrent requests with b's session and returns
// the access tokens the upstream received.
func accessTokens(t *testing.T, b *browsertest.Browser, n int) []string {
	t.Helper()
	var mu sync.Mutex
	var got []string
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := upstreamHeaders(t, b, "/")
			mu.Lock()
			got = append(got, h.Get("X-Auth-Access-Token"))
			mu.Unlock()
		}()
	}
	wg.Wait()
	return got
}

// 50 concurrent requests with an expiring access token: exactly one
// refresh, every request gets the new token, and the rotated refresh token
// is never replayed (which the provider would answer with invalid_grant).
func TestRefreshOnceUnderConcurrency(t *testing.T) {
	for _, st := range []string{"", "redis"} {
		t.Run(cmpOr(st, "memory"), func(t *testing.T) {
			p := shortIdP(t, 3*time.Second, st, "")
			b := browsertest.NewBrowser(t)
			echo, _ := login(t, b, "/.gatehouse/login/short?rd=/")
			first := http.Header(echo.Headers).Get("X-Auth-Access-Token")
			if first == "" {
				t.Fatal("pass_access_token sent no access token")
			}
			time.Sleep(2100 * time.Millisecond) // within a third of the lifetime of expiry
			before := p.Provider.TokenRequests()
			got := accessTokens(t, b, 50)
			if n := p.Provider.TokenRequests() - before; n != 1 {
				t.Fatalf("%d token requests for 50 concurrent requests, want 1", n)
			}
			for _, tok := range got {
				if tok == first || tok != got[0] {
					t.Fatalf("requests saw tokens %q..., want the one refreshed token for all", got[:3])
				}
			}
			if h := upstreamHeaders(t, b, "/"); h.Get("X-Auth-Access-Token") != got[0] {
				t.Error("the refreshed token was not kept")
			}
		})
	}
}

// A provider that fails for a while does not end the session. (The token
// lives 9 s and is due for refresh in its last third, so the current one
// is still valid for about 2 s after the failed attempts.)
func TestRefreshTransientFailureKeepsSession(t *testing.T) {
	p := shortIdP(t, 9*time.Second, "", "")
	b := browsertest.NewBrowser(t)
	echo, _ := login(t, b, "/.gatehouse/login/short?rd=/")
	old := http.Header(echo.Headers).Get("X-Auth-Access-Token")
	time.Sleep(6100 * time.Millisecond)
	for range 3 {
		p.Provider.FailNext(devidp.EndpointToken, http.StatusServiceUnavailable)
	}
	before := p.Provider.TokenRequests()
	h := upstreamHeaders(t, b, "/")
	if n := p.Provider.TokenRequests() - before; n != 3 {
		t.Errorf("%d refresh attempts, want 3 (with backoff) before giving up for now", n)
	}
	if h.Get("X-Auth-Access-Token") != old {
		t.Errorf("after a failed refresh the upstream got %q, want the current token", h.Get("X-Auth-Access-Token"))
	}
	// The next requests do not hammer the provider.
	before = p.Provider.TokenRequests()
	upstreamHeaders(t, b, "/")
	if n := p.Provider.TokenRequests() - before; n != 0 {
		t.Errorf("%d token requests right after a failed refresh, want 0 (retry later)", n)
	}
}

// Signing out revokes the provider's tokens and ends the session at the
// provider too (RP-initiated logout), coming back to the signed-out page.
func TestLogoutRevokesAndEndsProviderSession(t *testing.T) {
	p := shortIdP(t, time.Hour, "redis", "")
	b := browsertest.NewBrowser(t)
	login(t, b, "/.gatehouse/login/short?rd=/")

	resp, page := signOut(t, b, "/after")
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+p.URL) {
		t.Errorf("logout page CSP %q does not let the form end at the provider", csp)
	}
	loc, _ := resp.Location()
	if resp.StatusCode != http.StatusSeeOther || loc == nil || !strings.HasPrefix(loc.String(), p.URL+"/logout?") {
		t.Fatalf("logout answered %d to %v, want 303 to the provider's end_session_endpoint", resp.StatusCode, loc)
	}
	q := loc.Query()
	if q.Get("id_token_hint") == "" || q.Get("post_logout_redirect_uri") != site+"/.gatehouse/logout" || q.Get("state") != "/after" {
		t.Errorf("end-session request: %v", q)
	}
	final, visited := b.Follow(loc.String())
	body, _ := io.ReadAll(final.Body)
	final.Body.Close()
	if final.StatusCode != 200 || !strings.Contains(string(body), "You are signed out") || !strings.Contains(string(body), `href="/after"`) {
		t.Errorf("after the provider: %d %v\n%s", final.StatusCode, visited, body)
	}
	testsupport.WaitFor(t, 5*time.Second, "the tokens were not revoked at the provider",
		func() bool { return p.Provider.Requests(devidp.EndpointRevoke) > 0 })
	if resp := b.Get(site + "/"); resp.StatusCode != http.StatusFound {
		t.Errorf("after sign-out: %d", resp.StatusCode)
	}
}

// Without pass_access_token no token reaches the upstream; errors can be
// restyled with Caddy's handle_errors, with Gatehouse's code available.
func TestErrorsThroughHandleErrors(t *testing.T) {
	load(t, config{site: `handle_errors {
		respond "custom {http.error.status_code} {http.auth.error.code}: {http.auth.error.message}"
	}`})
	b := browsertest.NewBrowser(t)
	echo, _ := login(t, b, "/.gatehouse/login/corp?rd=/")
	if v := http.Header(echo.Headers).Get("X-Auth-Access-Token"); v != "" {
		t.Errorf("an access token reached the upstream without pass_access_token: %q", v)
	}
	resp := b.Get(site + "/.gatehouse/callback/corp?error=access_denied&state=x")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.HasPrefix(string(body), "custom 403 access_denied: The identity provider did not sign you in") {
		t.Errorf("denied consent through handle_errors: %d %q", resp.StatusCode, body)
	}
	// Another site on the same server without handle_errors keeps the
	// built-in page.
	load(t, config{})
	resp = browsertest.NewBrowser(t).Get(site + "/.gatehouse/callback/corp?error=access_denied&state=x")
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "Sign-in cancelled") || !strings.Contains(string(body), "access_denied") {
		t.Errorf("built-in error page: %d\n%s", resp.StatusCode, body)
	}
}

// signOut opens b's logout confirmation page and submits its form with
// rd, as a browser does; it returns the form's answer (not followed) and
// the page's.
func signOut(t *testing.T, b *browsertest.Browser, rd string) (*http.Response, *http.Response) {
	t.Helper()
	page := b.Get(site + "/.gatehouse/logout?rd=" + url.QueryEscape(rd))
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	csrf := between(string(body), `name="csrf" value="`, `"`)
	req, _ := http.NewRequest(http.MethodPost, site+"/.gatehouse/logout", strings.NewReader(url.Values{"csrf": {csrf}, "rd": {rd}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", site)
	req.Header.Set("Accept", "text/html")
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp, page
}

// An expired access token never reaches the upstream. A provider that
// issues no refresh token (Ory Hydra without offline_access) cannot renew
// it: once it expires the session ends and the user is sent to sign in
// again, as without a session.
func TestExpiredAccessTokenNeverUpstream(t *testing.T) {
	shortIdP(t, 2*time.Second, "redis", "", func(o *devidp.Options) { o.RefreshOnlyOffline = true })
	b := browsertest.NewBrowser(t)
	echo, _ := login(t, b, "/.gatehouse/login/short?rd=/")
	if http.Header(echo.Headers).Get("X-Auth-Access-Token") == "" {
		t.Fatal("pass_access_token sent no access token")
	}
	time.Sleep(2100 * time.Millisecond)
	before := upstream.Hits()
	resp := b.Get(site + "/")
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), "/.gatehouse/login") {
		t.Fatalf("request with an expired token: %d to %q, want 302 to the login page", resp.StatusCode, resp.Header.Get("Location"))
	}
	if upstream.Hits() != before {
		t.Fatal("the request with an expired access token reached the upstream")
	}
	// The session is gone, not just refused once.
	if resp := b.Get(site + "/.gatehouse/userinfo"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("userinfo after the expiry: %d, want 401", resp.StatusCode)
	}
}

// A session that has a refresh token, but whose refresh keeps failing
// until the access token has expired, does not send the expired token
// upstream either: it ends, and the user signs in again.
func TestExpiredAccessTokenNeverUpstreamWhenRefreshFails(t *testing.T) {
	p := shortIdP(t, 2*time.Second, "redis", "")
	b := browsertest.NewBrowser(t)
	echo, _ := login(t, b, "/.gatehouse/login/short?rd=/")
	if http.Header(echo.Headers).Get("X-Auth-Access-Token") == "" {
		t.Fatal("pass_access_token sent no access token")
	}
	for range 50 {
		p.Provider.FailNext(devidp.EndpointToken, http.StatusServiceUnavailable)
	}
	time.Sleep(2100 * time.Millisecond) // past the token's life
	before := upstream.Hits()
	resp := b.Get(site + "/")
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), "/.gatehouse/login") || upstream.Hits() != before {
		t.Fatalf("request with an expired token whose refresh fails: %d to %q, upstream hit %d times", resp.StatusCode, resp.Header.Get("Location"), upstream.Hits()-before)
	}
	if resp := b.Get(site + "/.gatehouse/userinfo"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("userinfo after the expiry: %d, want 401 (the session ended)", resp.StatusCode)
	}
}
