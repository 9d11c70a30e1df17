package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/fakegithub"
)

const (
	ghOAuthID     = "gh-oauth-client"
	ghOAuthSecret = "gh-oauth-secret"
	ghAppID       = 4242
	ghAppClient   = "Iv1.gatehouse-app"
	ghAppSecret   = "gh-app-secret"
	ghHookSecret  = "It's a Secret to Everybody"
)

// The GitHub world of these tests: alice (verified primary email, member
// of acme and acme/backend), bob (primary email unverified), and an App
// installed on acme with two repositories.
func newGitHub(t *testing.T) *fakegithub.GitHub {
	t.Helper()
	gh := fakegithub.NewGitHub()
	t.Cleanup(gh.Close)
	gh.AddOAuthApp(ghOAuthID, ghOAuthSecret)
	gh.AddGitHubApp(ghAppID, ghAppClient, ghAppSecret, nil)
	gh.AddUser(fakegithub.GitHubUser{
		ID: 1001, Login: "alice", Name: "Alice Liddell", AvatarURL: "https://avatars.example/1001",
		Emails: []fakegithub.GitHubEmail{
			{Email: "alice@old.example", Primary: false, Verified: true},
			{Email: "alice@acme.example", Primary: true, Verified: true},
		},
		Orgs:  []string{"acme"},
		Teams: [][2]string{{"acme", "backend"}},
	})
	gh.AddUser(fakegithub.GitHubUser{
		ID: 1002, Login: "bob",
		Emails: []fakegithub.GitHubEmail{
			{Email: "bob@acme.example", Primary: true, Verified: false},
			{Email: "bob@other.example", Primary: false, Verified: true},
		},
	})
	gh.AddInstallation(fakegithub.GitHubInstallation{
		ID: 77, AccountLogin: "acme", AccountID: 500, AccountType: "Organization",
		Repos: []fakegithub.GitHubRepo{{ID: 1, FullName: "acme/api"}, {ID: 2, FullName: "acme/web"}},
	})
	gh.SetAutoLogin("alice")
	return gh
}

// githubConfig is a site with GitHub sign-in and the GitHub App, whose
// re-check interval is recheck (1s unless given).
func githubConfig(gh *fakegithub.GitHub, extra string, recheck ...string) config {
	interval := "1s"
	if len(recheck) > 0 {
		interval = recheck[0]
	}
	return config{extra: fmt.Sprintf(`provider github {
			client_id %s
			client_secret %s
			base_url %s
		}
		github_app {
			app_id %d
			client_id %s
			client_secret %s
			webhook_secret "%s"
			base_url %s
			recheck_interval %s
		}
		%s`, ghOAuthID, ghOAuthSecret, gh.URL, ghAppID, ghAppClient, ghAppSecret, ghHookSecret, gh.URL, interval, extra)}
}

// ghLogin signs b in with GitHub and returns what the upstream saw.
func ghLogin(t *testing.T, b *browsertest.Browser) testsupport.Echo {
	t.Helper()
	echo, _ := login(t, b, "/.gatehouse/login/github?rd=/")
	return echo
}

// ghInstalled is newGitHub with alice granted acme's installation 77: she
// sees every repository of it.
func ghInstalled(t *testing.T) *fakegithub.GitHub {
	t.Helper()
	gh := newGitHub(t)
	gh.GrantInstallation("alice", 77)
	return gh
}

// ghSession loads c and signs alice in with GitHub in a new browser; it
// returns the browser and its session token.
func ghSession(t *testing.T, c config) (*browsertest.Browser, string) {
	t.Helper()
	load(t, c)
	b := browsertest.NewBrowser(t)
	ghLogin(t, b)
	return b, b.Cookie(site, cookieName)
}

func TestGitHubLogin(t *testing.T) {
	gh := newGitHub(t)
	load(t, githubConfig(gh, ""))
	echo := ghLogin(t, browsertest.NewBrowser(t))
	h := http.Header(echo.Headers)
	wantHeaders(t, h, map[string]string{
		"X-Auth-User-Id":  "github:1001",
		"X-Auth-User":     "alice",
		"X-Auth-Email":    "alice@acme.example", // the primary verified address only
		"X-Auth-Name":     "Alice Liddell",
		"X-Auth-Provider": "github",
		"X-Auth-Groups":   "acme,acme/backend",
	})
	// No GitHub token reaches the upstream, in any header.
	for k, vs := range h {
		for _, v := range vs {
			if strings.Contains(v, "gho_") || strings.Contains(v, "ghu_") || strings.Contains(v, "ghr_") {
				t.Errorf("a GitHub token reached the upstream in %s", k)
			}
		}
	}
	if q := gh.LastAuthorize(); q.Get("code_challenge_method") != "S256" || q.Get("scope") != "read:user user:email read:org" {
		t.Errorf("authorize request: %v", q)
	}
}

// Only the primary address, and only if verified, is bob's email: his
// unverified primary and his verified secondary address are never used,
// neither sent upstream nor matched by an allow rule. (alice's verified
// primary wins over her verified secondary: TestGitHubLogin.)
func TestGitHubUnverifiedEmailNeverUsed(t *testing.T) {
	gh := newGitHub(t)
	gh.SetAutoLogin("bob")
	load(t, githubConfig(gh, ""))
	echo := ghLogin(t, browsertest.NewBrowser(t))
	if e := http.Header(echo.Headers).Get("X-Auth-Email"); e != "" {
		t.Fatalf("bob's email header = %q; his primary address is unverified", e)
	}
	for _, rule := range []string{"allow email bob@acme.example", "allow email bob@other.example", "allow domain other.example"} {
		load(t, githubConfig(gh, rule))
		resp, _ := browsertest.NewBrowser(t).Follow(site + "/.gatehouse/login/github?rd=/")
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s admitted bob: %d", rule, resp.StatusCode)
		}
	}
}

func TestGitHubAllowRules(t *testing.T) {
	gh := newGitHub(t)
	cases := []struct {
		rule  string
		login string
		want  int
	}{
		{"allow org acme", "alice", 200},
		{"allow org acme", "bob", 403},
		{"allow team acme/backend", "alice", 200},
		{"allow team acme/frontend", "alice", 403},
		{"allow org ACME", "alice", 200},
		{"allow repo acme/api", "alice", 403}, // no repository connected yet
	}
	for _, c := range cases {
		t.Run(c.rule+"/"+c.login, func(t *testing.T) {
			gh.SetAutoLogin(c.login)
			load(t, githubConfig(gh, c.rule))
			b := browsertest.NewBrowser(t)
			resp, _ := b.Follow(site + "/.gatehouse/login/github?rd=/")
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.want)
			}
		})
	}
}

// connect runs the GitHub App authorization for a signed-in browser.
func connect(t *testing.T, b *browsertest.Browser) {
	t.Helper()
	resp, visited := b.Follow(site + "/.gatehouse/github-app/connect?rd=/after-connect")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(visited[len(visited)-1], "/after-connect") {
		t.Fatalf("connect ended with %d at %v: %s", resp.StatusCode, visited, body)
	}
}

func appStatus(t *testing.T, tok string) map[string]any {
	t.Helper()
	resp := request(t, "GET", "/.gatehouse/github-app/status", tok, nil, "")
	defer resp.Body.Close()
	var st map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != 200 {
		t.Fatalf("status endpoint: %d %v", resp.StatusCode, err)
	}
	return st
}

func reposHeader(t *testing.T, tok string) string {
	t.Helper()
	resp := request(t, "GET", "/", tok, nil, "")
	if code := status(t, resp); code != 200 {
		t.Fatalf("request: %d", code)
	}
	return upstream.Last().Header.Get("X-Auth-Repos")
}

func TestGitHubAppConnectAndRepoRule(t *testing.T) {
	gh := ghInstalled(t)
	load(t, githubConfig(gh, "allow repo acme/api"))
	b, tok := forbiddenLogin(t, "/.gatehouse/login/github?rd=/", "before connecting")
	connect(t, b)
	if got := reposHeader(t, tok); got != "acme/api,acme/web" {
		t.Fatalf("X-Auth-Repos = %q", got)
	}
	st := appStatus(t, tok)
	if st["ready"] != true || st["pendingApproval"] != false {
		t.Fatalf("status = %v", st)
	}
	resp := request(t, "GET", "/.gatehouse/repos", tok, nil, "")
	var repos struct{ Repos []string }
	_ = json.NewDecoder(resp.Body).Decode(&repos)
	resp.Body.Close()
	if strings.Join(repos.Repos, ",") != "acme/api,acme/web" {
		t.Fatalf("/repos = %v", repos.Repos)
	}
}

// hook sends a signed webhook and returns the status and delivery id.
func hook(t *testing.T, gh *fakegithub.GitHub, event string, payload any) (int, string) {
	t.Helper()
	body, _ := json.Marshal(payload)
	resp, id, err := gh.SendWebhook(site+"/.gatehouse/webhooks/github", ghHookSecret, event, body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, id
}

func installation(id int64, login string, accountID int64, typ string) map[string]any {
	return map[string]any{"id": id, "account": map[string]any{"login": login, "id": accountID, "type": typ},
		"app_id": ghAppID, "target_type": typ, "repository_selection": "selected"}
}

func sender(id int64, login string) map[string]any {
	return map[string]any{"login": login, "id": id, "type": "User"}
}

func TestGitHubPendingApprovalThenWebhook(t *testing.T) {
	gh := newGitHub(t)
	b, tok := ghSession(t, githubConfig(gh, ""))
	connect(t, b) // alice asked to install on acme; an owner has not approved yet
	if st := appStatus(t, tok); st["pendingApproval"] != true || st["ready"] != false {
		t.Fatalf("before approval: %v", st)
	}
	// The owner approves: GitHub sends installation.created with alice as requester.
	gh.GrantInstallation("alice", 77)
	code, _ := hook(t, gh, "installation", map[string]any{
		"action": "created", "installation": installation(77, "acme", 500, "Organization"),
		"repositories": []map[string]any{{"id": 1, "full_name": "acme/api", "name": "api", "private": true}, {"id": 2, "full_name": "acme/web", "name": "web", "private": false}},
		"requester":    sender(1001, "alice"), "sender": sender(9, "acme-owner"),
	})
	if code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	if st := appStatus(t, tok); st["pendingApproval"] != false || st["ready"] != true {
		t.Fatalf("after approval: %v", st)
	}
	if got := reposHeader(t, tok); got != "acme/api,acme/web" {
		t.Fatalf("X-Auth-Repos after approval = %q", got)
	}
}

func TestGitHubWebhookEvents(t *testing.T) {
	gh := ghInstalled(t)
	// Only the webhooks act here: no re-check within the test.
	b, tok := ghSession(t, githubConfig(gh, "", "1h"))
	connect(t, b)
	inst := installation(77, "acme", 500, "Organization")

	// Each change happens at GitHub first, then its webhook arrives.
	gh.SetInstallationRepos(77, fakegithub.GitHubRepo{ID: 1, FullName: "acme/api"})
	code, removedID := hook(t, gh, "installation_repositories", map[string]any{
		"action": "removed", "installation": inst, "repository_selection": "selected",
		"repositories_added": []any{}, "repositories_removed": []map[string]any{{"id": 2, "full_name": "acme/web", "name": "web"}},
		"sender": sender(9, "acme-owner"),
	})
	if code != 200 || reposHeader(t, tok) != "acme/api" {
		t.Fatalf("after removal: %d %q", code, reposHeader(t, tok))
	}

	gh.SetInstallationSuspended(77, true)
	if code, _ := hook(t, gh, "installation", map[string]any{"action": "suspend", "installation": inst, "sender": sender(9, "acme-owner")}); code != 200 {
		t.Fatalf("suspend: %d", code)
	}
	if got := reposHeader(t, tok); got != "" {
		t.Fatalf("suspended installation still grants %q", got)
	}
	gh.SetInstallationSuspended(77, false)
	if code, _ := hook(t, gh, "installation", map[string]any{"action": "unsuspend", "installation": inst, "sender": sender(9, "acme-owner")}); code != 200 {
		t.Fatalf("unsuspend: %d", code)
	}
	if got := reposHeader(t, tok); got != "acme/api" {
		t.Fatalf("after unsuspend: %q", got)
	}

	if code, _ := hook(t, gh, "installation_target", map[string]any{
		"action": "renamed", "account": map[string]any{"login": "acme-corp", "id": 500}, "changes": map[string]any{"login": map[string]any{"from": "acme"}},
		"installation": map[string]any{"id": 77}, "target_type": "Organization", "sender": sender(9, "acme-owner"),
	}); code != 200 {
		t.Fatalf("renamed: %d", code)
	}
	if got := reposHeader(t, tok); got != "acme-corp/api" {
		t.Fatalf("after rename: %q", got)
	}

	// Replaying the removal delivery has no second effect.
	resp, err := gh.Redeliver(site+"/.gatehouse/webhooks/github", ghHookSecret, "installation_repositories", removedID, mustJSON(map[string]any{
		"action": "removed", "installation": inst, "repositories_added": []any{},
		"repositories_removed": []map[string]any{{"id": 1, "full_name": "acme-corp/api", "name": "api"}}, "sender": sender(9, "acme-owner"),
	}))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || reposHeader(t, tok) != "acme-corp/api" {
		t.Fatalf("a replayed delivery had an effect: %d %q", resp.StatusCode, reposHeader(t, tok))
	}

	if code, _ := hook(t, gh, "installation", map[string]any{"action": "deleted", "installation": inst, "sender": sender(9, "acme-owner")}); code != 200 {
		t.Fatalf("deleted: %d", code)
	}
	if got := reposHeader(t, tok); got != "" {
		t.Fatalf("deleted installation still grants %q", got)
	}
	if code, _ := hook(t, gh, "ping", map[string]any{"zen": "Keep it logically awesome.", "hook_id": 1, "hook": map[string]any{"app_id": ghAppID}}); code != 200 {
		t.Fatalf("ping: %d", code)
	}
	if code, _ := hook(t, gh, "star", map[string]any{"action": "created"}); code/100 != 2 {
		t.Fatalf("unknown event: %d", code)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func TestGitHubWebhookSignatures(t *testing.T) {
	gh := ghInstalled(t)
	b, tok := ghSession(t, githubConfig(gh, ""))
	connect(t, b)
	body := mustJSON(map[string]any{"action": "deleted", "installation": installation(77, "acme", 500, "Organization"), "sender": sender(9, "x")})
	good := fakegithub.SignGitHubBody(ghHookSecret, body)
	cases := map[string]map[string]string{
		"missing":         {},
		"sha1 only":       {"X-Hub-Signature": "sha1=" + strings.Repeat("a", 40)},
		"wrong length":    {"X-Hub-Signature-256": good[:len(good)-2]},
		"odd hex":         {"X-Hub-Signature-256": good[:len(good)-1] + "z"},
		"wrong secret":    {"X-Hub-Signature-256": fakegithub.SignGitHubBody("another secret", body)},
		"no prefix":       {"X-Hub-Signature-256": strings.TrimPrefix(good, "sha256=")},
		"resigned body":   {"X-Hub-Signature-256": fakegithub.SignGitHubBody(ghHookSecret, append(body, ' '))},
		"uppercase label": {"X-Hub-Signature-256": "SHA256=" + strings.TrimPrefix(good, "sha256=")},
	}
	for name, hdr := range cases {
		req, _ := http.NewRequest(http.MethodPost, site+"/.gatehouse/webhooks/github", strings.NewReader(string(body)))
		req.Header.Set("X-GitHub-Event", "installation")
		req.Header.Set("X-GitHub-Delivery", "d-"+strings.ReplaceAll(name, " ", "-"))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, _ := testsupport.Do(t, req)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", name, resp.StatusCode)
		}
	}
	// Deliveries are POSTs only.
	resp := request(t, http.MethodGet, "/.gatehouse/webhooks/github", "", nil, "")
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET of the webhook endpoint: %d, Allow %q; want 405, POST", resp.StatusCode, resp.Header.Get("Allow"))
	}
	// The same event re-serialized (same JSON value, other bytes) with the
	// original signature: the MAC covers the raw body, so it fails.
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	reserialized, _ := json.MarshalIndent(v, "", "  ")
	req, _ := http.NewRequest(http.MethodPost, site+"/.gatehouse/webhooks/github", strings.NewReader(string(reserialized)))
	req.Header.Set("X-GitHub-Event", "installation")
	req.Header.Set("X-GitHub-Delivery", "d-reserialized")
	req.Header.Set("X-Hub-Signature-256", good)
	resp, _ = testsupport.Do(t, req)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("re-serialized body: %d, want 401", resp.StatusCode)
	}
	if got := reposHeader(t, tok); got != "acme/api,acme/web" {
		t.Fatalf("a refused webhook changed state: %q", got)
	}
}

func TestGitHubAuthorizationRevokedEndsSessions(t *testing.T) {
	gh := ghInstalled(t)
	load(t, githubConfig(gh, ""))
	var toks []string
	for i := 0; i < 2; i++ { // two browsers, two sessions
		b := browsertest.NewBrowser(t)
		ghLogin(t, b)
		connect(t, b)
		toks = append(toks, b.Cookie(site, cookieName))
	}
	if code, _ := hook(t, gh, "github_app_authorization", map[string]any{"action": "revoked", "sender": sender(1001, "alice")}); code != 200 {
		t.Fatalf("revoked: %d", code)
	}
	for _, tok := range toks {
		if code := status(t, request(t, "GET", "/", tok, map[string]string{"Accept": "application/json"}, "")); code != http.StatusUnauthorized {
			t.Fatalf("session after revocation: %d", code)
		}
	}
}

func TestGitHubRecheckRevokesMembership(t *testing.T) {
	gh := newGitHub(t)
	_, tok := ghSession(t, githubConfig(gh, "allow org acme"))
	gh.SetUser(fakegithub.GitHubUser{ // alice leaves acme
		ID: 1001, Login: "alice", Name: "Alice Liddell",
		Emails: []fakegithub.GitHubEmail{{Email: "alice@acme.example", Primary: true, Verified: true}},
	})
	time.Sleep(1100 * time.Millisecond)
	if code := status(t, request(t, "GET", "/", tok, nil, "")); code != http.StatusForbidden {
		t.Fatalf("after leaving the org and one re-check interval: %d, want 403", code)
	}
	gh.RevokeAuthorization("alice") // the OAuth grant itself goes
	time.Sleep(1100 * time.Millisecond)
	if code := status(t, request(t, "GET", "/", tok, map[string]string{"Accept": "application/json"}, "")); code != http.StatusUnauthorized {
		t.Fatalf("after the grant was revoked: %d, want 401", code)
	}
}

func TestGitHubAppTokenRefreshedOnce(t *testing.T) {
	gh := ghInstalled(t)
	load(t, githubConfig(gh, ""))
	// Sign in with the OIDC provider and connect the App: the App's
	// expiring user token is then the only GitHub token in play.
	var toks []string
	for i := 0; i < 5; i++ {
		b := browsertest.NewBrowser(t)
		login(t, b, "/.gatehouse/login/corp?rd=/")
		if i == 0 {
			connect(t, b)
		}
		toks = append(toks, b.Cookie(site, cookieName))
	}
	gh.ExpireUserTokens("alice")
	gh.SetTokenDelay(200 * time.Millisecond)
	time.Sleep(1100 * time.Millisecond) // every session is due for a re-check
	before := gh.Requests("/login/oauth/access_token")
	var wg sync.WaitGroup
	errs := make(chan string, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(tok string) {
			defer wg.Done()
			if code := status(t, request(t, "GET", "/", tok, nil, "")); code != 200 {
				errs <- fmt.Sprint(code)
			}
		}(toks[i%len(toks)])
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("request during refresh: %s", e)
	}
	if n := gh.Requests("/login/oauth/access_token") - before; n != 1 {
		t.Fatalf("token refreshes: %d, want 1", n)
	}
}

// Signing out of a GitHub session deletes the user's authorization of the
// OAuth App at GitHub (GitHub has no end-session endpoint: the browser
// lands on the signed-out page).
func TestGitHubLogoutDeletesGrant(t *testing.T) {
	gh := newGitHub(t)
	b, _ := ghSession(t, githubConfig(gh, ""))
	resp, _ := signOut(t, b, "/bye")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/.gatehouse/logout?rd=%2Fbye" {
		t.Fatalf("logout: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	testsupport.WaitFor(t, 5*time.Second, "the GitHub grant was not deleted at sign-out",
		func() bool { return len(gh.DeletedGrants()) > 0 })
	if got := gh.DeletedGrants(); len(got) != 1 || got[0] != "alice" {
		t.Errorf("deleted grants: %v", got)
	}
}

// A webhook endpoint exists only where its integration is configured.
func TestWebhookEndpointsOnlyWhereConfigured(t *testing.T) {
	load(t, config{})
	for _, p := range []string{"/.gatehouse/webhooks/github", "/.gatehouse/webhooks/nango"} {
		resp := request(t, http.MethodPost, p, "", map[string]string{"Content-Type": "application/json"}, "{}")
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s without its integration: %d, want 404", p, resp.StatusCode)
		}
	}
}
