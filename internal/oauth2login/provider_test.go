package oauth2login_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/internal/oauth2login"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
)

// stubProvider is a provider whose token and userinfo answers a test
// writes.
type stubProvider struct {
	srv      *httptest.Server
	mu       sync.Mutex
	token    func(w http.ResponseWriter, r *http.Request)
	userinfo func(w http.ResponseWriter, r *http.Request)
	forms    []url.Values
	headers  []http.Header
}

func newStub(t *testing.T) *stubProvider {
	t.Helper()
	s := &stubProvider{
		token: func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, `{"access_token":"AT-1","token_type":"bearer","expires_in":3600,"refresh_token":"RT-1"}`)
		},
		userinfo: func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `{"id":7,"login":"u"}`) },
	}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		s.mu.Lock()
		s.forms = append(s.forms, r.PostForm)
		s.headers = append(s.headers, r.Header.Clone())
		tok, ui := s.token, s.userinfo
		s.mu.Unlock()
		switch r.URL.Path {
		case "/token":
			tok(w, r)
		case "/userinfo":
			ui(w, r)
		case "/revoke":
			writeJSON(w, 200, `{}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// form returns the form of the i-th request (0-based).
func (s *stubProvider) form(i int) url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.forms[i]
}

// header returns the headers of the i-th request.
func (s *stubProvider) header(i int) http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.headers[i]
}

// requests returns how many requests the stub received.
func (s *stubProvider) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.forms)
}

// reset forgets the requests received.
func (s *stubProvider) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forms, s.headers = nil, nil
}

func (s *stubProvider) config() oauth2login.Config {
	return oauth2login.Config{
		Name: "stub", AuthURL: s.srv.URL + "/authorize?tenant=x", TokenURL: s.srv.URL + "/token",
		UserinfoURL: s.srv.URL + "/userinfo", ClientID: clientID, ClientSecret: clientSecret,
		Claims: oauth2login.Claims{Login: "login", Email: "email", Name: "name"}, EmailVerified: "verified",
	}
}

func (s *stubProvider) set(token, userinfo func(w http.ResponseWriter, r *http.Request)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if token != nil {
		s.token = token
	}
	if userinfo != nil {
		s.userinfo = userinfo
	}
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func answer(status int, contentType, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func mustNew(t *testing.T, cfg oauth2login.Config) *oauth2login.Provider {
	t.Helper()
	p, err := oauth2login.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAuthURL(t *testing.T) {
	s := newStub(t)
	cfg := s.config()
	cfg.Scopes = []string{"read", "write"}
	cfg.AuthParams = map[string]string{"prompt": "login"}
	p := mustNew(t, cfg)
	verifier := oauth2.GenerateVerifier()
	raw, err := p.AuthURL(context.Background(), redirectURI, "st", "nn", verifier)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	q := u.Query()
	want := map[string]string{
		"tenant": "x", "response_type": "code", "client_id": clientID, "redirect_uri": redirectURI, "scope": "read write",
		"state": "st", "prompt": "login", "code_challenge": oauth2.S256ChallengeFromVerifier(verifier),
		"code_challenge_method": "S256", "nonce": "",
	}
	testsupport.WantEach(t, "query", want, q.Get)
	if _, err := p.AuthURL(context.Background(), redirectURI, "st", "nn", ""); err == nil {
		t.Error("AuthURL without a verifier succeeded: PKCE must not be skipped silently")
	}

	cfg.DisablePKCE, cfg.IDTokenClaims = true, true
	p = mustNew(t, cfg)
	raw, err = p.AuthURL(context.Background(), redirectURI, "st", "nn", "")
	if err != nil {
		t.Fatal(err)
	}
	u, _ = url.Parse(raw)
	if u.Query().Has("code_challenge") || u.Query().Get("nonce") != "nn" {
		t.Errorf("query %v: want no PKCE and the nonce", u.Query())
	}
}

func TestConfigValidation(t *testing.T) {
	ok := oauth2login.Config{AuthURL: "https://p.example/a", TokenURL: "https://p.example/t", UserinfoURL: "http://p.example/u", ClientID: "c"}
	tests := []struct {
		name    string
		edit    func(c *oauth2login.Config)
		wantErr string
	}{
		{"valid", func(c *oauth2login.Config) {}, ""},
		{"no auth url", func(c *oauth2login.Config) { c.AuthURL = "" }, "auth_url is required"},
		{"relative token url", func(c *oauth2login.Config) { c.TokenURL = "/token" }, "token_url"},
		{"ftp userinfo", func(c *oauth2login.Config) { c.UserinfoURL = "ftp://p.example/u" }, "userinfo_url"},
		{"fragment", func(c *oauth2login.Config) { c.AuthURL = "https://p.example/a#x" }, "fragment"},
		{"user info in url", func(c *oauth2login.Config) { c.TokenURL = "https://u:p@p.example/t" }, "user info"},
		{"bad revoke url", func(c *oauth2login.Config) { c.RevokeURL = "p.example/r" }, "revoke_url"},
		{"no client id", func(c *oauth2login.Config) { c.ClientID = "" }, "client_id"},
		{"reserved auth param", func(c *oauth2login.Config) { c.AuthParams = map[string]string{"state": "x"} }, "state"},
		{"reserved redirect", func(c *oauth2login.Config) { c.AuthParams = map[string]string{"redirect_uri": "x"} }, "redirect_uri"},
		{"bad auth param", func(c *oauth2login.Config) { c.AuthParams = map[string]string{"a b": "x"} }, "not a valid parameter"},
		{"scope with space", func(c *oauth2login.Config) { c.Scopes = []string{"a b"} }, "scope"},
		{"empty path segment", func(c *oauth2login.Config) { c.Claims.ID = "data..id" }, "empty segment"},
		{"id_token path without IDTokenClaims", func(c *oauth2login.Config) { c.Claims.Login = "id_token.preferred_username" }, "IDTokenClaims"},
		{"id_token path with IDTokenClaims", func(c *oauth2login.Config) {
			c.Claims.Login, c.IDTokenClaims = "id_token.preferred_username", true
		}, ""},
		{"email_verified without email", func(c *oauth2login.Config) { c.EmailVerified = "email_verified" }, "email claim"},
		{"emails without pick", func(c *oauth2login.Config) {
			c.VerifiedEmails = &oauth2login.EmailsEndpoint{URL: "https://p.example/e"}
		}, "Pick"},
		{"emails bad url", func(c *oauth2login.Config) {
			c.VerifiedEmails = &oauth2login.EmailsEndpoint{URL: "e", Pick: func(any) string { return "" }}
		}, "verified emails url"},
		{"bad token query name", func(c *oauth2login.Config) { c.TokenInQuery = "a=b" }, "token query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			_, err := oauth2login.New(c)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// exchange runs a code exchange against the stub.
func exchange(t *testing.T, p *oauth2login.Provider) (*provider.Identity, *provider.Tokens, error) {
	t.Helper()
	return p.Exchange(context.Background(), "the-code-123", redirectURI, oauth2.GenerateVerifier(), "")
}

func TestTokenAnswers(t *testing.T) {
	tests := []struct {
		name       string
		token      func(http.ResponseWriter, *http.Request)
		codeField  bool
		wantCode   string // provider.Error code; "" = success
		wantExpiry time.Duration
	}{
		{name: "json", token: answer(200, "application/json", `{"access_token":"a","token_type":"Bearer","expires_in":3600}`), wantExpiry: time.Hour},
		{name: "expires_in string", token: answer(200, "application/json", `{"access_token":"a","expires_in":"7200"}`), wantExpiry: 2 * time.Hour},
		{name: "expires_in exponent", token: answer(200, "application/json", `{"access_token":"a","expires_in":3.6e3}`), wantExpiry: time.Hour},
		{name: "no expires_in", token: answer(200, "application/json", `{"access_token":"a"}`)},
		{name: "form answer", token: answer(200, "application/x-www-form-urlencoded", `access_token=a&token_type=bearer&expires_in=60`), wantExpiry: time.Minute},
		{name: "error with HTTP 200", token: answer(200, "application/json", `{"error":"bad_verification_code","error_description":"The code passed is incorrect or expired."}`), wantCode: "exchange_failed"},
		{name: "form error with HTTP 200", token: answer(200, "application/x-www-form-urlencoded", `error=bad_verification_code`), wantCode: "exchange_failed"},
		{name: "invalid_grant 400", token: answer(400, "application/json", `{"error":"invalid_grant"}`), wantCode: "exchange_failed"},
		{name: "invalid_grant 401 (Gitee)", token: answer(401, "application/json", `{"error":"invalid_grant","error_description":"授权方式无效"}`), wantCode: "exchange_failed"},
		{name: "4xx without body", token: answer(403, "text/html", `<html>forbidden</html>`), wantCode: "exchange_failed"},
		{name: "numeric code with HTTP 200", token: answer(200, "application/json", `{"code":20003,"msg":"bad code"}`), codeField: true, wantCode: "exchange_failed"},
		{name: "code 0 is success", token: answer(200, "application/json", `{"code":0,"access_token":"a","expires_in":60}`), codeField: true, wantExpiry: time.Minute},
		{name: "500", token: answer(500, "application/json", `{"error":"server_error"}`), wantCode: "provider_unavailable"},
		{name: "502 html", token: answer(502, "text/html", `<html>bad gateway</html>`), wantCode: "provider_unavailable"},
		{name: "429", token: answer(429, "application/json", `{"error":"slow_down"}`), wantCode: "provider_unavailable"},
		{name: "temporarily_unavailable 400", token: answer(400, "application/json", `{"error":"temporarily_unavailable"}`), wantCode: "provider_unavailable"},
		{name: "absurd expires_in", token: answer(200, "application/json", `{"access_token":"a","expires_in":1e300}`)},
		{name: "no access_token", token: answer(200, "application/json", `{"token_type":"bearer"}`), wantCode: "provider_unavailable"},
		{name: "not bearer", token: answer(200, "application/json", `{"access_token":"a","token_type":"mac"}`), wantCode: "provider_unavailable"},
		{name: "garbage", token: answer(200, "text/html", `<html>hi</html>`), wantCode: "provider_unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStub(t)
			s.set(tt.token, nil)
			cfg := s.config()
			if tt.codeField {
				cfg.ResponseCodeField = "code"
			}
			p := mustNew(t, cfg)
			id, tok, err := exchange(t, p)
			if tt.wantCode != "" {
				if errorCode(err) != tt.wantCode {
					t.Fatalf("err = %v, want %s", err, tt.wantCode)
				}
				if strings.Contains(err.Error(), "the-code-123") || strings.Contains(err.Error(), clientSecret) {
					t.Errorf("error %q holds the code or the secret", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.Subject != "7" || tok.AccessToken != "a" {
				t.Errorf("identity %+v tokens %+v", id, tok)
			}
			if tt.wantExpiry == 0 && !tok.Expiry.IsZero() {
				t.Errorf("expiry %v, want none", tok.Expiry)
			}
			if d := time.Until(tok.Expiry); tt.wantExpiry != 0 && (d < tt.wantExpiry-time.Minute/2 || d > tt.wantExpiry) {
				t.Errorf("expiry in %v, want %v", d, tt.wantExpiry)
			}
		})
	}
}

func TestTokenRequest(t *testing.T) {
	s := newStub(t)
	p := mustNew(t, s.config())
	verifier := oauth2.GenerateVerifier()
	if _, _, err := p.Exchange(context.Background(), "c0de", redirectURI, verifier, ""); err != nil {
		t.Fatal(err)
	}
	form, hdr := s.form(0), s.header(1)
	want := map[string]string{"grant_type": "authorization_code", "code": "c0de", "redirect_uri": redirectURI,
		"code_verifier": verifier, "client_id": clientID, "client_secret": clientSecret}
	for k, v := range want {
		if form.Get(k) != v {
			t.Errorf("token request %s = %q, want %q", k, form.Get(k), v)
		}
	}
	if hdr.Get("Authorization") != "Bearer AT-1" {
		t.Errorf("userinfo Authorization %q", hdr.Get("Authorization"))
	}

	cfg := s.config()
	cfg.BasicAuth, cfg.DisablePKCE, cfg.TokenInQuery = true, true, "access_token"
	var userinfoQuery url.Values
	s.set(nil, func(w http.ResponseWriter, r *http.Request) {
		userinfoQuery = r.URL.Query()
		writeJSON(w, 200, `{"id":"x"}`)
	})
	p = mustNew(t, cfg)
	if _, _, err := p.Exchange(context.Background(), "c0de", redirectURI, "", ""); err != nil {
		t.Fatal(err)
	}
	form, hdr = s.form(2), s.header(2)
	if form.Has("client_secret") || form.Has("code_verifier") {
		t.Errorf("form %v: secret must be in the header, no verifier without PKCE", form)
	}
	if id, sec, ok := (&http.Request{Header: hdr}).BasicAuth(); !ok || id != clientID || sec != clientSecret {
		t.Errorf("basic auth %q %q %v", id, sec, ok)
	}
	if userinfoQuery.Get("access_token") != "AT-1" || s.header(3).Get("Authorization") != "" {
		t.Errorf("token not sent in the query only: %v", userinfoQuery)
	}
}

func TestRefreshAnswers(t *testing.T) {
	tests := []struct {
		name         string
		token        func(http.ResponseWriter, *http.Request)
		invalidGrant bool
		transient    bool
		wantRefresh  string
	}{
		{name: "rotated", token: answer(200, "application/json", `{"access_token":"a2","refresh_token":"r2","expires_in":60}`), wantRefresh: "r2"},
		{name: "not rotated", token: answer(200, "application/json", `{"access_token":"a2","expires_in":60}`), wantRefresh: "RT-0"},
		{name: "invalid_grant 400", token: answer(400, "application/json", `{"error":"invalid_grant"}`), invalidGrant: true},
		{name: "invalid_grant HTTP 200", token: answer(200, "application/json", `{"error":"invalid_grant"}`), invalidGrant: true},
		{name: "invalid_grant 401", token: answer(401, "application/json", `{"error":"invalid_grant"}`), invalidGrant: true},
		{name: "listed code", token: answer(400, "application/json", `{"code":20064,"error":"","error_description":"revoked"}`), invalidGrant: true},
		{name: "listed code with another error", token: answer(400, "application/json", `{"code":20037,"error":"expired_token"}`), invalidGrant: true},
		{name: "invalid_client is not the session's fault", token: answer(401, "application/json", `{"error":"invalid_client"}`)},
		{name: "server error", token: answer(500, "application/json", `{"error":"invalid_grant"}`), transient: true},
		{name: "unlisted code", token: answer(400, "application/json", `{"code":20050}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStub(t)
			s.set(tt.token, nil)
			cfg := s.config()
			cfg.ResponseCodeField, cfg.InvalidGrantCodes = "code", []int64{20026, 20037, 20064}
			p := mustNew(t, cfg)
			tok, err := p.Refresh(context.Background(), "RT-0")
			if tt.wantRefresh != "" {
				if err != nil {
					t.Fatal(err)
				}
				if tok.RefreshToken != tt.wantRefresh || tok.AccessToken != "a2" {
					t.Errorf("tokens %+v", tok)
				}
				if f := s.form(0); f.Get("grant_type") != "refresh_token" || f.Get("refresh_token") != "RT-0" {
					t.Errorf("form %v", f)
				}
				return
			}
			if err == nil {
				t.Fatal("Refresh succeeded")
			}
			if errors.Is(err, provider.ErrInvalidGrant) != tt.invalidGrant {
				t.Errorf("err = %v, invalid grant %v, want %v", err, errors.Is(err, provider.ErrInvalidGrant), tt.invalidGrant)
			}
			if strings.Contains(err.Error(), "RT-0") {
				t.Errorf("error %q holds the refresh token", err)
			}
		})
	}
	p := mustNew(t, newStub(t).config())
	if _, err := p.Refresh(context.Background(), ""); !errors.Is(err, provider.ErrInvalidGrant) {
		t.Errorf("empty refresh token: %v", err)
	}
}

func TestUserinfoMapping(t *testing.T) {
	tests := []struct {
		name     string
		claims   oauth2login.Claims
		verified string
		body     string
		want     provider.Identity
		wantCode string
	}{
		{name: "integer id", body: `{"id":12345678901234567890,"login":"u"}`,
			want: provider.Identity{Subject: "12345678901234567890", Username: "u"}},
		{name: "exponent id", body: `{"id":1e3}`, want: provider.Identity{Subject: "1000", Username: "1000"}},
		{name: "string id", body: `{"id":" abc "}`, want: provider.Identity{Subject: "abc", Username: "abc"}},
		{name: "bool id", body: `{"id":true}`, wantCode: "userinfo_failed"},
		{name: "object id", body: `{"id":{"x":1}}`, wantCode: "userinfo_failed"},
		{name: "missing id", body: `{"login":"u"}`, wantCode: "userinfo_failed"},
		{name: "not an object", body: `[1,2]`, wantCode: "userinfo_failed"},
		{name: "verified bool", body: `{"id":1,"email":"a@b.example","verified":true}`,
			want: provider.Identity{Subject: "1", Username: "a@b.example", Email: "a@b.example", EmailVerified: true}},
		{name: "verified string", body: `{"id":1,"email":"a@b.example","verified":"TRUE"}`,
			want: provider.Identity{Subject: "1", Username: "a@b.example", Email: "a@b.example", EmailVerified: true}},
		{name: "verified false", body: `{"id":1,"email":"a@b.example","verified":false}`, want: provider.Identity{Subject: "1", Username: "1"}},
		{name: "verified \"false\"", body: `{"id":1,"email":"a@b.example","verified":"false"}`, want: provider.Identity{Subject: "1", Username: "1"}},
		{name: "verified 1", body: `{"id":1,"email":"a@b.example","verified":1}`, want: provider.Identity{Subject: "1", Username: "1"}},
		{name: "verified missing", body: `{"id":1,"email":"a@b.example"}`, want: provider.Identity{Subject: "1", Username: "1"}},
		{name: "nested and arrays", claims: oauth2login.Claims{ID: "data.user.id", Login: "data.user.names.1", Name: "data.user.names.0",
			Avatar: "data.pics.0.url", Groups: "data.teams", Email: "data.mail"}, verified: "data.ok",
			body: `{"data":{"user":{"id":5,"names":["Full","nick"]},"pics":[{"url":"https://p.example/a"}],"teams":["t1",2],"mail":"m@x.example","ok":true}}`,
			want: provider.Identity{Subject: "5", Username: "nick", Name: "Full", Picture: "https://p.example/a",
				Groups: []string{"t1", "2"}, Email: "m@x.example", EmailVerified: true}},
		{name: "single group", claims: oauth2login.Claims{ID: "id", Groups: "g", Email: "email"}, body: `{"id":1,"g":"admins"}`,
			want: provider.Identity{Subject: "1", Username: "1", Groups: []string{"admins"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStub(t)
			s.set(nil, answer(200, "application/json", tt.body))
			cfg := s.config()
			if tt.claims != (oauth2login.Claims{}) {
				cfg.Claims = tt.claims
			} else {
				cfg.Claims.Login = "login"
			}
			cfg.EmailVerified = "verified"
			if tt.verified != "" {
				cfg.EmailVerified = tt.verified
			}
			p := mustNew(t, cfg)
			id, _, err := exchange(t, p)
			checkIdentity(t, id, err, tt.wantCode, tt.want)
		})
	}
}

func equalIdentity(a, b provider.Identity) bool {
	return reflect.DeepEqual(a, b)
}

// checkIdentity checks what Exchange returned: a *provider.Error of code
// wantCode when that is not "", else the identity want.
func checkIdentity(t *testing.T, id *provider.Identity, err error, wantCode string, want provider.Identity) {
	t.Helper()
	if wantCode != "" {
		if errorCode(err) != wantCode {
			t.Fatalf("err = %v, want %s", err, wantCode)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if !equalIdentity(*id, want) {
		t.Errorf("identity\n got %+v\nwant %+v", *id, want)
	}
}

// errorCode is the code of the *provider.Error in err's chain, or "".
func errorCode(err error) string {
	var pe *provider.Error
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func TestUserinfoErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		h    func(http.ResponseWriter, *http.Request)
	}{
		{"401", answer(401, "application/json", `{"error":"invalid_token"}`)},
		{"malformed", answer(200, "application/json", `{"id":`)},
		{"code field", answer(200, "application/json", `{"code":99991668,"msg":"Invalid access token"}`)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newStub(t)
			s.set(nil, tt.h)
			cfg := s.config()
			cfg.ResponseCodeField = "code"
			_, _, err := exchange(t, mustNew(t, cfg))
			var pe *provider.Error
			if !errors.As(err, &pe) || pe.Code != "userinfo_failed" || pe.Status != http.StatusBadGateway {
				t.Fatalf("err = %v, want userinfo_failed 502", err)
			}
		})
	}
}

// TestNoSecretsInErrors: a token sent in the query of an endpoint that
// cannot be reached must not end up in the error (Go's HTTP client puts
// the URL in its errors).
func TestNoSecretsInErrors(t *testing.T) {
	s := newStub(t)
	s.set(answer(200, "application/json", `{"access_token":"SECRET-ACCESS-TOKEN","token_type":"bearer"}`), nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	cfg := s.config()
	cfg.TokenInQuery = "access_token"
	cfg.UserinfoURL = dead + "/userinfo"
	_, _, err = exchange(t, mustNew(t, cfg))
	if errorCode(err) != "provider_unavailable" {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "SECRET-ACCESS-TOKEN") || strings.Contains(err.Error(), "the-code-123") {
		t.Errorf("error %q holds the token or the code", err)
	}
	if !strings.Contains(err.Error(), l.Addr().String()+"/userinfo") {
		t.Errorf("error %q should still say which endpoint failed", err)
	}

	cfg = s.config()
	cfg.TokenURL = dead + "/token"
	_, _, err = exchange(t, mustNew(t, cfg))
	if errorCode(err) != "provider_unavailable" {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), clientSecret) || strings.Contains(err.Error(), "the-code-123") {
		t.Errorf("error %q holds the secret or the code", err)
	}
}

// TestIDTokenClaims checks the unsigned id_token path of IDTokenClaims
// (signature checking is left to TLS, as OpenID Connect allows for the
// token endpoint): audience, sub and nonce.
func TestIDTokenClaims(t *testing.T) {
	idToken := func(claims map[string]any) string {
		b, _ := json.Marshal(claims)
		return "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(b) + ".c2ln"
	}
	tests := []struct {
		name     string
		claims   map[string]any
		nonce    string
		wantCode string
		want     provider.Identity
	}{
		{name: "ok", claims: map[string]any{"aud": clientID, "sub": "s1", "nonce": "n1", "preferred_username": "p@x.example", "xms_edov": true, "email": "p@x.example"},
			nonce: "n1", want: provider.Identity{Subject: "s1", Username: "p@x.example", Email: "m@x.example", EmailVerified: true}},
		{name: "aud list", claims: map[string]any{"aud": []string{"other", clientID}, "sub": "s1"},
			want: provider.Identity{Subject: "s1", Username: "s1"}},
		{name: "xms_edov false", claims: map[string]any{"aud": clientID, "sub": "s1", "xms_edov": false},
			want: provider.Identity{Subject: "s1", Username: "s1"}},
		{name: "other audience", claims: map[string]any{"aud": "other", "sub": "s1"}, wantCode: "invalid_id_token"},
		{name: "other sub", claims: map[string]any{"aud": clientID, "sub": "s2"}, wantCode: "invalid_id_token"},
		{name: "wrong nonce", claims: map[string]any{"aud": clientID, "sub": "s1", "nonce": "n2"}, nonce: "n1", wantCode: "invalid_id_token"},
		{name: "missing nonce", claims: map[string]any{"aud": clientID, "sub": "s1"}, nonce: "n1", wantCode: "invalid_id_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStub(t)
			body, _ := json.Marshal(map[string]any{"access_token": "a", "token_type": "Bearer", "id_token": idToken(tt.claims)})
			s.set(answer(200, "application/json", string(body)),
				answer(200, "application/json", `{"sub":"s1","email":"m@x.example"}`))
			cfg := s.config()
			cfg.IDTokenClaims = true
			cfg.Claims = oauth2login.Claims{ID: "sub", Login: "id_token.preferred_username", Email: "email"}
			cfg.EmailVerified = "id_token.xms_edov"
			id, _, err := mustNew(t, cfg).Exchange(context.Background(), "c", redirectURI, oauth2.GenerateVerifier(), tt.nonce)
			checkIdentity(t, id, err, tt.wantCode, tt.want)
		})
	}
}

func TestVerifiedEmails(t *testing.T) {
	s := newStub(t)
	s.set(nil, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"id":1,"login":"u","email":"public@x.example","verified":true}`)
	})
	emails := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer AT-1" {
			w.WriteHeader(401)
			return
		}
		writeJSON(w, 200, `[{"email":"a@x.example","primary":false},{"email":"b@x.example","primary":true}]`)
	}))
	t.Cleanup(emails.Close)
	cfg := s.config()
	cfg.VerifiedEmails = &oauth2login.EmailsEndpoint{URL: emails.URL, Pick: func(doc any) string {
		for _, e := range doc.([]any) {
			if m := e.(map[string]any); m["primary"] == true {
				return m["email"].(string)
			}
		}
		return ""
	}}
	id, _, err := exchange(t, mustNew(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	if id.Email != "b@x.example" || !id.EmailVerified {
		t.Errorf("email %q %v: the endpoint's answer must replace the userinfo address", id.Email, id.EmailVerified)
	}
	cfg.VerifiedEmails.Pick = func(any) string { return "" }
	id, _, err = exchange(t, mustNew(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	if id.Email != "" || id.EmailVerified {
		t.Errorf("email %q used although the endpoint found none", id.Email)
	}
	emails.Close()
	_, _, err = exchange(t, mustNew(t, cfg))
	if errorCode(err) != "provider_unavailable" {
		t.Errorf("emails endpoint down: err = %v, want provider_unavailable", err)
	}
}

func TestRevokeRequest(t *testing.T) {
	s := newStub(t)
	cfg := s.config()
	p := mustNew(t, cfg)
	if err := p.Revoke(context.Background(), &provider.Tokens{AccessToken: "a", RefreshToken: "r"}); err != nil {
		t.Fatal(err)
	}
	if s.requests() != 0 {
		t.Fatal("Revoke without a RevokeURL called the provider")
	}
	cfg.RevokeURL = s.srv.URL + "/revoke"
	p = mustNew(t, cfg)
	for _, tt := range []struct {
		tok        provider.Tokens
		token, hin string
	}{
		{provider.Tokens{AccessToken: "a", RefreshToken: "r"}, "r", "refresh_token"},
		{provider.Tokens{AccessToken: "a"}, "a", "access_token"},
	} {
		s.reset()
		if err := p.Revoke(context.Background(), &tt.tok); err != nil {
			t.Fatal(err)
		}
		f := s.form(0)
		if f.Get("token") != tt.token || f.Get("token_type_hint") != tt.hin || f.Get("client_id") != clientID || f.Get("client_secret") != clientSecret {
			t.Errorf("revoke form %v", f)
		}
	}
	s.reset()
	if err := p.Revoke(context.Background(), &provider.Tokens{}); err != nil || s.requests() != 0 {
		t.Errorf("Revoke(no tokens) = %v with %d calls", err, s.requests())
	}
}
