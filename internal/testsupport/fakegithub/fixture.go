package fakegithub

import (
	"crypto/rsa"
	"net/http"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
)

// The clients of StartFixture.
const (
	FixtureOAuthID     = "oauth-client"
	FixtureOAuthSecret = "oauth-secret"
	FixtureAppID       = int64(31)
	FixtureAppClientID = "app-client"
	FixtureAppSecret   = "app-secret"
)

// StartFixture starts a fake with octocat (ID 1, a verified primary
// email, admin of team acme/admins) and hubot, the OAuth App
// FixtureOAuthID and the GitHub App FixtureAppID whose JWTs verify with
// pub (nil when the test does not use them), closed when tb's test ends.
func StartFixture(tb testing.TB, pub *rsa.PublicKey) *GitHub {
	tb.Helper()
	g := NewGitHub()
	tb.Cleanup(g.Close)
	g.AddUser(GitHubUser{ID: 1, Login: "octocat",
		Emails: []GitHubEmail{{Email: "o@example.com", Primary: true, Verified: true}},
		Orgs:   []string{"acme"}, Teams: [][2]string{{"acme", "admins"}}})
	g.AddUser(GitHubUser{Login: "hubot"})
	g.AddOAuthApp(FixtureOAuthID, FixtureOAuthSecret)
	g.AddGitHubApp(FixtureAppID, FixtureAppClientID, FixtureAppSecret, pub)
	return g
}

// APIGet GETs a REST API path (with its query) with token (none when
// empty) and returns the response and its body.
func (g *GitHub) APIGet(tb testing.TB, token, pathAndQuery string) (*http.Response, string) {
	tb.Helper()
	h := http.Header{"Accept": {"application/vnd.github+json"}}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return testsupport.Fetch(tb, "GET", g.URL+APIPrefix+pathAndQuery, h, "")
}
