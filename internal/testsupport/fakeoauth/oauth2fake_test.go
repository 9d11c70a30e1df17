package fakeoauth

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const (
	o2TestClient   = "cli_test"
	o2TestSecret   = "secret-1"
	o2TestRedirect = "https://app.example/cb?x=1"
)

// o2Paths are the test's view of each kind's endpoints.
var o2Paths = map[string]struct{ authorize, token, userinfo string }{
	"gitlab":    {"/oauth/authorize", "/oauth/token", "/oauth/userinfo"},
	"microsoft": {"/common/oauth2/v2.0/authorize", "/common/oauth2/v2.0/token", "/oidc/userinfo"},
	"gitee":     {"/oauth/authorize", "/oauth/token", "/api/v5/user"},
	"feishu":    {"/open-apis/authen/v1/authorize", "/open-apis/authen/v2/oauth/token", "/open-apis/authen/v1/user_info"},
	"lark":      {"/open-apis/authen/v1/authorize", "/open-apis/authen/v2/oauth/token", "/open-apis/authen/v1/user_info"},
}

var o2Kinds = []string{"gitlab", "microsoft", "gitee", "feishu", "lark"}

func newO2Fake(t *testing.T, kind string) *OAuth2Fake {
	t.Helper()
	f := NewOAuth2Fake(kind)
	t.Cleanup(f.Close)
	f.AddClient(o2TestClient, o2TestSecret)
	return f
}

// o2GoAuthorize sends the browser to the authorize endpoint with extra and
// returns the callback query (or fails when there is no redirect).
func o2GoAuthorize(t *testing.T, f *OAuth2Fake, extra url.Values) url.Values {
	t.Helper()
	q := url.Values{"client_id": {o2TestClient}, "redirect_uri": {o2TestRedirect}, "response_type": {"code"}, "state": {"st-1"}}
	for k, v := range extra {
		q[k] = v
	}
	loc := testsupport.Redirected(t, f.URL+o2Paths[f.Kind()].authorize+"?"+q.Encode())
	if !strings.HasPrefix(loc.String(), "https://app.example/cb?") || loc.Query().Get("x") != "1" {
		t.Fatalf("redirected to %s", loc)
	}
	return loc.Query()
}

// o2Post posts form to the fake's path and decodes the JSON answer.
func o2Post(t *testing.T, f *OAuth2Fake, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(f.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	return o2Decode(t, resp)
}

func o2Decode(t *testing.T, resp *http.Response) (int, map[string]any) {
	t.Helper()
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return resp.StatusCode, map[string]any{"_raw": string(body)}
	}
	return resp.StatusCode, m
}

// o2Get sends a GET with the access token the way the kind takes it.
func o2Get(t *testing.T, f *OAuth2Fake, path, token string) (int, []byte) {
	t.Helper()
	u := f.URL + path
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if f.Kind() == "gitee" {
		req.URL.RawQuery = url.Values{"access_token": {token}}.Encode()
	} else {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

func o2CodeForm(code string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {o2TestRedirect},
		"client_id": {o2TestClient}, "client_secret": {o2TestSecret}}
}

func o2Challenge(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestOAuth2FakeLoginShapes(t *testing.T) {
	for _, kind := range o2Kinds {
		t.Run(kind, func(t *testing.T) {
			f := newO2Fake(t, kind)
			scope := map[string]string{"gitlab": "openid profile email", "microsoft": "openid profile email offline_access",
				"gitee": "user_info emails", "feishu": "offline_access", "lark": ""}[kind]
			cb := o2GoAuthorize(t, f, url.Values{"scope": {scope}})
			if cb.Get("state") != "st-1" || cb.Get("code") == "" {
				t.Fatalf("callback %v", cb)
			}
			if kind == "microsoft" && cb.Get("session_state") == "" {
				t.Error("no session_state")
			}
			if f.LastAuthorize().Get("scope") != scope || f.LastAuthorizePath() != o2Paths[kind].authorize {
				t.Errorf("LastAuthorize %v %s", f.LastAuthorize(), f.LastAuthorizePath())
			}
			status, tok := o2Post(t, f, o2Paths[kind].token, o2CodeForm(cb.Get("code")))
			if status != http.StatusOK || tok["access_token"] == "" {
				t.Fatalf("token answer %d %v", status, tok)
			}
			want := map[string][]string{
				"gitlab":    {"access_token", "token_type", "expires_in", "refresh_token", "scope", "created_at", "id_token"},
				"microsoft": {"token_type", "scope", "expires_in", "ext_expires_in", "access_token", "refresh_token", "id_token"},
				"gitee":     {"access_token", "token_type", "expires_in", "refresh_token", "scope", "created_at"},
				"feishu":    {"code", "access_token", "expires_in", "refresh_token", "refresh_token_expires_in", "scope", "token_type"},
				"lark":      {"code", "access_token", "expires_in", "scope", "token_type"},
			}[kind]
			for _, k := range want {
				if _, ok := tok[k]; !ok {
					t.Errorf("token answer lacks %q: %v", k, tok)
				}
			}
			if len(tok) != len(want) {
				t.Errorf("token answer has %d fields, want %d: %v", len(tok), len(want), tok)
			}
			status, body := o2Get(t, f, o2Paths[kind].userinfo, tok["access_token"].(string))
			if status != http.StatusOK {
				t.Fatalf("userinfo %d %s", status, body)
			}
			var info map[string]any
			if err := json.Unmarshal(body, &info); err != nil {
				t.Fatal(err)
			}
			switch kind {
			case "gitlab":
				if info["sub"] != "4242" || info["preferred_username"] != "alice" || info["email_verified"] != true {
					t.Errorf("userinfo %v", info)
				}
			case "microsoft":
				if info["sub"] == "" || info["email"] != "alice@contoso.example" || info["preferred_username"] != nil {
					t.Errorf("userinfo %v", info)
				}
			case "gitee":
				if info["id"] != float64(5294558) || info["login"] != "alice" {
					t.Errorf("user %v", info)
				}
			case "feishu", "lark":
				data, _ := info["data"].(map[string]any)
				if info["code"] != float64(0) || data["open_id"] == "" || data["user_id"] != "5d9bdxxx" {
					t.Errorf("user_info %v", info)
				}
			}
			if n := f.TokenRequests("authorization_code"); n != 1 {
				t.Errorf("TokenRequests = %d", n)
			}
		})
	}
}

func TestOAuth2FakeCodes(t *testing.T) {
	for _, kind := range o2Kinds {
		t.Run(kind, func(t *testing.T) {
			f := newO2Fake(t, kind)
			f.AddClient("other", "other-secret")
			tokenPath := o2Paths[kind].token
			refused := func(status int, body map[string]any) bool {
				return status >= 400 && status < 500 && body["error"] != nil
			}

			// Single use.
			code := o2GoAuthorize(t, f, nil).Get("code")
			if status, body := o2Post(t, f, tokenPath, o2CodeForm(code)); status != 200 {
				t.Fatalf("first use: %d %v", status, body)
			}
			if status, body := o2Post(t, f, tokenPath, o2CodeForm(code)); !refused(status, body) {
				t.Errorf("second use: %d %v", status, body)
			}
			// Bound to the redirect URI.
			form := o2CodeForm(o2GoAuthorize(t, f, nil).Get("code"))
			form.Set("redirect_uri", "https://evil.example/cb")
			if status, body := o2Post(t, f, tokenPath, form); !refused(status, body) {
				t.Errorf("other redirect_uri: %d %v", status, body)
			}
			// Bound to the client.
			form = o2CodeForm(o2GoAuthorize(t, f, nil).Get("code"))
			form.Set("client_id", "other")
			form.Set("client_secret", "other-secret")
			if status, body := o2Post(t, f, tokenPath, form); !refused(status, body) {
				t.Errorf("other client: %d %v", status, body)
			}
			// The client secret is checked.
			form = o2CodeForm(o2GoAuthorize(t, f, nil).Get("code"))
			form.Set("client_secret", "nope")
			if status, body := o2Post(t, f, tokenPath, form); !refused(status, body) || body["error"] != "invalid_client" {
				t.Errorf("bad secret: %d %v", status, body)
			}
			// PKCE S256 and plain, checked when sent.
			for _, method := range []string{"S256", "plain"} {
				verifier := "v-" + strings.Repeat("x", 50) + method
				challenge := verifier
				if method == "S256" {
					challenge = o2Challenge(verifier)
				}
				pkce := url.Values{"code_challenge": {challenge}, "code_challenge_method": {method}}
				form = o2CodeForm(o2GoAuthorize(t, f, pkce).Get("code"))
				if status, body := o2Post(t, f, tokenPath, form); !refused(status, body) {
					t.Errorf("%s: no verifier: %d %v", method, status, body)
				}
				form = o2CodeForm(o2GoAuthorize(t, f, pkce).Get("code"))
				form.Set("code_verifier", verifier+"-wrong")
				if status, body := o2Post(t, f, tokenPath, form); !refused(status, body) {
					t.Errorf("%s: wrong verifier: %d %v", method, status, body)
				}
				form = o2CodeForm(o2GoAuthorize(t, f, pkce).Get("code"))
				form.Set("code_verifier", verifier)
				if status, body := o2Post(t, f, tokenPath, form); status != 200 {
					t.Errorf("%s: right verifier: %d %v", method, status, body)
				}
			}
			// Unknown code.
			if status, body := o2Post(t, f, tokenPath, o2CodeForm("nope")); !refused(status, body) {
				t.Errorf("unknown code: %d %v", status, body)
			}
		})
	}
}

func TestOAuth2FakeErrorShapes(t *testing.T) {
	tests := []struct {
		kind   string
		status int
		check  func(body map[string]any) bool
	}{
		{"gitlab", 400, func(b map[string]any) bool {
			return b["error"] == "invalid_grant" && strings.HasPrefix(b["error_description"].(string), "The provided authorization grant is invalid")
		}},
		{"microsoft", 400, func(b map[string]any) bool {
			codes, _ := b["error_codes"].([]any)
			return b["error"] == "invalid_grant" && strings.HasPrefix(b["error_description"].(string), "AADSTS") &&
				len(codes) == 1 && b["trace_id"] != nil && b["correlation_id"] != nil && b["timestamp"] != nil
		}},
		{"gitee", 401, func(b map[string]any) bool {
			return b["error"] == "invalid_grant" && b["error_description"] == o2GiteeInvalidGrant
		}},
		{"feishu", 400, func(b map[string]any) bool {
			return b["code"] == float64(20003) && b["error"] == "invalid_grant" && b["error_description"] != ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			f := newO2Fake(t, tt.kind)
			status, body := o2Post(t, f, o2Paths[tt.kind].token, o2CodeForm("no-such-code"))
			if status != tt.status || !tt.check(body) {
				t.Errorf("unknown code: %d %v", status, body)
			}
		})
	}
}

func TestOAuth2FakeDenyConsent(t *testing.T) {
	want := map[string]url.Values{
		"gitlab":    {"error": {"access_denied"}, "error_description": {o2Doorkeeper["access_denied"]}, "state": {"st-1"}, "x": {"1"}},
		"microsoft": {"error": {"access_denied"}, "error_description": {"AADSTS65004: User declined to consent to access the app."}, "state": {"st-1"}, "x": {"1"}},
		"gitee":     {"error": {"access_denied"}, "error_description": {o2Doorkeeper["access_denied"]}, "state": {"st-1"}, "x": {"1"}},
		"feishu":    {"error": {"access_denied"}, "state": {"st-1"}, "x": {"1"}},
	}
	for kind, w := range want {
		t.Run(kind, func(t *testing.T) {
			f := newO2Fake(t, kind)
			f.DenyConsent(true)
			if got := o2GoAuthorize(t, f, nil); got.Encode() != w.Encode() {
				t.Errorf("callback %v, want %v", got, w)
			}
			f.DenyConsent(false)
			if got := o2GoAuthorize(t, f, nil); got.Get("code") == "" {
				t.Errorf("callback %v after DenyConsent(false)", got)
			}
		})
	}
}

func TestOAuth2FakeAuthorizeRefusals(t *testing.T) {
	f := newO2Fake(t, "gitlab")
	for name, q := range map[string]url.Values{
		"unknown client":    {"client_id": {"nope"}, "redirect_uri": {o2TestRedirect}, "response_type": {"code"}},
		"no redirect":       {"client_id": {o2TestClient}, "response_type": {"code"}},
		"relative redirect": {"client_id": {o2TestClient}, "redirect_uri": {"/cb"}, "response_type": {"code"}},
	} {
		resp, _ := testsupport.Fetch(t, http.MethodGet, f.URL+"/oauth/authorize?"+q.Encode(), nil, "")
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, resp.StatusCode)
		}
	}
}

func TestOAuth2FakeRefreshRotation(t *testing.T) {
	tests := []struct {
		kind string
		// oldRefresh: the previous refresh token still works; oldAccess:
		// the previous access token still works right after.
		oldRefresh, oldAccess bool
		scope                 string
		revokedStatus         int
	}{
		{kind: "gitlab", revokedStatus: 400},
		{kind: "microsoft", oldRefresh: true, oldAccess: true, scope: "openid offline_access", revokedStatus: 400},
		{kind: "gitee", revokedStatus: 401, scope: "user_info"},
		{kind: "feishu", oldAccess: true, scope: "offline_access", revokedStatus: 400}, // one minute of grace
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			f := newO2Fake(t, tt.kind)
			path := o2Paths[tt.kind].token
			code := o2GoAuthorize(t, f, url.Values{"scope": {tt.scope}}).Get("code")
			_, first := o2Post(t, f, path, o2CodeForm(code))
			rt, _ := first["refresh_token"].(string)
			if rt == "" {
				t.Fatalf("no refresh token: %v", first)
			}
			refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {o2TestClient}, "client_secret": {o2TestSecret}}
			status, second := o2Post(t, f, path, refresh)
			if status != 200 || second["refresh_token"] == rt || second["access_token"] == first["access_token"] {
				t.Fatalf("refresh: %d %v", status, second)
			}
			status, _ = o2Post(t, f, path, refresh)
			if (status == 200) != tt.oldRefresh {
				t.Errorf("reusing the old refresh token: %d", status)
			}
			status, _ = o2Get(t, f, o2Paths[tt.kind].userinfo, first["access_token"].(string))
			if (status == 200) != tt.oldAccess {
				t.Errorf("the old access token: %d", status)
			}
			f.RevokeRefreshTokens()
			refresh.Set("refresh_token", second["refresh_token"].(string))
			status, body := o2Post(t, f, path, refresh)
			if status != tt.revokedStatus || body["error"] != "invalid_grant" {
				t.Errorf("revoked refresh token: %d %v", status, body)
			}
			if n := f.TokenRequests("refresh_token"); n != 3 {
				t.Errorf("TokenRequests(refresh_token) = %d", n)
			}
		})
	}
}

func TestOAuth2FakeAccessTokens(t *testing.T) {
	for _, kind := range []string{"gitlab", "microsoft", "gitee", "feishu"} {
		t.Run(kind, func(t *testing.T) {
			f := newO2Fake(t, kind)
			f.SetAccessTokenLifetime(42 * time.Second)
			_, tok := o2Post(t, f, o2Paths[kind].token, o2CodeForm(o2GoAuthorize(t, f, url.Values{"scope": {"openid"}}).Get("code")))
			if tok["expires_in"] != float64(42) {
				t.Errorf("expires_in %v", tok["expires_in"])
			}
			at := tok["access_token"].(string)
			if status, body := o2Get(t, f, o2Paths[kind].userinfo, "not-a-token"); status != http.StatusUnauthorized {
				t.Errorf("unknown token: %d %s", status, body)
			}
			f.ExpireAccessTokens()
			if status, body := o2Get(t, f, o2Paths[kind].userinfo, at); status != http.StatusUnauthorized {
				t.Errorf("expired token: %d %s", status, body)
			}
		})
	}
}

func TestOAuth2FakeGitLabRevokeAndScopes(t *testing.T) {
	f := newO2Fake(t, "gitlab")
	_, tok := o2Post(t, f, "/oauth/token", o2CodeForm(o2GoAuthorize(t, f, url.Values{"scope": {"openid read_user"}}).Get("code")))
	at, rt := tok["access_token"].(string), tok["refresh_token"].(string)
	if status, body := o2Get(t, f, "/api/v4/user", at); status != 200 || !strings.Contains(string(body), `"username":"alice"`) {
		t.Errorf("/api/v4/user: %d %s", status, body)
	}
	// A wrong secret may not revoke.
	if status, body := o2Post(t, f, "/oauth/revoke", url.Values{"token": {rt}, "client_id": {o2TestClient}, "client_secret": {"x"}}); status != 403 {
		t.Errorf("revoke with a bad secret: %d %v", status, body)
	}
	status, body := o2Post(t, f, "/oauth/revoke", url.Values{"token": {rt}, "client_id": {o2TestClient}, "client_secret": {o2TestSecret}})
	if status != 200 || len(body) != 0 {
		t.Errorf("revoke: %d %v, want 200 {}", status, body)
	}
	if got := f.Revoked(); len(got) != 1 || got[0] != rt {
		t.Errorf("Revoked() = %v", got)
	}
	if status, _ := o2Get(t, f, "/oauth/userinfo", at); status != 401 {
		t.Errorf("access token after revoking its refresh token: %d", status)
	}

	// Without openid, userinfo is refused; without read_user, /api/v4/user.
	_, tok = o2Post(t, f, "/oauth/token", o2CodeForm(o2GoAuthorize(t, f, url.Values{"scope": {"profile"}}).Get("code")))
	at = tok["access_token"].(string)
	if _, ok := tok["id_token"]; ok {
		t.Error("id_token without openid")
	}
	for _, p := range []string{"/oauth/userinfo", "/api/v4/user"} {
		if status, _ := o2Get(t, f, p, at); status != http.StatusForbidden {
			t.Errorf("%s without its scope: %d", p, status)
		}
	}
}

func TestOAuth2FakeMicrosoftIDToken(t *testing.T) {
	for _, tc := range []struct {
		tenant, tid string
		verified    bool
		scope       string
	}{
		{"common", o2OrgTenant, true, "openid profile email"},
		{"consumers", o2MSATenant, false, "openid profile email"},
		{"72F988BF-86F1-41AF-91AB-2D7CD011DB47", "72f988bf-86f1-41af-91ab-2d7cd011db47", true, "openid profile"},
	} {
		t.Run(tc.tenant, func(t *testing.T) {
			f := newO2Fake(t, "microsoft")
			f.SetUser(OAuth2FakeUser{ID: "pairwise-1", Login: "alice@contoso.example", Email: "alice@contoso.example",
				Name: "Alice Liddell", EmailVerified: tc.verified})
			q := url.Values{"client_id": {o2TestClient}, "redirect_uri": {o2TestRedirect}, "response_type": {"code"},
				"scope": {tc.scope}, "nonce": {"n-1"}}
			authorize := f.URL + "/" + tc.tenant + "/oauth2/v2.0/authorize?" + q.Encode()
			code := testsupport.Redirected(t, authorize).Query().Get("code")
			// The code is redeemed at the tenant it was issued for.
			if status, _ := o2Post(t, f, "/organizations/oauth2/v2.0/token", o2CodeForm(code)); status != 400 && tc.tenant != "organizations" {
				t.Errorf("code redeemed at another tenant: %d", status)
			}
			code = testsupport.Redirected(t, authorize).Query().Get("code")
			status, tok := o2Post(t, f, "/"+tc.tenant+"/oauth2/v2.0/token", o2CodeForm(code))
			if status != 200 {
				t.Fatalf("token: %d %v", status, tok)
			}
			if _, ok := tok["refresh_token"]; ok {
				t.Error("refresh token without offline_access")
			}
			resp, err := http.Get(f.URL + "/" + tc.tenant + "/discovery/v2.0/keys")
			if err != nil {
				t.Fatal(err)
			}
			var keys jose.JSONWebKeySet
			if err := json.NewDecoder(resp.Body).Decode(&keys); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			parsed, err := jwt.ParseSigned(tok["id_token"].(string), []jose.SignatureAlgorithm{jose.RS256})
			if err != nil {
				t.Fatal(err)
			}
			var claims map[string]any
			if err := parsed.Claims(keys.Keys[0].Key, &claims); err != nil {
				t.Fatalf("id_token does not verify with the JWKS: %v", err)
			}
			if claims["aud"] != o2TestClient || claims["nonce"] != "n-1" || claims["tid"] != tc.tid ||
				claims["iss"] != f.URL+"/"+tc.tid+"/v2.0" || claims["preferred_username"] != "alice@contoso.example" {
				t.Errorf("claims %v", claims)
			}
			emailScope := strings.Contains(tc.scope, "email")
			if _, ok := claims["email"]; ok != emailScope {
				t.Errorf("email claim present %v with scope %q", ok, tc.scope)
			}
			if emailScope && claims["xms_edov"] != tc.verified {
				t.Errorf("xms_edov %v, want %v", claims["xms_edov"], tc.verified)
			}
		})
	}
}

func TestOAuth2FakeGitee(t *testing.T) {
	f := newO2Fake(t, "gitee")
	f.SetUser(OAuth2FakeUser{ID: "77", Login: "lee", Email: "lee@example.cn", EmailVerified: false})
	code := o2GoAuthorize(t, f, url.Values{"scope": {"user_info emails"}}).Get("code")
	// The documented request: everything in the query string.
	resp, err := http.Post(f.URL+"/oauth/token?"+o2CodeForm(code).Encode(), "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	status, tok := o2Decode(t, resp)
	if status != 200 || tok["token_type"] != "bearer" || tok["expires_in"] != float64(86400) {
		t.Fatalf("token: %d %v", status, tok)
	}
	at := tok["access_token"].(string)
	status, body := o2Get(t, f, "/api/v5/emails", at)
	var emails []map[string]any
	if err := json.Unmarshal(body, &emails); err != nil || status != 200 || len(emails) != 2 {
		t.Fatalf("emails: %d %s", status, body)
	}
	if emails[0]["email"] != "lee@example.cn" || emails[0]["state"] != "unconfirmed" ||
		emails[1]["state"] != "confirmed" || !strings.HasSuffix(emails[1]["email"].(string), "@user.noreply.gitee.com") {
		t.Errorf("emails %v", emails)
	}
	// The token goes in the query: a header is not enough.
	req, _ := http.NewRequest(http.MethodGet, f.URL+"/api/v5/user", nil)
	req.Header.Set("Authorization", "Bearer "+at)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Errorf("token in a header: %v %v", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
	// Documented refresh: only grant_type and refresh_token in the query.
	resp, err = http.Post(f.URL+"/oauth/token?grant_type=refresh_token&refresh_token="+url.QueryEscape(tok["refresh_token"].(string)), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := o2Decode(t, resp); status != 200 || body["access_token"] == "" {
		t.Errorf("refresh without client credentials: %d %v", status, body)
	}
	// Without the emails scope.
	code = o2GoAuthorize(t, f, url.Values{"scope": {"user_info"}}).Get("code")
	_, tok = o2Post(t, f, "/oauth/token", o2CodeForm(code))
	if status, _ := o2Get(t, f, "/api/v5/emails", tok["access_token"].(string)); status != http.StatusForbidden {
		t.Errorf("emails without the scope: %d", status)
	}
}

func TestOAuth2FakeFeishuRequests(t *testing.T) {
	f := newO2Fake(t, "feishu")
	code := o2GoAuthorize(t, f, nil).Get("code")
	// The documented JSON body.
	body, _ := json.Marshal(map[string]string{"grant_type": "authorization_code", "client_id": o2TestClient,
		"client_secret": o2TestSecret, "code": code, "redirect_uri": o2TestRedirect})
	resp, err := http.Post(f.URL+"/open-apis/authen/v2/oauth/token", "application/json; charset=utf-8", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	if status, tok := o2Decode(t, resp); status != 200 || tok["code"] != float64(0) {
		t.Fatalf("JSON token request: %d %v", status, tok)
	} else if _, ok := tok["refresh_token"]; ok {
		t.Error("refresh token without offline_access")
	}
	// Basic and client_secret together: 20070.
	form := o2CodeForm(o2GoAuthorize(t, f, nil).Get("code"))
	req, _ := http.NewRequest(http.MethodPost, f.URL+"/open-apis/authen/v2/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(o2TestClient, o2TestSecret)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if status, b := o2Decode(t, resp); status != 400 || b["code"] != float64(20070) {
		t.Errorf("two auth methods: %d %v", status, b)
	}
}

func TestOAuth2FakeFailNextAndDelay(t *testing.T) {
	f := newO2Fake(t, "microsoft")
	f.FailNext("/common/oauth2/v2.0/token", http.StatusServiceUnavailable)
	code := o2GoAuthorize(t, f, nil).Get("code")
	status, body := o2Post(t, f, "/common/oauth2/v2.0/token", o2CodeForm(code))
	if status != 503 || body["error"] != "temporarily_unavailable" {
		t.Errorf("FailNext: %d %v", status, body)
	}
	if status, _ := o2Post(t, f, "/common/oauth2/v2.0/token", o2CodeForm(code)); status != 200 {
		t.Errorf("after FailNext: %d (the failure must not use the code)", status)
	}
	f.SetTokenDelay(150 * time.Millisecond)
	start := time.Now()
	o2Post(t, f, "/common/oauth2/v2.0/token", o2CodeForm("x"))
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("token answered after %v, want ≥ 150ms", d)
	}
}

func TestOAuth2FakeUnknownKindPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewOAuth2Fake(github) did not panic")
		}
	}()
	NewOAuth2Fake("github")
}
