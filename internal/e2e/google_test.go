package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/fakegoogle"
)

// googleSite runs a site with Google sign-in (hosted_domain example.com)
// against the fake Google.
func googleSite(t *testing.T, store string) *fakegoogle.Google {
	t.Helper()
	g := fakegoogle.NewGoogle()
	t.Cleanup(g.Close)
	load(t, config{store: store, extra: `provider google {
			client_id google-client
			client_secret google-secret
			hosted_domain example.com
			issuer ` + g.URL + `
		}
		pass_access_token`})
	g.AddClient("google-client", "google-secret", site+"/.gatehouse/callback/google")
	g.SetUser(fakegoogle.GoogleUser{Sub: "110248495921238986420", Email: "ann@example.com", EmailVerified: true,
		HD: "example.com", Name: "Ann Example", Picture: "https://lh3.example/ann.jpg"})
	return g
}

func TestGoogleLogin(t *testing.T) {
	g := googleSite(t, "redis")
	for _, short := range []bool{false, true} {
		g.IssuerForm(short)
		echo, _ := login(t, browsertest.NewBrowser(t), "/.gatehouse/login/google?rd=/")
		h := http.Header(echo.Headers)
		for k, want := range map[string]string{
			"X-Auth-User-Id":  "google:110248495921238986420",
			"X-Auth-Email":    "ann@example.com",
			"X-Auth-Name":     "Ann Example",
			"X-Auth-Provider": "google",
		} {
			if got := h.Get(k); got != want {
				t.Errorf("short issuer %v: %s = %q, want %q", short, k, got, want)
			}
		}
	}
	if q := g.LastAuthorize(); q.Get("access_type") != "offline" || q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" {
		t.Errorf("authorization request: %v", q)
	}
}

// A refused login ends on an error page with the reason, and no session.
func TestGoogleRefusals(t *testing.T) {
	g := googleSite(t, "")
	cases := []struct {
		name   string
		user   fakegoogle.GoogleUser
		mutate func(map[string]any)
		deny   bool
		status int
		code   string
	}{
		{name: "email not verified", user: fakegoogle.GoogleUser{Sub: "1", Email: "a@example.com", EmailVerified: false, HD: "example.com"}, status: 403, code: "email_not_verified"},
		{name: "email_verified \"false\"", user: fakegoogle.GoogleUser{Sub: "1", Email: "a@example.com", EmailVerified: "false", HD: "example.com"}, status: 403, code: "email_not_verified"},
		{name: "email_verified missing", user: fakegoogle.GoogleUser{Sub: "1", Email: "a@example.com", HD: "example.com"}, status: 403, code: "email_not_verified"},
		{name: "other Workspace domain", user: fakegoogle.GoogleUser{Sub: "1", Email: "a@evil.com", EmailVerified: true, HD: "evil.com"}, status: 403, code: "hosted_domain_mismatch"},
		{name: "consumer account", user: fakegoogle.GoogleUser{Sub: "1", Email: "a@gmail.com", EmailVerified: true}, status: 403, code: "hosted_domain_mismatch"},
		{name: "wrong audience", user: okGoogleUser, mutate: func(c map[string]any) { c["aud"] = "another-client" }, status: 401, code: "invalid_id_token"},
		{name: "expired", user: okGoogleUser, mutate: func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }, status: 401, code: "invalid_id_token"},
		{name: "consent denied", user: okGoogleUser, deny: true, status: 403, code: "access_denied"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g.SetUser(c.user)
			g.DenyConsent(c.deny)
			if c.mutate != nil {
				g.MutateNextIDToken(c.mutate)
			}
			b := browsertest.NewBrowser(t)
			resp, visited := b.Follow(site + "/.gatehouse/login/google?rd=/")
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status || !strings.Contains(string(body), c.code) {
				t.Errorf("%d after %v, want %d with %s:\n%s", resp.StatusCode, visited, c.status, c.code, body)
			}
			if b.Cookie(site, cookieName) != "" {
				t.Error("a refused login left a session cookie")
			}
		})
	}
	g.DenyConsent(false)
}

var okGoogleUser = fakegoogle.GoogleUser{Sub: "2", Email: "b@example.com", EmailVerified: true, HD: "example.com"}

// A refresh token Google refuses ends the session at the next refresh;
// signing out revokes the token at Google.
func TestGoogleTokenLifecycle(t *testing.T) {
	g := googleSite(t, "redis")
	g.SetAccessTokenLifetime(3 * time.Second)
	b := browsertest.NewBrowser(t)
	login(t, b, "/.gatehouse/login/google?rd=/")
	time.Sleep(2100 * time.Millisecond)
	h := upstreamHeaders(t, b, "/")
	if g.TokenRequests("refresh_token") != 1 || h.Get("X-Auth-Access-Token") == "" {
		t.Fatalf("refresh: %d token calls, token %q", g.TokenRequests("refresh_token"), h.Get("X-Auth-Access-Token"))
	}
	time.Sleep(2100 * time.Millisecond)
	g.RevokeRefreshTokens(okGoogleUser.Sub)
	g.RevokeRefreshTokens("110248495921238986420")
	if resp := b.Get(site + "/"); resp.StatusCode != http.StatusFound {
		t.Fatalf("after Google refused the refresh token: %d, want the session ended", resp.StatusCode)
	}

	// Sign in again and sign out: the refresh token is revoked at Google.
	login(t, b, "/.gatehouse/login/google?rd=/")
	resp, _ := signOut(t, b, "/")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/.gatehouse/logout") {
		t.Errorf("logout (Google has no end_session_endpoint): %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	testsupport.WaitFor(t, 5*time.Second, "sign-out did not revoke the token at Google",
		func() bool { return len(g.RevokedTokens()) > 0 })
}
