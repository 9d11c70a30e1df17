package github_test

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/url"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/github"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/fakegithub"
)

// Credentials of the apps registered in the fake by newFake.
const (
	oauthClientID  = "Ov23liOAuthAppClient"
	oauthSecret    = "oauth-app-secret"
	appID          = int64(4242)
	appClientID    = "Iv23liGitHubAppClient"
	appSecret      = "github-app-secret"
	redirectURI    = "https://gate.example.com/oauth2/callback"
	installationID = int64(555)
)

// appKey returns the GitHub App's private key, the RSA key shared by the
// tests.
func appKey(testing.TB) *rsa.PrivateKey { return testsupport.RSAKey() }

// appKeyPEM is appKey in the PKCS#1 PEM form GitHub issues.
func appKeyPEM(t testing.TB) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(appKey(t))})
}

// newFake starts a fake GitHub with user octocat (ID 1), an OAuth App, a
// GitHub App and installation 555 of it on org acme with two repos, which
// octocat may see entirely.
func newFake(t *testing.T) *fakegithub.GitHub {
	t.Helper()
	g := fakegithub.NewGitHub()
	t.Cleanup(g.Close)
	g.AddUser(fakegithub.GitHubUser{
		ID: 1, Login: "octocat", Name: "The Octocat", PublicEmail: "public@example.com",
		Emails: []fakegithub.GitHubEmail{
			{Email: "secondary@example.com", Verified: true},
			{Email: "octocat@example.com", Primary: true, Verified: true, Visibility: "public"},
		},
		Orgs:  []string{"acme", "github"},
		Teams: [][2]string{{"acme", "admins"}, {"github", "docs"}},
	})
	g.AddOAuthApp(oauthClientID, oauthSecret)
	g.AddGitHubApp(appID, appClientID, appSecret, &appKey(t).PublicKey)
	g.AddInstallation(fakegithub.GitHubInstallation{
		ID: installationID, AccountLogin: "acme", AccountID: 77, AccountType: "Organization",
		Repos: []fakegithub.GitHubRepo{{ID: 1, FullName: "acme/api", Private: true}, {ID: 2, FullName: "acme/www"}},
	})
	g.GrantInstallation("octocat", installationID)
	return g
}

// authorize runs the authorize step as login (auto-login) and returns the
// code GitHub redirects back with.
func authorize(t *testing.T, g *fakegithub.GitHub, o *github.OAuth, login, state, challenge string) string {
	t.Helper()
	g.SetAutoLogin(login)
	resp, err := testsupport.NoFollow.Get(o.AuthURL(redirectURI, state, challenge, []string{"read:org", "user:email"}))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: status %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Query().Get("state"); got != state {
		t.Fatalf("state = %q, want %q", got, state)
	}
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in %s", loc)
	}
	return code
}

// login runs the whole web flow and returns the token.
func login(t *testing.T, g *fakegithub.GitHub, o *github.OAuth, user string) *github.Token {
	t.Helper()
	code := authorize(t, g, o, user, "st", "")
	tok, err := o.Exchange(t.Context(), code, redirectURI, "")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// oauthApp and gitHubApp return OAuth clients of the fake's two apps.
func oauthApp(g *fakegithub.GitHub) *github.OAuth {
	return &github.OAuth{ClientID: oauthClientID, ClientSecret: oauthSecret, Endpoints: g.Endpoints()}
}

func gitHubApp(g *fakegithub.GitHub) *github.OAuth {
	return &github.OAuth{ClientID: appClientID, ClientSecret: appSecret, Endpoints: g.Endpoints()}
}

// appSignIn signs user in on a fresh fake through the GitHub App and
// returns the fake, the App's OAuth, an API client and the user's tokens.
func appSignIn(t *testing.T, user string) (*fakegithub.GitHub, *github.OAuth, *github.Client, *github.Token) {
	t.Helper()
	g := newFake(t)
	o := gitHubApp(g)
	return g, o, &github.Client{Endpoints: g.Endpoints()}, login(t, g, o, user)
}

// testFake wraps the fake for table tests.
type testFake struct{ *fakegithub.GitHub }
