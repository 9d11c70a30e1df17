package github_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/github"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/fakegithub"
)

func TestUser(t *testing.T) {
	g := newFake(t)
	c := &github.Client{Endpoints: g.Endpoints()}
	u, err := c.User(t.Context(), login(t, g, oauthApp(g), "octocat").AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != 1 || u.Login != "octocat" || u.Name != "The Octocat" || u.Email != "public@example.com" || u.AvatarURL == "" {
		t.Errorf("User = %+v", u)
	}

	g.SetUser(fakegithub.GitHubUser{Login: "octocat"}) // no name, no public email
	u, err = c.User(t.Context(), login(t, g, oauthApp(g), "octocat").AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != 1 || u.Name != "" || u.Email != "" {
		t.Errorf("after SetUser: %+v (ID kept, null name and email)", u)
	}
}

func TestPrimaryVerifiedEmail(t *testing.T) {
	tests := []struct {
		name   string
		emails []fakegithub.GitHubEmail
		want   string
	}{
		{"primary verified", []fakegithub.GitHubEmail{
			{Email: "b@example.com", Verified: true}, {Email: "a@example.com", Primary: true, Verified: true}}, "a@example.com"},
		{"primary unverified, secondary verified", []fakegithub.GitHubEmail{
			{Email: "a@example.com", Primary: true}, {Email: "b@example.com", Verified: true}}, ""},
		{"only secondaries", []fakegithub.GitHubEmail{{Email: "b@example.com", Verified: true, Visibility: "private"}}, ""},
		{"none", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newFake(t)
			g.SetUser(fakegithub.GitHubUser{Login: "octocat", Emails: tt.emails})
			c := &github.Client{Endpoints: g.Endpoints()}
			got, err := c.PrimaryVerifiedEmail(t.Context(), login(t, g, oauthApp(g), "octocat").AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPrimaryVerifiedEmailOnALaterPage(t *testing.T) {
	g := newFake(t)
	var emails []fakegithub.GitHubEmail
	for i := range 150 {
		emails = append(emails, fakegithub.GitHubEmail{Email: fmt.Sprintf("e%d@example.com", i), Verified: true})
	}
	emails = append(emails, fakegithub.GitHubEmail{Email: "primary@example.com", Primary: true, Verified: true})
	g.SetUser(fakegithub.GitHubUser{Login: "octocat", Emails: emails})
	c := &github.Client{Endpoints: g.Endpoints()}
	got, err := c.PrimaryVerifiedEmail(t.Context(), login(t, g, oauthApp(g), "octocat").AccessToken)
	if err != nil || got != "primary@example.com" {
		t.Errorf("got %q, %v; want the primary on page 2", got, err)
	}
}

func TestOrgsAndTeamsPaginate(t *testing.T) {
	g := newFake(t)
	var orgs []string
	var teams [][2]string
	for i := range 250 {
		orgs = append(orgs, fmt.Sprintf("org-%03d", i))
		teams = append(teams, [2]string{fmt.Sprintf("org-%03d", i%7), fmt.Sprintf("team-%03d", i)})
	}
	g.SetUser(fakegithub.GitHubUser{Login: "octocat", Orgs: orgs, Teams: teams})
	c := &github.Client{Endpoints: g.Endpoints()}
	tok := login(t, g, oauthApp(g), "octocat").AccessToken

	gotOrgs, err := c.Orgs(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gotOrgs, orgs) {
		t.Errorf("Orgs: %d items, want %d in order", len(gotOrgs), len(orgs))
	}
	if n := g.Requests("/user/orgs"); n != 3 {
		t.Errorf("%d requests for 250 orgs, want 3 pages of 100", n)
	}

	gotTeams, err := c.Teams(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if len(gotTeams) != len(teams) {
		t.Fatalf("Teams: %d items, want %d", len(gotTeams), len(teams))
	}
	for i, tm := range gotTeams {
		if tm.Org != teams[i][0] || tm.Slug != teams[i][1] {
			t.Fatalf("team %d = %+v, want %v", i, tm, teams[i])
		}
	}
}

func TestUserInstallationsAndRepos(t *testing.T) {
	g := newFake(t)
	g.AddInstallation(fakegithub.GitHubInstallation{ID: 600, AccountLogin: "octocat", AccountType: "User", RepositorySelection: "selected",
		Repos: []fakegithub.GitHubRepo{{ID: 10, FullName: "octocat/a"}, {ID: 11, FullName: "octocat/b", Private: true}}, Suspended: true})
	g.GrantInstallation("octocat", 600, "octocat/b")
	g.AddInstallation(fakegithub.GitHubInstallation{ID: 700, AccountLogin: "hidden"}) // not granted
	g.AddInstallation(fakegithub.GitHubInstallation{ID: 800, AppID: 9999, AccountLogin: "acme"})
	g.GrantInstallation("octocat", 800) // another app's installation
	c := &github.Client{Endpoints: g.Endpoints()}
	tok := login(t, g, gitHubApp(g), "octocat").AccessToken

	insts, err := c.UserInstallations(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if len(insts) != 2 {
		t.Fatalf("installations %+v, want 555 and 600", insts)
	}
	if i := insts[0]; i.ID != installationID || i.AccountLogin != "acme" || i.AccountID != 77 || i.AccountType != "Organization" ||
		i.AppID != appID || i.RepositorySelection != "all" || i.SuspendedAt != nil || i.CreatedAt.IsZero() {
		t.Errorf("installation 555 = %+v", i)
	}
	if i := insts[1]; i.ID != 600 || i.AccountType != "User" || i.RepositorySelection != "selected" || i.SuspendedAt == nil {
		t.Errorf("installation 600 = %+v", i)
	}

	repos, err := c.UserInstallationRepos(t.Context(), tok, installationID)
	if err != nil {
		t.Fatal(err)
	}
	want := []github.Repo{{ID: 1, FullName: "acme/api", Private: true}, {ID: 2, FullName: "acme/www"}}
	if !reflect.DeepEqual(repos, want) {
		t.Errorf("repos of 555 = %+v, want %+v", repos, want)
	}
	repos, err = c.UserInstallationRepos(t.Context(), tok, 600)
	if err != nil {
		t.Fatal(err)
	}
	if want := []github.Repo{{ID: 11, FullName: "octocat/b", Private: true}}; !reflect.DeepEqual(repos, want) {
		t.Errorf("repos of 600 = %+v, want only the granted %+v", repos, want)
	}

	for _, id := range []int64{700, 800, 123456} {
		if _, err := c.UserInstallationRepos(t.Context(), tok, id); !github.IsNotFound(err) {
			t.Errorf("installation %d: err = %v, want 404", id, err)
		}
	}

	g.RevokeInstallation("octocat", installationID)
	if _, err := c.UserInstallationRepos(t.Context(), tok, installationID); !github.IsNotFound(err) {
		t.Errorf("after revoke: err = %v, want 404", err)
	}
	insts, err = c.UserInstallations(t.Context(), tok)
	if err != nil || len(insts) != 1 || insts[0].ID != 600 {
		t.Errorf("after revoke: %+v, %v", insts, err)
	}
}

func TestInstallationReposPaginate(t *testing.T) {
	g := newFake(t)
	var repos []fakegithub.GitHubRepo
	for i := range 205 {
		repos = append(repos, fakegithub.GitHubRepo{ID: int64(1000 + i), FullName: fmt.Sprintf("acme/r%d", i)})
	}
	g.SetInstallationRepos(installationID, repos...)
	c := &github.Client{Endpoints: g.Endpoints()}
	got, err := c.UserInstallationRepos(t.Context(), login(t, g, gitHubApp(g), "octocat").AccessToken, installationID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 205 || got[204].FullName != "acme/r204" {
		t.Errorf("%d repos, want 205", len(got))
	}
	if n := g.Requests(fmt.Sprintf("/user/installations/%d/repositories", installationID)); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestUserInstallationsNeedGitHubAppToken(t *testing.T) {
	g := newFake(t)
	c := &github.Client{Endpoints: g.Endpoints()}
	tok := login(t, g, oauthApp(g), "octocat").AccessToken
	_, err := c.UserInstallations(t.Context(), tok)
	if !github.IsForbidden(err) || !strings.Contains(err.Error(), "Resource not accessible by integration") {
		t.Errorf("UserInstallations with gho_: err = %v, want 403", err)
	}
	if _, err := c.UserInstallationRepos(t.Context(), tok, installationID); !github.IsForbidden(err) {
		t.Errorf("UserInstallationRepos with gho_: err = %v, want 403", err)
	}
}

func TestAPIErrors(t *testing.T) {
	g := newFake(t)
	c := &github.Client{Endpoints: g.Endpoints()}
	tok := login(t, g, gitHubApp(g), "octocat").AccessToken
	ctx := t.Context()

	if _, err := c.User(ctx, "ghu_unknown"); !github.IsUnauthorized(err) || !strings.Contains(err.Error(), "Bad credentials") {
		t.Errorf("unknown token: %v", err)
	}
	if _, err := c.User(ctx, ""); !github.IsUnauthorized(err) {
		t.Errorf("no token: %v", err)
	}
	g.FailNext("/user/orgs", 403)
	if _, err := c.Orgs(ctx, tok); !github.IsForbidden(err) || github.IsRateLimited(err) {
		t.Errorf("FailNext 403: %v", err)
	}
	g.FailNext("/api/v3/user/teams", 404)
	if _, err := c.Teams(ctx, tok); !github.IsNotFound(err) {
		t.Errorf("FailNext 404: %v", err)
	}
	g.FailNext("/user/emails", 429)
	_, err := c.PrimaryVerifiedEmail(ctx, tok)
	if !github.IsRateLimited(err) || github.IsForbidden(err) {
		t.Errorf("FailNext 429: %v", err)
	}
	g.FailNext("/user", 500)
	if _, err := c.User(ctx, tok); err == nil || github.IsUnauthorized(err) || github.IsRateLimited(err) {
		t.Errorf("FailNext 500: %v", err)
	}
	if _, err := c.User(ctx, tok); err != nil {
		t.Errorf("FailNext fails only once: %v", err)
	}
}

func TestPrimaryRateLimit(t *testing.T) {
	g := newFake(t)
	c := &github.Client{Endpoints: g.Endpoints()}
	tok := login(t, g, gitHubApp(g), "octocat").AccessToken
	g.SetRateLimit(2)
	for i := range 2 {
		if _, err := c.User(t.Context(), tok); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	_, err := c.User(t.Context(), tok)
	if !github.IsRateLimited(err) || github.IsForbidden(err) {
		t.Fatalf("third request: err = %v, want rate limited", err)
	}
	var ae *github.APIError
	if !errors.As(err, &ae) || ae.Status != 403 {
		t.Fatalf("err = %#v, want a 403 APIError", err)
	}
	if d := time.Until(ae.RateLimitReset); d < 50*time.Minute || d > time.Hour+time.Minute {
		t.Errorf("reset in %v, want about an hour", d)
	}
	g.Advance(time.Hour + time.Second)
	if _, err := c.User(t.Context(), tok); err != nil {
		t.Errorf("after the window: %v", err)
	}
}

func TestAppInstallationToken(t *testing.T) {
	g := newFake(t)
	c := &github.Client{Endpoints: g.Endpoints()}
	app, err := github.ParseApp(fmt.Sprint(appID), appKeyPEM(t))
	if err != nil {
		t.Fatal(err)
	}
	jwt, err := app.JWT(g.Now())
	if err != nil {
		t.Fatal(err)
	}
	tok, exp, err := c.InstallationToken(t.Context(), jwt, installationID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, "ghs_") {
		t.Errorf("token %q, want ghs_", tok)
	}
	if d := time.Until(exp); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("expires in %v, want 1h", d)
	}
	repos, err := c.InstallationRepos(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if len(repos) != 2 || repos[0].FullName != "acme/api" {
		t.Errorf("repos %+v", repos)
	}
	if _, err := c.User(t.Context(), tok); !github.IsForbidden(err) {
		t.Errorf("installation token on /user: err = %v, want 403", err)
	}

	if _, _, err := c.InstallationToken(t.Context(), jwt, 999); !github.IsNotFound(err) {
		t.Errorf("unknown installation: err = %v, want 404", err)
	}
	g.SetInstallationSuspended(installationID, true)
	if _, _, err := c.InstallationToken(t.Context(), jwt, installationID); !github.IsForbidden(err) {
		t.Errorf("suspended installation: err = %v, want 403", err)
	}
	if _, err := c.InstallationRepos(t.Context(), tok); !github.IsForbidden(err) {
		t.Errorf("token of a suspended installation: err = %v, want 403", err)
	}
	g.SetInstallationSuspended(installationID, false)
	g.Advance(time.Hour)
	if _, err := c.InstallationRepos(t.Context(), tok); !github.IsUnauthorized(err) {
		t.Errorf("installation token after 1h: err = %v, want 401", err)
	}
}

func TestAppJWTRejected(t *testing.T) {
	g := newFake(t)
	c := &github.Client{Endpoints: g.Endpoints()}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	otherPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(other)})
	sign := func(id string, keyPEM []byte, now time.Time) string {
		app, err := github.ParseApp(id, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		s, err := app.JWT(now)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	now := g.Now()
	tests := []struct {
		name, jwt string
	}{
		{"wrong key", sign(fmt.Sprint(appID), otherPEM, now)},
		{"unknown app", sign("31337", appKeyPEM(t), now)},
		{"expired", sign(fmt.Sprint(appID), appKeyPEM(t), now.Add(-15*time.Minute))},
		{"from the future", sign(fmt.Sprint(appID), appKeyPEM(t), now.Add(15*time.Minute))},
		{"not a JWT", "ghu_notajwt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := c.InstallationToken(t.Context(), tt.jwt, installationID); !github.IsUnauthorized(err) {
				t.Errorf("err = %v, want 401", err)
			}
		})
	}
	if _, _, err := c.InstallationToken(t.Context(), sign(appClientID, appKeyPEM(t), now), installationID); err != nil {
		t.Errorf("client ID as issuer: %v", err)
	}
}

func TestClientHonoursContext(t *testing.T) {
	g := newFake(t)
	c := &github.Client{Endpoints: g.Endpoints()}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.User(ctx, "t"); err == nil {
		t.Error("no error with a cancelled context")
	}
}

// Nango's proxy drops the Link header; lists are then paged by number
// while pages come back full.
func TestPaginateWithoutLinkHeader(t *testing.T) {
	for _, n := range []int{0, 99, 100, 250} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			g := newFake(t)
			var orgs []string
			for i := range n {
				orgs = append(orgs, fmt.Sprintf("org-%03d", i))
			}
			g.SetUser(fakegithub.GitHubUser{Login: "octocat", Orgs: orgs})
			tok := login(t, g, oauthApp(g), "octocat").AccessToken
			target, _ := url.Parse(g.URL)
			proxy := httputil.NewSingleHostReverseProxy(target)
			proxy.ModifyResponse = func(r *http.Response) error { r.Header.Del("Link"); return nil }
			srv := httptest.NewServer(proxy)
			t.Cleanup(srv.Close)
			c := &github.Client{Endpoints: github.Endpoints{WebURL: srv.URL}}
			got, err := c.Orgs(t.Context(), tok)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, orgs) {
				t.Errorf("got %d orgs, want %d in order", len(got), len(orgs))
			}
			if want := n/100 + 1; g.Requests("/user/orgs") != want {
				t.Errorf("%d requests, want %d", g.Requests("/user/orgs"), want)
			}
		})
	}
}
