package fakegithub

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse-auth/gatehouse/internal/github"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
)

const fakeRedirect = "http://127.0.0.1:9/cb?keep=1"

// codeFor runs GET /login/oauth/authorize with auto-login and returns the
// code.
func codeFor(t *testing.T, g *GitHub, clientID, login string, extra url.Values) string {
	t.Helper()
	g.SetAutoLogin(login)
	q := url.Values{"client_id": {clientID}, "redirect_uri": {fakeRedirect}, "state": {"xyz"}, "scope": {"read:org user:email"}}
	for k, v := range extra {
		q[k] = v
	}
	resp, _ := testsupport.Fetch(t, "GET", g.URL+"/login/oauth/authorize?"+q.Encode(), nil, "")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Query().Get("keep") != "1" || loc.Query().Get("state") != "xyz" {
		t.Fatalf("redirect %s lost the redirect_uri query or the state", loc)
	}
	return loc.Query().Get("code")
}

// userToken logs login in with the OAuth App and returns a gho_ token.
func userToken(t *testing.T, g *GitHub, login string) string {
	t.Helper()
	code := codeFor(t, g, FixtureOAuthID, login, nil)
	form := url.Values{"client_id": {FixtureOAuthID}, "client_secret": {FixtureOAuthSecret}, "code": {code}}
	_, body := testsupport.Fetch(t, "POST", g.URL+"/login/oauth/access_token", http.Header{"Accept": {"application/json"}}, form.Encode())
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil || out.AccessToken == "" {
		t.Fatalf("token response %s: %v", body, err)
	}
	return out.AccessToken
}

func TestGitHubTokenResponseFormats(t *testing.T) {
	g := StartFixture(t, nil)
	tests := []struct {
		name     string
		clientID string
		secret   string
		accept   string
		basic    bool
		check    func(t *testing.T, contentType, body string)
	}{
		{"OAuth App, JSON", FixtureOAuthID, FixtureOAuthSecret, "application/json", false, func(t *testing.T, ct, body string) {
			if !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			if !regexp.MustCompile(`^\{"access_token":"gho_[0-9A-Za-z]{36}","scope":"read:org,user:email","token_type":"bearer"\}$`).MatchString(body) {
				t.Errorf("body %s", body)
			}
		}},
		{"OAuth App, form-encoded without Accept", FixtureOAuthID, FixtureOAuthSecret, "", false, func(t *testing.T, ct, body string) {
			if !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
				t.Errorf("Content-Type %q", ct)
			}
			if !regexp.MustCompile(`^access_token=gho_[0-9A-Za-z]{36}&scope=read%3Aorg%2Cuser%3Aemail&token_type=bearer$`).MatchString(body) {
				t.Errorf("body %s", body)
			}
		}},
		{"GitHub App, JSON", FixtureAppClientID, FixtureAppSecret, "application/json", false, func(t *testing.T, ct, body string) {
			if !regexp.MustCompile(`^\{"access_token":"ghu_[0-9A-Za-z]{36}","expires_in":28800,"refresh_token":"ghr_[0-9A-Za-z]{76}","refresh_token_expires_in":15811200,"scope":"","token_type":"bearer"\}$`).MatchString(body) {
				t.Errorf("body %s", body)
			}
		}},
		{"GitHub App, form, client credentials in Basic auth", FixtureAppClientID, FixtureAppSecret, "", true, func(t *testing.T, ct, body string) {
			if !regexp.MustCompile(`^access_token=ghu_\w+&expires_in=28800&refresh_token=ghr_\w+&refresh_token_expires_in=15811200&scope=&token_type=bearer$`).MatchString(body) {
				t.Errorf("body %s", body)
			}
		}},
		{"error as JSON with 200", FixtureOAuthID, "wrong", "application/json", false, func(t *testing.T, ct, body string) {
			want := `{"error":"incorrect_client_credentials","error_description":"The client_id and/or client_secret passed are incorrect.","error_uri":"https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#incorrect-client-credentials"}`
			if body != want {
				t.Errorf("body %s\nwant %s", body, want)
			}
		}},
		{"error form-encoded with 200", FixtureOAuthID, "wrong", "", false, func(t *testing.T, ct, body string) {
			if !strings.HasPrefix(body, "error=incorrect_client_credentials&error_description=The+client_id") || !strings.Contains(body, "&error_uri=https%3A%2F%2Fdocs.github.com") {
				t.Errorf("body %s", body)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := codeFor(t, g, tt.clientID, "octocat", nil)
			form := url.Values{"code": {code}, "redirect_uri": {fakeRedirect}}
			req, _ := http.NewRequest("POST", g.URL+"/login/oauth/access_token", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			if tt.basic {
				req.SetBasicAuth(tt.clientID, tt.secret)
			} else {
				q := req.URL.Query()
				q.Set("client_id", tt.clientID)
				q.Set("client_secret", tt.secret)
				req.URL.RawQuery = q.Encode()
			}
			resp, err := testsupport.NoFollow.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200 even for errors", resp.StatusCode)
			}
			tt.check(t, resp.Header.Get("Content-Type"), string(body))
		})
	}
}

func TestGitHubAuthorizePage(t *testing.T) {
	g := StartFixture(t, nil)
	q := url.Values{"client_id": {FixtureOAuthID}, "redirect_uri": {fakeRedirect}, "state": {"s<1>"}, "scope": {"read:org"},
		"code_challenge": {"abc"}, "code_challenge_method": {"S256"}}

	resp, body := testsupport.Fetch(t, "GET", g.URL+"/login/oauth/authorize?"+q.Encode(), nil, "")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("picker: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{`<form method="post" action="/login/oauth/authorize">`, `name="login" value="hubot"`, `name="login" value="octocat"`,
		`name="state" value="s&lt;1&gt;"`, `name="code_challenge" value="abc"`, `id="cancel"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s:\n%s", want, body)
		}
	}
	if got := g.LastAuthorize(); got.Encode() != q.Encode() {
		t.Errorf("LastAuthorize = %v, want %v", got, q)
	}

	pick := url.Values{}
	for k, v := range q {
		pick[k] = v
	}
	pick.Set("login", "hubot")
	resp, _ = testsupport.Fetch(t, "POST", g.URL+"/login/oauth/authorize", nil, pick.Encode())
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Query().Get("code") == "" || loc.Query().Get("state") != "s<1>" {
		t.Errorf("pick: %d %s", resp.StatusCode, loc)
	}

	cancel := url.Values{}
	for k, v := range q {
		cancel[k] = v
	}
	cancel.Set("cancel", "1")
	resp, _ = testsupport.Fetch(t, "POST", g.URL+"/login/oauth/authorize", nil, cancel.Encode())
	loc, _ = url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Query().Get("error") != "access_denied" || loc.Query().Get("code") != "" || loc.Query().Get("state") != "s<1>" {
		t.Errorf("cancel: %d %s", resp.StatusCode, loc)
	}
}

func TestGitHubAuthorizeErrorsDoNotRedirect(t *testing.T) {
	g := StartFixture(t, nil)
	g.SetAutoLogin("octocat")
	tests := []struct {
		name   string
		q      url.Values
		status int
	}{
		{"unknown client_id", url.Values{"client_id": {"nope"}, "redirect_uri": {fakeRedirect}}, http.StatusNotFound},
		{"no redirect_uri", url.Values{"client_id": {FixtureOAuthID}}, http.StatusBadRequest},
		{"relative redirect_uri", url.Values{"client_id": {FixtureOAuthID}, "redirect_uri": {"/cb"}}, http.StatusBadRequest},
		{"plain PKCE", url.Values{"client_id": {FixtureOAuthID}, "redirect_uri": {fakeRedirect}, "code_challenge": {"x"}, "code_challenge_method": {"plain"}}, http.StatusBadRequest},
		{"PKCE without method", url.Values{"client_id": {FixtureOAuthID}, "redirect_uri": {fakeRedirect}, "code_challenge": {"x"}}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := testsupport.Fetch(t, "GET", g.URL+"/login/oauth/authorize?"+tt.q.Encode(), nil, "")
			if resp.StatusCode != tt.status || resp.Header.Get("Location") != "" {
				t.Errorf("status %d location %q, want %d and no redirect", resp.StatusCode, resp.Header.Get("Location"), tt.status)
			}
		})
	}
	g.SetAutoLogin("ghost")
	q := url.Values{"client_id": {FixtureOAuthID}, "redirect_uri": {fakeRedirect}}
	if resp, _ := testsupport.Fetch(t, "GET", g.URL+"/login/oauth/authorize?"+q.Encode(), nil, ""); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("auto-login as an unknown user: %d", resp.StatusCode)
	}
}

func TestGitHubPagination(t *testing.T) {
	g := StartFixture(t, nil)
	var orgs []string
	for i := range 35 {
		orgs = append(orgs, fmt.Sprintf("o%02d", i))
	}
	g.SetUser(GitHubUser{Login: "octocat", Orgs: orgs})
	tok := userToken(t, g, "octocat")
	api := g.URL + "/api/v3/user/orgs"

	tests := []struct {
		query     string
		wantCount int
		wantFirst string
		wantLink  string
	}{
		{"", 30, "o00", `<` + api + `?page=2>; rel="next", <` + api + `?page=2>; rel="last"`},
		{"?page=2", 5, "o30", `<` + api + `?page=1>; rel="prev", <` + api + `?page=1>; rel="first"`},
		{"?per_page=10&page=2", 10, "o10", `<` + api + `?page=1&per_page=10>; rel="prev", <` + api + `?page=3&per_page=10>; rel="next", <` + api + `?page=4&per_page=10>; rel="last", <` + api + `?page=1&per_page=10>; rel="first"`},
		{"?per_page=500", 35, "o00", ""},
		{"?per_page=0", 30, "o00", `<` + api + `?page=2&per_page=0>; rel="next", <` + api + `?page=2&per_page=0>; rel="last"`},
		{"?per_page=x&page=y", 30, "o00", `<` + api + `?page=2&per_page=x>; rel="next", <` + api + `?page=2&per_page=x>; rel="last"`},
		{"?page=9", 0, "", `<` + api + `?page=2>; rel="prev", <` + api + `?page=1>; rel="first"`},
		{"?page=99999999999999999", 0, "", `<` + api + `?page=2>; rel="prev", <` + api + `?page=1>; rel="first"`},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			resp, body := g.APIGet(t, tok, "/user/orgs"+tt.query)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			var page []struct {
				Login string `json:"login"`
			}
			if err := json.Unmarshal([]byte(body), &page); err != nil {
				t.Fatalf("%v: %s", err, body)
			}
			if len(page) != tt.wantCount || (len(page) > 0 && page[0].Login != tt.wantFirst) {
				t.Errorf("%d items starting %+v, want %d starting %s", len(page), page, tt.wantCount, tt.wantFirst)
			}
			if got := resp.Header.Get("Link"); got != tt.wantLink {
				t.Errorf("Link %s\nwant %s", got, tt.wantLink)
			}
		})
	}
	_, body := g.APIGet(t, tok, "/user/orgs?page=9")
	if body != "[]" {
		t.Errorf("past the last page: %s, want []", body)
	}
}

func TestGitHubRESTShapes(t *testing.T) {
	g := StartFixture(t, nil)
	g.AddInstallation(GitHubInstallation{ID: 9, AccountLogin: "acme", Suspended: true, Repos: []GitHubRepo{{ID: 5, FullName: "acme/x", Private: true}}})
	g.GrantInstallation("octocat", 9)
	tok := userToken(t, g, "octocat")

	_, body := g.APIGet(t, tok, "/user")
	var user map[string]any
	if err := json.Unmarshal([]byte(body), &user); err != nil {
		t.Fatal(err)
	}
	if user["login"] != "octocat" || user["id"] != 1.0 || user["type"] != "User" || user["node_id"] != "MDQ6VXNlcjE=" {
		t.Errorf("/user = %s", body)
	}
	for _, k := range []string{"name", "email"} {
		if v, ok := user[k]; !ok || v != nil {
			t.Errorf("/user %s = %v, want null", k, v)
		}
	}

	_, body = g.APIGet(t, tok, "/user/emails")
	if body != `[{"email":"o@example.com","primary":true,"verified":true,"visibility":null}]` {
		t.Errorf("/user/emails = %s", body)
	}
	_, body = g.APIGet(t, tok, "/user/teams")
	var teams []struct {
		Slug         string `json:"slug"`
		Organization struct {
			Login string `json:"login"`
			ID    int64  `json:"id"`
		} `json:"organization"`
	}
	if err := json.Unmarshal([]byte(body), &teams); err != nil || len(teams) != 1 || teams[0].Slug != "admins" || teams[0].Organization.Login != "acme" || teams[0].Organization.ID == 0 {
		t.Errorf("/user/teams = %s", body)
	}

	// The installation endpoints need a GitHub App user token.
	resp, body := g.APIGet(t, tok, "/user/installations")
	if resp.StatusCode != 403 || !strings.HasPrefix(body, `{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/`) {
		t.Errorf("gho_ on /user/installations: %d %s", resp.StatusCode, body)
	}
	code := codeFor(t, g, FixtureAppClientID, "octocat", nil)
	form := url.Values{"client_id": {FixtureAppClientID}, "client_secret": {FixtureAppSecret}, "code": {code}}
	_, tb := testsupport.Fetch(t, "POST", g.URL+"/login/oauth/access_token", http.Header{"Accept": {"application/json"}}, form.Encode())
	var grant struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal([]byte(tb), &grant)
	_, body = g.APIGet(t, grant.AccessToken, "/user/installations")
	var insts struct {
		TotalCount    int `json:"total_count"`
		Installations []struct {
			ID      int64 `json:"id"`
			Account struct {
				Login string `json:"login"`
				Type  string `json:"type"`
			} `json:"account"`
			AppID               int64   `json:"app_id"`
			RepositorySelection string  `json:"repository_selection"`
			SuspendedAt         *string `json:"suspended_at"`
		} `json:"installations"`
	}
	if err := json.Unmarshal([]byte(body), &insts); err != nil || insts.TotalCount != 1 || insts.Installations[0].Account.Login != "acme" ||
		insts.Installations[0].Account.Type != "Organization" || insts.Installations[0].AppID != FixtureAppID ||
		insts.Installations[0].RepositorySelection != "all" || insts.Installations[0].SuspendedAt == nil {
		t.Errorf("/user/installations = %s", body)
	}
	_, body = g.APIGet(t, grant.AccessToken, "/user/installations/9/repositories")
	if !strings.HasPrefix(body, `{"total_count":1,"repository_selection":"all","repositories":[{"id":5,"node_id":`) || !strings.Contains(body, `"full_name":"acme/x","private":true,"owner":{"login":"acme"`) {
		t.Errorf("/user/installations/9/repositories = %s", body)
	}
}

func TestGitHubErrorsAndRateLimitHeaders(t *testing.T) {
	g := StartFixture(t, nil)
	tok := userToken(t, g, "octocat")
	tests := []struct {
		name, token, path string
		method            string
		status            int
		body              string
	}{
		{"ok", tok, "/user", "GET", 200, ""},
		{"bad credentials", "gho_nope", "/user", "GET", 401, `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`},
		{"no token", "", "/user", "GET", 401, `{"message":"Requires authentication","documentation_url":"https://docs.github.com/rest/users/users#get-the-authenticated-user"}`},
		{"unknown path", tok, "/nope", "GET", 404, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`},
		{"wrong method", tok, "/user", "DELETE", 404, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`},
		{"non-numeric installation", tok, "/user/installations/x/repositories", "GET", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.token != "" {
				h.Set("Authorization", "token "+tt.token)
			}
			resp, body := testsupport.Fetch(t, tt.method, g.URL+"/api/v3"+tt.path, h, "")
			if resp.StatusCode != tt.status || (tt.body != "" && body != tt.body) {
				t.Errorf("%d %s, want %d %s", resp.StatusCode, body, tt.status, tt.body)
			}
			for _, k := range []string{"X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset", "X-Ratelimit-Used", "X-Ratelimit-Resource"} {
				if resp.Header.Get(k) == "" {
					t.Errorf("no %s header", k)
				}
			}
		})
	}
	resp, _ := g.APIGet(t, tok, "/user")
	if resp.Header.Get("X-Ratelimit-Limit") != "5000" || resp.Header.Get("X-Ratelimit-Used") == "0" || resp.Header.Get("X-Oauth-Scopes") != "read:org, user:email" {
		t.Errorf("headers %v", resp.Header)
	}
}

func TestGitHubFailNextAndRequests(t *testing.T) {
	g := StartFixture(t, nil)
	tok := userToken(t, g, "octocat")
	g.FailNext("/user", 503)
	g.FailNext("/api/v3/user", 429)
	resp, body := g.APIGet(t, tok, "/user")
	if resp.StatusCode != 503 || !strings.Contains(body, `"message":"Service Unavailable"`) {
		t.Errorf("first: %d %s", resp.StatusCode, body)
	}
	resp, _ = g.APIGet(t, tok, "/user")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "60" {
		t.Errorf("second: %d retry-after %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp, _ = g.APIGet(t, tok, "/user"); resp.StatusCode != 200 {
		t.Errorf("third: %d", resp.StatusCode)
	}
	g.FailNext("/user", 401)
	if resp, _ = g.APIGet(t, tok, "/user/emails"); resp.StatusCode != 200 {
		t.Errorf("FailNext is exact-path: /user/emails got %d", resp.StatusCode)
	}
	tests := map[string]int{
		"/user":                      4,
		"/api/v3/user":               4,
		"/user/emails":               1,
		"/login/oauth/authorize":     1,
		"/login/oauth/access_token":  1,
		"/login/oauth":               2,
		"/api/v3/":                   4,
		"/nothing":                   0,
		"/user/installations":        0,
		"/login/oauth/access_token/": 0,
	}
	for prefix, want := range tests {
		if got := g.Requests(prefix); got != want {
			t.Errorf("Requests(%q) = %d, want %d", prefix, got, want)
		}
	}
}

func TestGitHubAppJWTChecks(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	g := StartFixture(t, &key.PublicKey)
	g.AddInstallation(GitHubInstallation{ID: 7, AccountLogin: "acme"})
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	hsSigner, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := g.Now()
	mk := func(s jose.Signer, c jwt.Claims) string {
		out, err := jwt.Signed(s).Claims(c).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	claims := func(iss string, iat, exp time.Duration) jwt.Claims {
		return jwt.Claims{Issuer: iss, IssuedAt: jwt.NewNumericDate(now.Add(iat)), Expiry: jwt.NewNumericDate(now.Add(exp))}
	}
	tests := []struct {
		name    string
		jwt     string
		status  int
		message string
	}{
		{"valid", mk(signer, claims("31", -time.Minute, 9*time.Minute)), 201, ""},
		{"client ID issuer", mk(signer, claims(FixtureAppClientID, -time.Minute, 9*time.Minute)), 201, ""},
		{"exp too far", mk(signer, claims("31", 0, 20*time.Minute)), 401, "'Expiration time' claim ('exp') is too far in the future"},
		{"expired", mk(signer, claims("31", -20*time.Minute, -10*time.Minute)), 401, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"},
		{"iat in the future", mk(signer, claims("31", 5*time.Minute, 9*time.Minute)), 401, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"},
		{"no iat", mk(signer, jwt.Claims{Issuer: "31", Expiry: jwt.NewNumericDate(now.Add(time.Minute))}), 401, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"},
		{"HS256", mk(hsSigner, claims("31", 0, time.Minute)), 401, "A JSON web token could not be decoded"},
		{"unknown app", mk(signer, claims("99", 0, time.Minute)), 401, "Integration not found"},
		{"garbage", "a.b.c", 401, "A JSON web token could not be decoded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Authorization": {"Bearer " + tt.jwt}, "Accept": {"application/vnd.github+json"}}
			resp, body := testsupport.Fetch(t, "POST", g.URL+"/api/v3/app/installations/7/access_tokens", h, "")
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tt.status)
			}
			if tt.message != "" && !strings.Contains(body, `"message":`+mustJSON(tt.message)) {
				t.Errorf("body %s, want message %q", body, tt.message)
			}
			if tt.status == 201 && !regexp.MustCompile(`^\{"token":"ghs_[0-9A-Za-z]{36}","expires_at":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",`).MatchString(body) {
				t.Errorf("body %s", body)
			}
		})
	}
	if resp, _ := testsupport.Fetch(t, "GET", g.URL+"/api/v3/app/installations/7/access_tokens", nil, ""); resp.StatusCode != 404 {
		t.Errorf("GET on the token endpoint: %d, want 404", resp.StatusCode)
	}
}

// mustJSON is the JSON encoding of s.
func mustJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestGitHubWebhookDelivery(t *testing.T) {
	g := StartFixture(t, nil)
	type delivery struct {
		header http.Header
		body   []byte
	}
	got := make(chan delivery, 2)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- delivery{r.Header.Clone(), b}
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, "thanks")
	}))
	defer recv.Close()

	body := []byte("{\n  \"zen\": \"Keep it logically awesome.\",\n  \"hook_id\": 1\n}\n")
	resp, id, err := g.SendWebhook(recv.URL+"/hooks/github", "s3cret", "ping", body)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusAccepted || string(b) != "thanks" {
		t.Errorf("response %d %q", resp.StatusCode, b)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) {
		t.Errorf("delivery ID %q is not a GUID", id)
	}
	d := <-got
	if string(d.body) != string(body) {
		t.Errorf("body changed in transit: %q", d.body)
	}
	if err := github.VerifySignature([]byte("s3cret"), d.body, d.header.Get("X-Hub-Signature-256")); err != nil {
		t.Errorf("X-Hub-Signature-256: %v", err)
	}
	sha1MAC := hmac.New(sha1.New, []byte("s3cret"))
	sha1MAC.Write(body)
	want := map[string]string{
		"X-Hub-Signature":                        "sha1=" + hex.EncodeToString(sha1MAC.Sum(nil)),
		"X-Github-Event":                         "ping",
		"X-Github-Delivery":                      id,
		"X-Github-Hook-Id":                       "109948940",
		"X-Github-Hook-Installation-Target-Id":   "31",
		"X-Github-Hook-Installation-Target-Type": "integration",
		"Content-Type":                           "application/json",
	}
	testsupport.WantEach(t, "header", want, d.header.Get)
	if !strings.HasPrefix(d.header.Get("User-Agent"), "GitHub-Hookshot/") {
		t.Errorf("User-Agent %q", d.header.Get("User-Agent"))
	}

	if _, err := g.Redeliver(recv.URL+"/hooks/github", "s3cret", "ping", id, body); err != nil {
		t.Fatal(err)
	}
	if d2 := <-got; d2.header.Get("X-GitHub-Delivery") != id || d2.header.Get("X-Hub-Signature-256") != d.header.Get("X-Hub-Signature-256") {
		t.Errorf("redelivery headers %v", d2.header)
	}
	if _, _, err := g.SendWebhook("http://127.0.0.1:1/", "s", "ping", body); err == nil {
		t.Error("no error for an unreachable target")
	}
}

func TestGitHubAddUserTwicePanics(t *testing.T) {
	g := StartFixture(t, nil)
	defer func() {
		if recover() == nil {
			t.Error("AddUser of an existing login did not panic")
		}
	}()
	g.AddUser(GitHubUser{Login: "OctoCat"})
}
