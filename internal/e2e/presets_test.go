package e2e

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/fakegithub"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/fakeoauth"
)

// Each preset signs in end to end through Caddy against a fake of the
// provider's real endpoints, and only a verified email reaches the
// upstream.
func TestPresetsLogIn(t *testing.T) {
	cases := []struct {
		kind      string
		user      fakeoauth.OAuth2FakeUser
		wantID    string
		wantLogin string
		wantEmail string // "" when the provider's email must not be used
	}{
		{"gitlab", fakeoauth.OAuth2FakeUser{ID: "4711", Login: "ann", Email: "ann@gitlab.example", EmailVerified: true, Name: "Ann"},
			"gitlab:4711", "ann", "ann@gitlab.example"},
		{"microsoft", fakeoauth.OAuth2FakeUser{ID: "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", Login: "ann@contoso.example", Email: "ann@contoso.example", EmailVerified: false, Name: "Ann"},
			"microsoft:AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", "ann@contoso.example", ""},
		{"gitee", fakeoauth.OAuth2FakeUser{ID: "8080", Login: "ann", Email: "ann@gitee.example", EmailVerified: true, Name: "Ann"},
			"gitee:8080", "ann", "ann@gitee.example"},
		{"feishu", fakeoauth.OAuth2FakeUser{ID: "ou_7d8a6e6df7621556ce0d21922b676706", Login: "ann", Email: "ann@feishu.example", Name: "Ann"},
			"feishu:ou_7d8a6e6df7621556ce0d21922b676706", "ann", ""},
		{"lark", fakeoauth.OAuth2FakeUser{ID: "ou_0123", Login: "ann", Email: "ann@lark.example", Name: "Ann"},
			"lark:ou_0123", "ann", ""},
	}
	for _, c := range cases {
		t.Run(c.kind, func(t *testing.T) {
			f := fakeoauth.NewOAuth2Fake(c.kind)
			t.Cleanup(f.Close)
			f.AddClient("preset-client", "preset-secret")
			f.SetUser(c.user)
			load(t, config{extra: fmt.Sprintf(`provider %s {
			client_id preset-client
			client_secret preset-secret
			base_url %s
		}`, c.kind, f.URL)})
			echo, _ := login(t, browsertest.NewBrowser(t), "/.gatehouse/login/"+c.kind+"?rd=/")
			h := http.Header(echo.Headers)
			if h.Get("X-Auth-User-Id") != c.wantID || h.Get("X-Auth-User") != c.wantLogin || h.Get("X-Auth-Email") != c.wantEmail ||
				h.Get("X-Auth-Provider") != c.kind || h.Get("X-Auth-Name") != "Ann" {
				t.Errorf("upstream identity: id %q user %q email %q provider %q name %q", h.Get("X-Auth-User-Id"),
					h.Get("X-Auth-User"), h.Get("X-Auth-Email"), h.Get("X-Auth-Provider"), h.Get("X-Auth-Name"))
			}
			if c.wantEmail != "" {
				// The same account with the address unverified.
				u := c.user
				u.EmailVerified = false
				f.SetUser(u)
				echo, _ := login(t, browsertest.NewBrowser(t), "/.gatehouse/login/"+c.kind+"?rd=/")
				if e := http.Header(echo.Headers).Get("X-Auth-Email"); e != "" {
					t.Errorf("an unverified email reached the upstream: %q", e)
				}
			}
		})
	}
}

// forgeProvider configures the generic oauth2 provider "forge" against
// the GitLab-shaped fake at url (client generic-client), with claims as
// the lines of its claims block.
func forgeProvider(url string, claims ...string) string {
	return fmt.Sprintf(`provider oauth2 forge {
			auth_url %[1]s/oauth/authorize
			token_url %[1]s/oauth/token
			userinfo_url %[1]s/oauth/userinfo
			client_id generic-client
			client_secret generic-secret
			scopes openid profile email
			claims {
				%[2]s
			}
		}`, url, strings.Join(claims, "\n"))
}

// The generic oauth2 provider, mapped onto GitLab's userinfo by claims,
// with a refresh token that is later refused; denied consent shows the
// error page.
func TestOAuth2GenericProvider(t *testing.T) {
	f := fakeoauth.NewOAuth2Fake("gitlab")
	t.Cleanup(f.Close)
	f.AddClient("generic-client", "generic-secret")
	f.SetUser(fakeoauth.OAuth2FakeUser{ID: "99", Login: "bo", Email: "bo@forge.example", EmailVerified: true, Name: "Bo"})
	f.SetAccessTokenLifetime(3 * time.Second)
	load(t, config{store: "redis", extra: forgeProvider(f.URL,
		"id sub", "login preferred_username", "email email", "email_verified email_verified", "name name")})
	b := browsertest.NewBrowser(t)
	echo, _ := login(t, b, "/.gatehouse/login/forge?rd=/")
	h := http.Header(echo.Headers)
	if h.Get("X-Auth-User-Id") != "forge:99" || h.Get("X-Auth-User") != "bo" || h.Get("X-Auth-Email") != "bo@forge.example" {
		t.Errorf("identity: %v", h)
	}
	time.Sleep(2100 * time.Millisecond)
	upstreamHeaders(t, b, "/")
	if n := f.TokenRequests("refresh_token"); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
	time.Sleep(2100 * time.Millisecond)
	f.RevokeRefreshTokens()
	if resp := b.Get(site + "/"); resp.StatusCode != http.StatusFound {
		t.Errorf("after the refresh token was refused: %d, want the session ended", resp.StatusCode)
	}

	f.DenyConsent(true)
	resp, _ := browsertest.NewBrowser(t).Follow(site + "/.gatehouse/login/forge?rd=/")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "access_denied") || !strings.Contains(string(body), "Sign-in cancelled") {
		t.Errorf("denied consent: %d\n%s", resp.StatusCode, body)
	}
}

// The generic oauth2 provider without a claims block reads the claims
// the README gives as defaults: id, login, name and avatar_url (here
// against a GitHub-shaped /user). The email, with no email_verified
// claim configured, is never used.
func TestOAuth2GenericClaimDefaults(t *testing.T) {
	gh := fakegithub.NewGitHub()
	t.Cleanup(gh.Close)
	gh.AddOAuthApp("defaults-client", "defaults-secret")
	gh.AddUser(fakegithub.GitHubUser{ID: 4242, Login: "dora", Name: "Dora D", AvatarURL: "https://avatars.example/4242",
		Emails: []fakegithub.GitHubEmail{{Email: "dora@example.com", Primary: true, Verified: true}}})
	gh.SetAutoLogin("dora")
	load(t, config{extra: fmt.Sprintf(`provider oauth2 forge {
			auth_url %[1]s/login/oauth/authorize
			token_url %[1]s/login/oauth/access_token
			userinfo_url %[1]s/api/v3/user
			client_id defaults-client
			client_secret defaults-secret
		}`, gh.URL)})
	echo, _ := login(t, browsertest.NewBrowser(t), "/.gatehouse/login/forge?rd=/")
	h := http.Header(echo.Headers)
	if h.Get("X-Auth-User-Id") != "forge:4242" || h.Get("X-Auth-User") != "dora" || h.Get("X-Auth-Name") != "Dora D" ||
		h.Get("X-Auth-Avatar") != "https://avatars.example/4242" || h.Get("X-Auth-Email") != "" {
		t.Errorf("identity with the default claims: %v", h)
	}
}
