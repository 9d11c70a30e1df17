package fakenango

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/fakegithub"
)

// newTestNango starts a fake Nango in front of newTestGitHub with the
// "github" (OAuth App) and "github-app-oauth" (GitHub App 31)
// integrations, octocat logging in, and 10 ms webhook retries.
func newTestNango(t *testing.T) (*Nango, *fakegithub.GitHub) {
	t.Helper()
	g := fakegithub.StartFixture(t, nil)
	n := NewNango(NangoOptions{
		GitHub: g,
		Integrations: map[string]NangoIntegration{
			"github":           {Provider: "github", ClientID: fakegithub.FixtureOAuthID},
			"github-app-oauth": {Provider: "github-app-oauth", ClientID: fakegithub.FixtureAppClientID},
		},
		RetryDelay: 10 * time.Millisecond,
	})
	t.Cleanup(n.Close)
	n.SetLogin("octocat")
	return n, g
}

// nangoCall sends an API request with the secret key (unless auth is
// given as "-" for none, or another Authorization value) and returns the
// response and body.
func nangoCall(t *testing.T, n *Nango, method, path, body string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, n.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+NangoDefaultSecretKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "-" {
			req.Header.Del(header[i])
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	return testsupport.Do(t, req)
}

// wantCall checks a response's status and that its body matches the
// regular expression.
func wantCall(t *testing.T, resp *http.Response, body string, status int, pattern string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d (%s), want %d", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, body, status)
	}
	if !regexp.MustCompile(pattern).MatchString(body) {
		t.Fatalf("%s %s: body\n%s\ndoes not match\n%s", resp.Request.Method, resp.Request.URL.Path, body, pattern)
	}
}

// connectAs creates a connect session from body and connects integration
// through the Connect UI with it.
func connectAs(t *testing.T, n *Nango, body, integration string) NangoConnectResult {
	t.Helper()
	res, err := n.Connect(newSession(t, n, body), integration)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// newSession creates a connect session and returns its token.
func newSession(t *testing.T, n *Nango, body string) string {
	t.Helper()
	resp, out := nangoCall(t, n, "POST", "/connect/sessions", body)
	if resp.StatusCode != 201 {
		t.Fatalf("POST /connect/sessions: %d %s", resp.StatusCode, out)
	}
	var s struct {
		Data struct{ Token string } `json:"data"`
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	return s.Data.Token
}

// getConnection fetches a connection and decodes it (order kept).
func getConnection(t *testing.T, n *Nango, id, integration, extra string) jsonObj {
	t.Helper()
	resp, body := nangoCall(t, n, "GET", "/connections/"+id+"?provider_config_key="+integration+extra, "")
	if resp.StatusCode != 200 {
		t.Fatalf("GET connection: %d %s", resp.StatusCode, body)
	}
	v, err := decodeOrdered([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return v.(jsonObj)
}

// field walks a decoded object.
func field(t *testing.T, v any, path ...string) any {
	t.Helper()
	for _, p := range path {
		o, ok := v.(jsonObj)
		if !ok {
			t.Fatalf("%v: not an object at %q", path, p)
		}
		if v, ok = o.get(p); !ok {
			t.Fatalf("%v: no member %q in %s", path, p, mustMarshal(o))
		}
	}
	return v
}

func mustMarshal(v any) string {
	b, _ := jsMarshal(v)
	return string(b)
}

// hookReceiver is a webhook endpoint answering queued statuses, then 200.
type hookReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	bodies   [][]byte
	headers  []http.Header
}

func newHookReceiver(t *testing.T, statuses ...int) *hookReceiver {
	h := &hookReceiver{statuses: statuses}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, body)
		h.headers = append(h.headers, r.Header.Clone())
		status := 200
		if len(h.statuses) > 0 {
			status, h.statuses = h.statuses[0], h.statuses[1:]
		}
		h.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookReceiver) received() ([][]byte, []http.Header) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.bodies), slices.Clone(h.headers)
}

func TestNangoAuthErrors(t *testing.T) {
	n, _ := newTestNango(t)
	tests := []struct{ auth, code string }{
		{"-", "missing_auth_header"},
		{"Token " + NangoDefaultSecretKey, "malformed_auth_header"},
		{"Bearer ", "malformed_auth_header"},
		{"Bearer wrong", "unknown_account"},
	}
	for _, tt := range tests {
		for _, path := range []string{"/connect/sessions", "/sync/trigger"} {
			resp, body := nangoCall(t, n, "POST", path, `{}`, "Authorization", tt.auth)
			wantCall(t, resp, body, 401, `^\{"error":\{"code":"`+tt.code+`","message":"Authentication failed\. [^"]+"\}\}$`)
		}
	}
	resp, body := nangoCall(t, n, "GET", "/nope", "")
	wantCall(t, resp, body, 404, `"code":"not_found"`)
}

func TestNangoCreateSessionValidation(t *testing.T) {
	n, g := newTestNango(t)
	tests := []struct {
		name, query, body string
		status            int
		pattern           string
	}{
		{"unknown key", "", `{"end_user":{"id":"u1"},"bogus":1}`, 400,
			`^\{"error":\{"code":"invalid_body","errors":\[\{"code":"unrecognized_keys","message":"Unrecognized key: \\"bogus\\"","path":\[\]\}\]\}\}$`},
		{"unknown end_user key", "", `{"end_user":{"id":"u1","name":"x"}}`, 400,
			`"code":"unrecognized_keys","message":"Unrecognized key: \\"name\\"","path":\["end_user"\]`},
		{"query string", "?x=1", `{"end_user":{"id":"u1"}}`, 400, `^\{"error":\{"code":"invalid_query_params","errors":\[\{"code":"unrecognized_keys"`},
		{"neither end_user nor tags", "", `{}`, 400, `"code":"invalid_body".*"path":\["end_user"\]`},
		{"empty end_user id", "", `{"end_user":{"id":""}}`, 400, `"code":"too_small".*"path":\["end_user","id"\]`},
		{"bad email", "", `{"end_user":{"id":"u1","email":"nope"}}`, 400, `"message":"Invalid email address","path":\["end_user","email"\]`},
		{"unknown integration", "", `{"tags":{"end_user_id":"u1"},"allowed_integrations":["github","gitlab"]}`, 400,
			`^\{"error":\{"code":"invalid_body","errors":\[\{"code":"custom","message":"Integration does not exist","path":\["allowed_integrations",1\]\}\]\}\}$`},
		{"too many tags", "", `{"tags":{"a":"1","b":"1","c":"1","d":"1","e":"1","f":"1","g":"1","h":"1","i":"1","j":"1","k":"1"}}`, 400,
			`"message":"Tags cannot contain more than 10 keys","path":\["tags"\]`},
		{"tag key too long", "", `{"tags":{"` + strings.Repeat("k", 65) + `":"v"}}`, 400, `"code":"invalid_key".*"path":\["tags","k+"\]`},
		{"tag key not a letter first", "", `{"tags":{"1a":"v"}}`, 400, `"code":"invalid_key"`},
		{"tag value too long", "", `{"tags":{"k":"` + strings.Repeat("v", 256) + `"}}`, 400, `"message":"Tag values must be at most 255 characters","path":\["tags","k"\]`},
		{"duplicate tag keys", "", `{"tags":{"Org":"1","org":"2"}}`, 400, `Duplicate tag key after case normalization`},
		{"docs_connect override", "", `{"tags":{"a":"1"},"overrides":{"github":{"docs_connect":"https://x"}}}`, 403, `"code":"forbidden"`},
		{"ok", "", `{"end_user":{"id":"u1","email":"u1@example.com","display_name":"U One"},"organization":{"id":"org1"},"tags":{"Team":"core"},"allowed_integrations":["github"]}`, 201,
			`^\{"data":\{"token":"nango_connect_session_[0-9a-f]{64}","connect_link":"` + regexp.QuoteMeta(n.ConnectURL) + `/\?session_token=nango_connect_session_[0-9a-f]{64}","expires_at":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"\}\}$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := nangoCall(t, n, "POST", "/connect/sessions"+tt.query, tt.body)
			wantCall(t, resp, body, tt.status, tt.pattern)
		})
	}
	sessions := n.Sessions()
	if len(sessions) != 1 {
		t.Fatalf("%d sessions recorded, want 1 (failed requests must not create one)", len(sessions))
	}
	s := sessions[0]
	wantTags := map[string]string{"end_user_id": "u1", "end_user_email": "u1@example.com", "end_user_display_name": "U One", "organization_id": "org1", "team": "core"}
	if fmt.Sprint(s.Tags) != fmt.Sprint(wantTags) {
		t.Errorf("session tags %v, want %v", s.Tags, wantTags)
	}
	if s.EndUser == nil || s.EndUser.ID != "u1" || s.EndUser.Email != "u1@example.com" || s.EndUser.OrganizationID != "org1" {
		t.Errorf("session end user %+v", s.EndUser)
	}
	if !slices.Equal(s.AllowedIntegrations, []string{"github"}) {
		t.Errorf("allowed %v", s.AllowedIntegrations)
	}
	if d := s.ExpiresAt.Sub(g.Now()); d < 29*time.Minute || d > 30*time.Minute {
		t.Errorf("expires in %v, want 30 min", d)
	}
	// Without Content-Type the body is not parsed (express.json()), so
	// it is {}.
	resp, body := nangoCall(t, n, "POST", "/connect/sessions", `{"end_user":{"id":"u1"}}`, "Content-Type", "-")
	wantCall(t, resp, body, 400, `"path":\["end_user"\]`)
}

func TestNangoConnectSessionUse(t *testing.T) {
	n, g := newTestNango(t)
	tok := newSession(t, n, `{"end_user":{"id":"u1"},"allowed_integrations":["github"]}`)
	if _, err := n.Connect(tok, "github-app-oauth"); err == nil {
		t.Error("Connect to an integration the session does not allow succeeded")
	}
	if _, err := n.Connect("nango_connect_session_"+strings.Repeat("0", 64), "github"); err == nil {
		t.Error("Connect with an unknown token succeeded")
	}
	// What the Connect UI reads.
	resp, body := nangoCall(t, n, "GET", "/connect/session", "", "Authorization", "Bearer "+tok)
	wantCall(t, resp, body, 200, `^\{"data":\{"endUser":\{"id":"u1","display_name":null,"email":null,"tags":null,"organization":null\},"connectUISettings":\{.*\},"allowed_integrations":\["github"\]\}\}$`)
	resp, body = nangoCall(t, n, "GET", "/connect/session", "", "Authorization", "Bearer nope")
	wantCall(t, resp, body, 401, `"code":"invalid_connect_session_token_format"`)
	resp, body = nangoCall(t, n, "GET", "/integrations", "", "Authorization", "Bearer "+tok)
	wantCall(t, resp, body, 200, `^\{"data":\[\{"unique_key":"github","display_name":"GitHub","provider":"github",.*\{"unique_key":"github-app-oauth",`)

	g.Advance(NangoConnectSessionTTL + time.Second)
	if _, err := n.Connect(tok, "github"); err == nil {
		t.Error("Connect with an expired session succeeded")
	}
	resp, body = nangoCall(t, n, "GET", "/connect/session", "", "Authorization", "Bearer "+tok)
	wantCall(t, resp, body, 401, `"code":"unknown_connect_session_token"`)
	if len(n.Connections("")) != 0 {
		t.Error("failed connects created connections")
	}
}

func TestNangoConnectionShapes(t *testing.T) {
	n, g := newTestNango(t)
	g.AddInstallation(fakegithub.GitHubInstallation{ID: 77, AccountLogin: "acme", Repos: []fakegithub.GitHubRepo{{ID: 1, FullName: "acme/api"}}})
	tok := newSession(t, n, `{"end_user":{"id":"u1","email":"u1@example.com"},"tags":{"organization_id":"org1"}}`)

	t.Run("github", func(t *testing.T) {
		res, err := n.Connect(tok, "github")
		if err != nil || res.IsPending {
			t.Fatalf("Connect: %+v %v", res, err)
		}
		c := getConnection(t, n, res.ConnectionID, "github", "")
		want := []string{"id", "connection_id", "provider_config_key", "provider", "errors", "end_user", "tags", "metadata",
			"connection_config", "webhook_url_override", "created_at", "updated_at", "last_fetched_at", "credentials"}
		if !slices.Equal(c.keys(), want) {
			t.Errorf("keys %v, want %v", c.keys(), want)
		}
		if got := mustMarshal(c[:10]); !regexp.MustCompile(`^\{"id":1,"connection_id":"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}","provider_config_key":"github","provider":"github","errors":\[\],` +
			`"end_user":\{"id":"u1","display_name":null,"email":"u1@example.com","tags":\{\},"organization":null\},` +
			`"tags":\{"end_user_email":"u1@example.com","end_user_id":"u1","organization_id":"org1"\},"metadata":null,"connection_config":\{\},"webhook_url_override":null\}$`).MatchString(got) {
			t.Errorf("connection %s", got)
		}
		creds := mustMarshal(field(t, c, "credentials"))
		if !regexp.MustCompile(`^\{"type":"OAUTH2","access_token":"gho_[0-9A-Za-z]{36}","raw":\{"access_token":"gho_[0-9A-Za-z]{36}","scope":"read:user,user:email,read:org","token_type":"bearer"\}\}$`).MatchString(creds) {
			t.Errorf("credentials %s", creds)
		}
		// The token is a real token of the fake GitHub.
		if resp, body := g.APIGet(t, field(t, c, "credentials", "access_token").(string), "/user"); resp.StatusCode != 200 || !strings.Contains(body, `"login":"octocat"`) {
			t.Errorf("GET /user with the connection's token: %d %s", resp.StatusCode, body)
		}
		got, ok := n.Connection(res.ConnectionID)
		if !ok || got.Integration != "github" || got.EndUserID != "u1" || got.Login != "octocat" || got.Pending || got.Tags["organization_id"] != "org1" {
			t.Errorf("Connection() = %+v", got)
		}
	})

	t.Run("github-app-oauth pending", func(t *testing.T) {
		res, err := n.Connect(tok, "github-app-oauth")
		if err != nil || !res.IsPending {
			t.Fatalf("Connect: %+v %v (want pending: no installation granted)", res, err)
		}
		c := getConnection(t, n, res.ConnectionID, "github-app-oauth", "")
		creds := mustMarshal(field(t, c, "credentials"))
		if !regexp.MustCompile(`^\{"type":"OAUTH2","access_token":"ghu_[0-9A-Za-z]{36}","expires_at":"[^"]+\.\d{3}Z","raw":\{"access_token":"ghu_[0-9A-Za-z]{36}","expires_in":28800,"refresh_token_expires_in":15811200,"scope":"","token_type":"bearer"\}\}$`).MatchString(creds) {
			t.Errorf("credentials (refresh tokens must be stripped) %s", creds)
		}
		if field(t, c, "connection_config", "pending") != true || field(t, c, "connection_config", "handle") != "octocat" {
			t.Errorf("connection_config %s", mustMarshal(field(t, c, "connection_config")))
		}
		userTok := field(t, c, "credentials", "access_token").(string)
		if field(t, c, "connection_config", "userCredentials", "access_token") != userTok {
			t.Error("userCredentials differ from the pending credentials")
		}
		if resp, body := g.APIGet(t, userTok, "/user/installations"); resp.StatusCode != 200 || !strings.Contains(body, `"total_count":0`) {
			t.Errorf("GET /user/installations with the pending user token: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("github-app-oauth installed", func(t *testing.T) {
		g.GrantInstallation("octocat", 77)
		res, err := n.Connect(tok, "github-app-oauth")
		if err != nil || res.IsPending {
			t.Fatalf("Connect: %+v %v", res, err)
		}
		c := getConnection(t, n, res.ConnectionID, "github-app-oauth", "")
		creds := mustMarshal(field(t, c, "credentials"))
		if !regexp.MustCompile(`^\{"type":"APP","access_token":"ghs_[0-9A-Za-z]{36}","expires_at":"[^"]+\.000Z","raw":\{"token":"ghs_[0-9A-Za-z]{36}","expires_at":"[^"]+:\d\dZ","permissions":\{.*\},"repository_selection":"all"\}\}$`).MatchString(creds) {
			t.Errorf("credentials %s", creds)
		}
		cfg := mustMarshal(field(t, c, "connection_config"))
		if !regexp.MustCompile(`^\{"installation_id":"77","app_id":"31","jwtToken":"eyJ[^".]+\.eyJ[^".]+\.[^".]+","pending":false,"handle":"octocat","userCredentials":\{"type":"OAUTH2","access_token":"ghu_[0-9A-Za-z]{36}","expires_at":"[^"]+","raw":\{[^{}]+\}\}\}$`).MatchString(cfg) {
			t.Errorf("connection_config %s", cfg)
		}
		if strings.Contains(cfg, `"refresh_token"`) || !strings.Contains(cfg, `"refresh_token_expires_in"`) {
			t.Errorf("refresh_token must be stripped, refresh_token_expires_in kept: %s", cfg)
		}
		// The user token is in userCredentials, the installation token in
		// credentials, and GitHub tells them apart (finding 0.1).
		instTok := field(t, c, "credentials", "access_token").(string)
		userTok := field(t, c, "connection_config", "userCredentials", "access_token").(string)
		if resp, _ := g.APIGet(t, instTok, "/user/installations"); resp.StatusCode != 403 {
			t.Errorf("installation token on /user/installations: %d, want 403", resp.StatusCode)
		}
		if resp, body := g.APIGet(t, userTok, "/user/installations"); resp.StatusCode != 200 || !strings.Contains(body, `"id":77`) {
			t.Errorf("user token on /user/installations: %d %s", resp.StatusCode, body)
		}
		if resp, body := g.APIGet(t, instTok, "/installation/repositories"); resp.StatusCode != 200 || !strings.Contains(body, "acme/api") {
			t.Errorf("installation token on /installation/repositories: %d %s", resp.StatusCode, body)
		}
		// refresh_token=true keeps them.
		withRefresh := mustMarshal(getConnection(t, n, res.ConnectionID, "github-app-oauth", "&refresh_token=true"))
		if !regexp.MustCompile(`"userCredentials":\{"type":"OAUTH2","access_token":"ghu_\w+","refresh_token":"ghr_\w+",.*"raw":\{[^}]*"refresh_token":"ghr_`).MatchString(withRefresh) {
			t.Errorf("refresh_token=true: %s", withRefresh)
		}
		if got, _ := n.Connection(res.ConnectionID); got.InstallationID != 77 || got.Pending {
			t.Errorf("Connection() = %+v", got)
		}
	})

	t.Run("errors", func(t *testing.T) {
		id := n.Connections("github")[0].ID
		resp, body := nangoCall(t, n, "GET", "/connections/"+id+"?provider_config_key=nope", "")
		wantCall(t, resp, body, 400, `^\{"error":\{"code":"unknown_provider_config","message":"[^"]+"\}\}$`)
		resp, body = nangoCall(t, n, "GET", "/connections/"+id+"?provider_config_key=github-app-oauth", "")
		wantCall(t, resp, body, 404, `^\{"error":\{"code":"not_found","message":"[^"]+"\}\}$`)
		resp, body = nangoCall(t, n, "GET", "/connections/"+id, "")
		wantCall(t, resp, body, 400, `"code":"invalid_query_params".*"path":\["provider_config_key"\]`)
		resp, body = nangoCall(t, n, "GET", "/connections/"+id+"?provider_config_key=github&extra=1", "")
		wantCall(t, resp, body, 400, `"code":"invalid_query_params","errors":\[\{"code":"unrecognized_keys","message":"Unrecognized key: \\"extra\\""`)
		resp, body = nangoCall(t, n, "GET", "/connections/"+id+"?provider_config_key=github&refresh_token=yes", "")
		wantCall(t, resp, body, 400, `"path":\["refresh_token"\]`)
		// The deprecated path works but lacks refresh_github_app_jwt_token.
		resp, body = nangoCall(t, n, "GET", "/connection/"+id+"?provider_config_key=github", "")
		wantCall(t, resp, body, 200, `"connection_id":"`+id+`"`)
		resp, body = nangoCall(t, n, "GET", "/connection/"+id+"?provider_config_key=github&refresh_github_app_jwt_token=true", "")
		wantCall(t, resp, body, 400, `"code":"invalid_query_params"`)
	})
}

func TestNangoRefresh(t *testing.T) {
	n, g := newTestNango(t)
	hooks := newHookReceiver(t)
	n.SetWebhookURL(hooks.URL)
	res := connectAs(t, n, `{"end_user":{"id":"u1"}}`, "github-app-oauth")
	before := field(t, getConnection(t, n, res.ConnectionID, "github-app-oauth", ""), "credentials", "access_token").(string)
	exchanges := g.Requests("/login/oauth/access_token")
	g.Advance(fakegithub.GitHubUserTokenLifetime - 10*time.Minute) // inside the 15 min margin
	after := field(t, getConnection(t, n, res.ConnectionID, "github-app-oauth", ""), "credentials", "access_token").(string)
	if after == before || g.Requests("/login/oauth/access_token") != exchanges+1 {
		t.Fatalf("the user token was not refreshed through GitHub (%s → %s)", before, after)
	}
	if resp, _ := g.APIGet(t, before, "/user"); resp.StatusCode != 401 {
		t.Errorf("old token still works: %d", resp.StatusCode)
	}
	if resp, _ := g.APIGet(t, after, "/user"); resp.StatusCode != 200 {
		t.Errorf("new token: %d", resp.StatusCode)
	}
	// A revoked grant makes the refresh fail: 400 invalid_credentials, a
	// refresh webhook, then 424 during the cooldown.
	g.RevokeAuthorization("octocat")
	g.Advance(fakegithub.GitHubUserTokenLifetime - 10*time.Minute)
	path := "/connections/" + res.ConnectionID + "?provider_config_key=github-app-oauth"
	resp, body := nangoCall(t, n, "GET", path, "")
	wantCall(t, resp, body, 400, `^\{"error":\{"code":"invalid_credentials","message":"[^"]+","payload":\{"connection":\{`)
	resp, body = nangoCall(t, n, "GET", path, "")
	wantCall(t, resp, body, 424, `"code":"invalid_credentials"`)
	resp, body = nangoCall(t, n, "GET", "/proxy/user", "", "Connection-Id", res.ConnectionID, "Provider-Config-Key", "github-app-oauth")
	wantCall(t, resp, body, 424, `"code":"connection_refresh_backoff"`)
	all := n.WaitDeliveries(t, 2)
	last := all[len(all)-1]
	if last.Type != "auth" || last.Operation != "refresh" ||
		!regexp.MustCompile(`^\{"authMode":"CUSTOM","connectionId":"[^"]+","environment":"dev","error":\{"description":"[^"]+","type":"refresh_token_external_error"\},"from":"nango","operation":"refresh","provider":"github-app-oauth","providerConfigKey":"github-app-oauth","success":false,"tags":\{"end_user_id":"u1"\},"type":"auth"\}$`).Match(last.Body) {
		t.Errorf("refresh failure webhook %s %s %s", last.Type, last.Operation, last.Body)
	}
	// The connection reports the error.
	g.Advance(NangoRefreshCooldown)
	resp, body = nangoCall(t, n, "GET", path, "")
	wantCall(t, resp, body, 400, `"code":"invalid_credentials"`)
}

func TestNangoProxy(t *testing.T) {
	n, g := newTestNango(t)
	var repos []fakegithub.GitHubRepo
	for i := 1; i <= 5; i++ {
		repos = append(repos, fakegithub.GitHubRepo{ID: int64(i), FullName: fmt.Sprintf("acme/r%d", i)})
	}
	g.AddInstallation(fakegithub.GitHubInstallation{ID: 77, AccountLogin: "acme", Repos: repos})
	g.GrantInstallation("octocat", 77)
	res := connectAs(t, n, `{"tags":{"end_user_id":"u1"}}`, "github-app-oauth")
	hdr := []string{"Connection-Id", res.ConnectionID, "Provider-Config-Key", "github-app-oauth"}

	// The proxy uses credentials.access_token: the installation token.
	resp, body := nangoCall(t, n, "GET", "/proxy/installation/repositories?per_page=2&page=1", "", hdr...)
	wantCall(t, resp, body, 200, `^\{"total_count":5,"repository_selection":"all","repositories":\[\{"id":1,.*"full_name":"acme/r2"`)
	if resp.Header.Get("Link") != "" || resp.Header.Get("X-Ratelimit-Remaining") != "" || resp.Header.Get("X-Github-Request-Id") != "" {
		t.Errorf("proxy forwarded headers it drops: %v", resp.Header)
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	if g.Requests("/installation/repositories") != 1 {
		t.Error("the request did not reach the fake GitHub")
	}
	// testsupport.Upstream errors pass through with their status and body (and, on
	// axios' error path, every header).
	resp, body = nangoCall(t, n, "GET", "/proxy/user/installations", "", hdr...)
	wantCall(t, resp, body, 403, `^\{"message":"Resource not accessible by integration"`)
	if resp.Header.Get("X-Ratelimit-Limit") == "" {
		t.Errorf("error answer lost its headers: %v", resp.Header)
	}

	// Headers, query and auth as sent upstream.
	echo := testsupport.NewUpstream()
	defer echo.Close()
	resp, body = nangoCall(t, n, "GET", "/proxy/a/b%2Fc?x=1&y=2", "", append(hdr, "Base-Url-Override", echo.URL, "Nango-Proxy-Accept", "application/vnd.github+json", "X-Other", "nope")...)
	wantCall(t, resp, body, 200, `"uri":"/a/b%2Fc\?x=1\\u0026y=2"`)
	last := echo.Last()
	if !strings.HasPrefix(last.Header.Get("Authorization"), "Bearer ghs_") || last.Header.Get("Accept") != "application/vnd.github+json" ||
		last.Header.Get("X-Other") != "" || last.Header.Get("Connection-Id") != "" {
		t.Errorf("upstream request headers %v", last.Header)
	}

	for _, tt := range []struct {
		header  []string
		status  int
		pattern string
	}{
		{[]string{"Provider-Config-Key", "github-app-oauth"}, 400, `^\{"error":\{"code":"invalid_headers","errors":\[\{"code":"invalid_type","message":"Invalid input: expected string, received undefined","path":\["connection-id"\]\}\]\}\}$`},
		{[]string{"Connection-Id", res.ConnectionID}, 400, `"code":"invalid_headers".*"path":\["provider-config-key"\]`},
		{[]string{"Connection-Id", res.ConnectionID, "Provider-Config-Key", "nope"}, 404, `"code":"unknown_provider_config"`},
		{[]string{"Connection-Id", "nope", "Provider-Config-Key", "github-app-oauth"}, 400, `^\{"error":\{"code":"server_error","message":"Failed to get connection"\}\}$`},
		{append(slices.Clone(hdr), "Authorization", "Bearer wrong"), 401, `"code":"unknown_account"`},
	} {
		resp, body := nangoCall(t, n, "GET", "/proxy/user", "", tt.header...)
		wantCall(t, resp, body, tt.status, tt.pattern)
	}
}

func TestNangoWebhookSignaturesAndBody(t *testing.T) {
	n, _ := newTestNango(t)
	hooks := newHookReceiver(t)
	n.SetWebhookURL(hooks.URL)
	tok := newSession(t, n, `{"end_user":{"id":"u_1","email":"a@b.co"},"tags":{"organization_id":"org_1"}}`)
	res, err := n.Connect(tok, "github")
	if err != nil {
		t.Fatal(err)
	}
	n.WaitDeliveries(t, 1)
	n.RotateWebhookKey("new-key")
	n.SendSync("github", res.ConnectionID, "repos", "Repo")
	deliveries := n.WaitDeliveries(t, 2)
	bodies, headers := hooks.received()
	if len(bodies) != 2 {
		t.Fatalf("%d webhooks received, want 2", len(bodies))
	}
	want := `{"authMode":"OAUTH2","connectionId":"` + res.ConnectionID + `","endUser":{"endUserEmail":"a@b.co","endUserId":"u_1","tags":{}},"environment":"dev","from":"nango","operation":"creation","provider":"github","providerConfigKey":"github","success":true,"tags":{"end_user_email":"a@b.co","end_user_id":"u_1","organization_id":"org_1"},"type":"auth"}`
	if string(bodies[0]) != want {
		t.Errorf("auth webhook body\n%s\nwant\n%s", bodies[0], want)
	}
	if !regexp.MustCompile(`^\{"connectionId":"[^"]+","from":"nango","model":"Repo","modifiedAfter":"[^"]+Z","providerConfigKey":"github","queryTimeStamp":"[^"]+Z","responseResults":\{"added":1,"deleted":0,"updated":0\},"success":true,"syncName":"repos","syncType":"INCREMENTAL","syncVariant":"base","type":"sync"\}$`).Match(bodies[1]) {
		t.Errorf("sync webhook body %s", bodies[1])
	}
	for i, key := range []string{NangoDefaultWebhookKey, "new-key"} {
		hmacHex, legacy := NangoSign([]byte(key), bodies[i])
		if headers[i].Get("X-Nango-Hmac-Sha256") != hmacHex || headers[i].Get("X-Nango-Signature") != legacy {
			t.Errorf("webhook %d: signatures %q %q, want %q %q (key %q)", i, headers[i].Get("X-Nango-Hmac-Sha256"), headers[i].Get("X-Nango-Signature"), hmacHex, legacy, key)
		}
		if headers[i].Get("Content-Type") != "application/json" || headers[i].Get("User-Agent") != NangoWebhookUserAgent {
			t.Errorf("webhook %d headers %v", i, headers[i])
		}
		if !bytes.Equal(deliveries[i].Body, bodies[i]) || !slices.Equal(deliveries[i].Statuses, []int{200}) || !deliveries[i].Done {
			t.Errorf("delivery %d recorded as %+v", i, deliveries[i])
		}
	}
	if deliveries[0].Type != "auth" || deliveries[0].Operation != "creation" || deliveries[0].ConnectionID != res.ConnectionID || deliveries[1].Type != "sync" {
		t.Errorf("deliveries %+v", deliveries)
	}
	// Known vectors: openssl dgst -sha256 -hmac key, and sha256sum of "keybody".
	if h, l := NangoSign([]byte("key"), []byte("body")); h != "515aae133b435d4000956731f68ae5cf5eb85d4f0dc6a546d2bfcd3595ec1ae1" ||
		l != "1bae80b75a57754f86b3908413e62372297b9c7d6a25568bcb82675d155d149c" {
		t.Errorf("NangoSign(key, body) = %s, %s", h, l)
	}
}

func TestNangoWebhookBodyEncoding(t *testing.T) {
	got := string(NangoWebhookBody(map[string]any{
		"z": 1, "a": []any{"<&>", 1.5, 1e21, 0.0000001, int64(12345678901), nil, true},
		"m":          map[string]any{"b": "é\u2028\n\"\\\x01", "B": json.Number("2.50"), "a": json.RawMessage(`{"y":1,"x":[2]}`)},
		"\U0001F600": "astral", "\uFF5E": "bmp",
	}))
	want := `{"a":["<&>",1.5,1e+21,1e-7,12345678901,null,true],"m":{"B":2.5,"a":{"x":[2],"y":1},"b":"é` + "\u2028" + `\n\"\\\u0001"},"z":1,"` + "\U0001F600" + `":"astral","` + "\uFF5E" + `":"bmp"}`
	if got != want {
		t.Errorf("NangoWebhookBody\n%s\nwant\n%s", got, want)
	}
}

func TestNangoWebhookRetries(t *testing.T) {
	n, _ := newTestNango(t)
	hooks := newHookReceiver(t, 500, 503, 400)
	n.SetWebhookURL(hooks.URL)
	start := time.Now()
	n.Send(map[string]any{"type": "auth", "connectionId": "c1", "n": 1}) // 500, 503, then 400: no 4th attempt
	n.Send(map[string]any{"type": "auth", "connectionId": "c1", "n": 2}) // after the first: 200
	ds := n.WaitDeliveries(t, 2)
	if !slices.Equal(ds[0].Statuses, []int{500, 503, 400}) || !slices.Equal(ds[1].Statuses, []int{200}) {
		t.Errorf("statuses %v and %v, want [500 503 400] and [200]", ds[0].Statuses, ds[1].Statuses)
	}
	if el := time.Since(start); el < 30*time.Millisecond {
		t.Errorf("retries waited %v, want ≥ 10 ms + 20 ms", el)
	}
	bodies, _ := hooks.received()
	if len(bodies) != 4 || !strings.Contains(string(bodies[3]), `"n":2`) {
		t.Errorf("received %q (same-connection webhooks must keep their order)", bodies)
	}

	// 4xx is never retried.
	hooks2 := newHookReceiver(t, 404)
	n.SetWebhookURL(hooks2.URL)
	n.Send(map[string]any{"type": "sync"})
	ds = n.WaitDeliveries(t, 3)
	if !slices.Equal(ds[2].Statuses, []int{404}) {
		t.Errorf("4xx statuses %v, want [404]", ds[2].Statuses)
	}
	// Network errors are retried: 3 attempts in all.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	n.SetWebhookURL(dead.URL)
	n.Send(map[string]any{"type": "sync"})
	ds = n.WaitDeliveries(t, 4)
	if !slices.Equal(ds[3].Statuses, []int{0, 0, 0}) {
		t.Errorf("network error statuses %v, want [0 0 0]", ds[3].Statuses)
	}
	// Without a webhook URL nothing is sent.
	n.SetWebhookURL("")
	n.Send(map[string]any{"type": "sync"})
	if len(n.Deliveries()) != 4 {
		t.Error("a webhook was recorded without a webhook URL")
	}
}

func TestNangoApproveFlow(t *testing.T) {
	n, g := newTestNango(t)
	hooks := newHookReceiver(t)
	n.SetWebhookURL(hooks.URL)
	g.AddInstallation(fakegithub.GitHubInstallation{ID: 88, AccountLogin: "acme"})
	res, err := n.Connect(newSession(t, n, `{"end_user":{"id":"u1"}}`), "github-app-oauth")
	if err != nil || !res.IsPending {
		t.Fatalf("Connect: %+v %v", res, err)
	}
	if ds := n.WaitDeliveries(t, 1); len(ds) != 1 || ds[0].Operation != "creation" || !strings.Contains(string(ds[0].Body), `"authMode":"CUSTOM"`) {
		t.Fatalf("deliveries after a pending connect: %+v", ds)
	}
	if err := n.Approve(res.ConnectionID); err == nil {
		t.Error("Approve without a granted installation succeeded")
	}
	g.GrantInstallation("octocat", 88)
	if err := n.Approve(res.ConnectionID); err != nil {
		t.Fatal(err)
	}
	ds := n.WaitDeliveries(t, 2)
	if len(ds) != 2 || ds[1].Operation != "override" || ds[1].ConnectionID != res.ConnectionID || !strings.Contains(string(ds[1].Body), `"endUser":{"endUserId":"u1","tags":{}}`) {
		t.Errorf("override webhook %+v %s", ds, ds[len(ds)-1].Body)
	}
	c := getConnection(t, n, res.ConnectionID, "github-app-oauth", "")
	if field(t, c, "credentials", "type") != "APP" || field(t, c, "connection_config", "pending") != false || field(t, c, "connection_config", "installation_id") != "88" {
		t.Errorf("approved connection %s", mustMarshal(c))
	}
	if got, _ := n.Connection(res.ConnectionID); got.Pending || got.InstallationID != 88 {
		t.Errorf("Connection() = %+v", got)
	}
	if err := n.Approve(res.ConnectionID); err == nil {
		t.Error("Approve of an installed connection succeeded")
	}
	// Connecting with the installation granted: creation, then override.
	connectAs(t, n, `{"tags":{"end_user_id":"u2"}}`, "github-app-oauth")
	ds = n.WaitDeliveries(t, 4)
	if ds[2].Operation != "creation" || ds[3].Operation != "override" || strings.Contains(string(ds[2].Body), "endUser") {
		t.Errorf("installed connect webhooks: %s / %s", ds[2].Body, ds[3].Body)
	}
}

func TestNangoPatchAndDelete(t *testing.T) {
	n, _ := newTestNango(t)
	hooks := newHookReceiver(t)
	n.SetWebhookURL(hooks.URL)
	res := connectAs(t, n, `{"end_user":{"id":"temp"}}`, "github")
	n.WaitDeliveries(t, 1)
	path := "/connections/" + res.ConnectionID + "?provider_config_key=github"
	resp, body := nangoCall(t, n, "PATCH", path, `{"end_user":{"id":"real-42","email":"r@example.com"}}`)
	wantCall(t, resp, body, 200, `^\{"success":true\}$`)
	if c, _ := n.Connection(res.ConnectionID); c.EndUserID != "real-42" || c.Tags["end_user_id"] != "real-42" || c.Tags["end_user_email"] != "r@example.com" {
		t.Errorf("after PATCH end_user: %+v", c)
	}
	resp, body = nangoCall(t, n, "PATCH", path, `{"tags":{"End_User_Id":"real-43","team":"x"}}`)
	wantCall(t, resp, body, 200, `^\{"success":true\}$`)
	if c, _ := n.Connection(res.ConnectionID); fmt.Sprint(c.Tags) != "map[end_user_id:real-43 team:x]" {
		t.Errorf("after PATCH tags: %v", c.Tags)
	}
	resp, body = nangoCall(t, n, "PATCH", path, `{"webhook_url_override":"`+hooks.URL+`/override"}`)
	wantCall(t, resp, body, 200, `success`)
	if got := field(t, getConnection(t, n, res.ConnectionID, "github", ""), "webhook_url_override"); got != hooks.URL+"/override" {
		t.Errorf("webhook_url_override %v", got)
	}
	n.SendSync("github", res.ConnectionID, "repos", "Repo")
	if ds := n.WaitDeliveries(t, 2); ds[1].URL != hooks.URL+"/override" {
		t.Errorf("webhook went to %s, want the override", ds[1].URL)
	}
	resp, body = nangoCall(t, n, "PATCH", path, `{"metadata":{}}`)
	wantCall(t, resp, body, 400, `"code":"invalid_body","errors":\[\{"code":"unrecognized_keys"`)
	resp, body = nangoCall(t, n, "PATCH", "/connections/nope?provider_config_key=github", `{"tags":{}}`)
	wantCall(t, resp, body, 404, `"code":"not_found"`)
	resp, body = nangoCall(t, n, "PATCH", "/connection/"+res.ConnectionID+"?provider_config_key=github", `{"tags":{}}`)
	wantCall(t, resp, body, 404, `"code":"not_found"`) // PATCH exists only on the plural path

	resp, body = nangoCall(t, n, "DELETE", path, "")
	wantCall(t, resp, body, 200, `^\{"success":true\}$`)
	if _, ok := n.Connection(res.ConnectionID); ok || len(n.Connections("github")) != 0 {
		t.Error("deleted connection still listed")
	}
	resp, body = nangoCall(t, n, "GET", path, "")
	wantCall(t, resp, body, 404, `"code":"not_found"`)
	resp, body = nangoCall(t, n, "DELETE", "/connection/"+res.ConnectionID+"?provider_config_key=github", "")
	wantCall(t, resp, body, 400, `^\{"error":\{"code":"unknown_connection"\}\}$`)
	time.Sleep(20 * time.Millisecond)
	if len(n.Deliveries()) != 2 {
		t.Error("DELETE sent a webhook")
	}
	if n.Requests("DELETE", "/connection") != 2 || n.Requests("", "/connections/") < 5 {
		t.Errorf("Requests: %d DELETE, %d on /connections/", n.Requests("DELETE", "/connection"), n.Requests("", "/connections/"))
	}
}

func TestNangoSyncTrigger(t *testing.T) {
	n, _ := newTestNango(t)
	res := connectAs(t, n, `{"tags":{"end_user_id":"u1"}}`, "github")
	resp, body := nangoCall(t, n, "POST", "/sync/trigger", `{"provider_config_key":"github","connection_id":"`+res.ConnectionID+`","syncs":["repos",{"name":"users","variant":"base"}],"opts":{"reset":false,"emptyCache":false}}`)
	wantCall(t, resp, body, 200, `^\{"success":true\}$`)
	resp, body = nangoCall(t, n, "POST", "/sync/trigger", `{"syncs":["repos"]}`, "Provider-Config-Key", "github", "Connection-Id", res.ConnectionID)
	wantCall(t, resp, body, 200, `^\{"success":true\}$`)
	resp, body = nangoCall(t, n, "POST", "/sync/trigger", `{"syncs":["repos"]}`)
	wantCall(t, resp, body, 400, `^\{"error":\{"code":"missing_provider_config_key","message":"[^"]+"\}\}$`)
	resp, body = nangoCall(t, n, "POST", "/sync/trigger", `{"provider_config_key":"github","syncs":[1]}`)
	wantCall(t, resp, body, 400, `"code":"invalid_body".*"path":\["syncs",0\]`)
	resp, body = nangoCall(t, n, "POST", "/sync/trigger", `{"provider_config_key":"github","syncs":["repos"],"full_resync":true,"opts":{}}`)
	wantCall(t, resp, body, 400, `"code":"invalid_body"`)
	want := []NangoSyncTrigger{
		{Integration: "github", ConnectionID: res.ConnectionID, Syncs: []string{"repos", "users"}},
		{Integration: "github", ConnectionID: res.ConnectionID, Syncs: []string{"repos"}},
	}
	if got := n.SyncTriggers(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("SyncTriggers %+v, want %+v", got, want)
	}
}

func TestNangoForwardWebhook(t *testing.T) {
	n, _ := newTestNango(t)
	hooks := newHookReceiver(t)
	n.SetWebhookURL(hooks.URL)
	payload := []byte(`{"action":"created","installation":{"id":77,"account":{"login":"acme"}},"sender":{"login":"octocat"}}`)
	n.SendForward("github-app-oauth", "conn-1", "installation", payload)
	n.SendForwardUnattributed("github-app-oauth", "installation", payload)
	n.WaitDeliveries(t, 2)
	bodies, headers := hooks.received()
	if len(bodies) == 2 && !bytes.HasPrefix(bodies[0], []byte(`{"connectionId"`)) { // different connections: no order
		bodies[0], bodies[1] = bodies[1], bodies[0]
		headers[0], headers[1] = headers[1], headers[0]
	}
	want := `{"connectionId":"conn-1","from":"github-app-oauth","payload":{"action":"created","installation":{"account":{"login":"acme"},"id":77},"sender":{"login":"octocat"}},"providerConfigKey":"github-app-oauth","type":"forward"}`
	if len(bodies) != 2 || string(bodies[0]) != want {
		t.Fatalf("forward body %s, want %s", bodies[0], want)
	}
	if string(bodies[1]) != `{"action":"created","installation":{"account":{"login":"acme"},"id":77},"sender":{"login":"octocat"}}` {
		t.Errorf("unattributed body %s", bodies[1])
	}
	h := headers[0]
	if h.Get("X-GitHub-Event") != "installation" || h.Get("X-GitHub-Delivery") == "" || h.Get("X-GitHub-Hook-Installation-Target-ID") != "31" ||
		h.Get("X-Hub-Signature-256") != fakegithub.SignGitHubBody(NangoGitHubWebhookSecret, payload) || h.Get("User-Agent") != NangoWebhookUserAgent {
		t.Errorf("forward headers %v", h)
	}
	if hm, _ := NangoSign([]byte(NangoDefaultWebhookKey), bodies[0]); h.Get("X-Nango-Hmac-Sha256") != hm {
		t.Error("forward webhook not signed by Nango")
	}
}

func TestNangoConnectUI(t *testing.T) {
	n, _ := newTestNango(t)
	resp, err := http.Get(n.ConnectURL + "/?apiURL=x")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`window.parent.postMessage(evt, "*")`, `post({ type: "ready" })`, `d.type !== "session_token"`,
		`type: "connect", payload: { providerConfigKey: res.providerConfigKey, connectionId: res.connectionId, isPending: res.isPending }`,
		`type: "error", payload: { errorType: type, errorMessage: message }`, `post({ type: "close" })`,
		`id="close"`, `"connect-" + integ.unique_key`, `params.get("apiURL") || "` + n.URL + `"`,
		`"/connect/session"`, `"/fake/connect"`, `params.get("session_token")`, `window.parent !== window`, `"Connected"`,
	} {
		if !strings.Contains(string(page), want) {
			t.Errorf("Connect UI page lacks %q", want)
		}
	}
	if strings.Contains(string(page), "src=") || strings.Contains(string(page), "href=") {
		t.Error("Connect UI page loads external assets")
	}

	// CORS for the Connect UI's origin.
	req, _ := http.NewRequest("OPTIONS", n.URL+"/connect/session", nil)
	req.Header.Set("Origin", n.ConnectURL)
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Headers", "authorization")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != n.ConnectURL ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}

	// What the page's Connect button does.
	tok := newSession(t, n, `{"tags":{"end_user_id":"u1"}}`)
	resp, body := nangoCall(t, n, "POST", "/fake/connect", `{"sessionToken":"`+tok+`","integration":"github"}`, "Origin", n.ConnectURL)
	wantCall(t, resp, body, 200, `^\{"data":\{"providerConfigKey":"github","connectionId":"[0-9a-f-]{36}","isPending":false\}\}$`)
	if resp.Header.Get("Access-Control-Allow-Origin") != n.ConnectURL {
		t.Error("no CORS header on /fake/connect")
	}
	resp, body = nangoCall(t, n, "POST", "/fake/connect", `{"sessionToken":"nope","integration":"github"}`)
	wantCall(t, resp, body, 400, `^\{"error":\{"code":"missing_connect_session_token","message":"[^"]+"\}\}$`)
	if cs := n.Connections("github"); len(cs) != 1 || cs[0].EndUserID != "u1" {
		t.Errorf("connections %+v, want one with end user u1 (from tags)", cs)
	}
}
