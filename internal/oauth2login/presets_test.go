package oauth2login_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/internal/oauth2login"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/fakeoauth"
)

const (
	clientID     = "client-123"
	clientSecret = "s3cret-value"
	redirectURI  = "https://app.example.com/_gatehouse/callback/x?keep=1"
)

// noFollow does not follow redirects, so a test sees the authorize answer.
var noFollow = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}}

// tokenPath and userinfoPath are each kind's endpoints on the fake.
var (
	tokenPath = map[string]string{
		"gitlab": "/oauth/token", "microsoft": "/common/oauth2/v2.0/token", "gitee": "/oauth/token",
		"feishu": "/open-apis/authen/v2/oauth/token", "lark": "/open-apis/authen/v2/oauth/token",
	}
	userinfoPath = map[string]string{
		"gitlab": "/oauth/userinfo", "microsoft": "/oidc/userinfo", "gitee": "/api/v5/user",
		"feishu": "/open-apis/authen/v1/user_info", "lark": "/open-apis/authen/v1/user_info",
	}
)

// setup starts a fake of kind with user and returns it with a provider of
// the preset pointed at it.
func setup(t *testing.T, kind string, user *fakeoauth.OAuth2FakeUser, scopes ...string) (*fakeoauth.OAuth2Fake, *oauth2login.Provider) {
	t.Helper()
	f := fakeoauth.NewOAuth2Fake(kind)
	t.Cleanup(f.Close)
	f.AddClient(clientID, clientSecret)
	if user != nil {
		f.SetUser(*user)
	}
	cfg, err := oauth2login.Preset(kind, "", oauth2login.PresetParams{
		ClientID: clientID, ClientSecret: clientSecret, BaseURL: f.URL, Scopes: scopes,
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := oauth2login.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f, p
}

// login is one login: it starts at the provider's AuthURL, follows the
// fake's redirect and returns the callback query with the verifier and
// nonce the login used.
func login(t *testing.T, p *oauth2login.Provider) (callback url.Values, verifier, nonce string) {
	t.Helper()
	verifier, nonce = oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	state := oauth2.GenerateVerifier()
	authURL, err := p.AuthURL(context.Background(), redirectURI, state, nonce, verifier)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := noFollow.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize answered %d, want 302", resp.StatusCode)
	}
	loc, err := resp.Location()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(loc.String(), "https://app.example.com/_gatehouse/callback/x?") {
		t.Fatalf("redirected to %s, not the redirect URI", loc)
	}
	q := loc.Query()
	if q.Get("state") != state || q.Get("keep") != "1" {
		t.Fatalf("callback query %v lost the state or the redirect URI's own query", q)
	}
	return q, verifier, nonce
}

// signIn logs in and redeems the code.
func signIn(t *testing.T, p *oauth2login.Provider) (*provider.Identity, *provider.Tokens) {
	t.Helper()
	q, verifier, nonce := login(t, p)
	if q.Get("code") == "" {
		t.Fatalf("no code in the callback: %v", q)
	}
	id, tok, err := p.Exchange(context.Background(), q.Get("code"), redirectURI, verifier, nonce)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return id, tok
}

func providerError(t *testing.T, err error, code string, status int) {
	t.Helper()
	var pe *provider.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v is not a *provider.Error", err)
	}
	if pe.Code != code || pe.Status != status {
		t.Fatalf("error = %s/%d (%v), want %s/%d", pe.Code, pe.Status, pe.Err, code, status)
	}
}

func TestPresetsEndToEnd(t *testing.T) {
	tests := []struct {
		kind   string
		user   fakeoauth.OAuth2FakeUser
		want   provider.Identity
		params map[string]string // expected authorize parameters ("" = absent)
		path   string
	}{
		{
			kind: "gitlab",
			user: fakeoauth.OAuth2FakeUser{ID: "4242", Login: "alice", Email: "alice@example.com", EmailVerified: true,
				Name: "Alice Liddell", Avatar: "https://gitlab.example/uploads/a.png", Groups: []string{"acme", "acme/dev"}},
			want: provider.Identity{Subject: "4242", Username: "alice", Email: "alice@example.com", EmailVerified: true,
				Name: "Alice Liddell", Picture: "https://gitlab.example/uploads/a.png", Groups: []string{"acme", "acme/dev"}},
			params: map[string]string{"scope": "openid profile email", "code_challenge_method": "S256", "response_type": "code", "nonce": ""},
			path:   "/oauth/authorize",
		},
		{
			kind: "microsoft",
			user: fakeoauth.OAuth2FakeUser{ID: "OLu859SGc2Sr9ZsqbkG-QbeLgJlb41KcdiPoLYNpSFA", Login: "mikoll@contoso.example",
				Email: "mikoll@contoso.example", EmailVerified: true, Name: "Mikah Ollenburg"},
			want: provider.Identity{Subject: "OLu859SGc2Sr9ZsqbkG-QbeLgJlb41KcdiPoLYNpSFA", Username: "mikoll@contoso.example",
				Email: "mikoll@contoso.example", EmailVerified: true, Name: "Mikah Ollenburg"},
			params: map[string]string{"scope": "openid profile email offline_access", "code_challenge_method": "S256"},
			path:   "/common/oauth2/v2.0/authorize",
		},
		{
			kind: "gitee",
			user: fakeoauth.OAuth2FakeUser{ID: "5294558", Login: "hoppin", Email: "h@example.cn", EmailVerified: true,
				Name: "Hoppin", Avatar: "https://portrait.gitee.com/a.png"},
			want: provider.Identity{Subject: "5294558", Username: "hoppin", Email: "h@example.cn", EmailVerified: true,
				Name: "Hoppin", Picture: "https://portrait.gitee.com/a.png"},
			params: map[string]string{"scope": "user_info emails", "code_challenge": "", "code_challenge_method": ""},
			path:   "/oauth/authorize",
		},
		{
			kind: "feishu",
			user: fakeoauth.OAuth2FakeUser{ID: "ou_caecc734c2e3328a62489fe0648c4b98779515d3", Login: "5d9bdxxx",
				Email: "zhangsan@example.cn", EmailVerified: true, Name: "张三", Avatar: "https://example.cn/avatar"},
			want: provider.Identity{Subject: "ou_caecc734c2e3328a62489fe0648c4b98779515d3", Username: "5d9bdxxx",
				Name: "张三", Picture: "https://example.cn/avatar"},
			params: map[string]string{"scope": "", "code_challenge_method": "S256", "client_id": clientID},
			path:   "/open-apis/authen/v1/authorize",
		},
		{
			kind: "lark",
			user: fakeoauth.OAuth2FakeUser{ID: "ou_lark1", Login: "u1", Name: "Lark User"},
			want: provider.Identity{Subject: "ou_lark1", Username: "u1", Name: "Lark User"},
			path: "/open-apis/authen/v1/authorize",
		},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			f, p := setup(t, tt.kind, &tt.user)
			id, tok := signIn(t, p)
			if !reflect.DeepEqual(*id, tt.want) {
				t.Errorf("identity\n got %+v\nwant %+v", *id, tt.want)
			}
			if tok.AccessToken == "" || tok.Expiry.Before(time.Now().Add(time.Minute)) {
				t.Errorf("tokens: access token set %v, expiry %v", tok.AccessToken != "", tok.Expiry)
			}
			if f.LastAuthorizePath() != tt.path {
				t.Errorf("authorize path %q, want %q", f.LastAuthorizePath(), tt.path)
			}
			got := f.LastAuthorize()
			for k, v := range tt.params {
				if got.Get(k) != v {
					t.Errorf("authorize %s = %q, want %q", k, got.Get(k), v)
				}
			}
			if f.TokenRequests("authorization_code") != 1 {
				t.Errorf("%d code exchanges, want 1", f.TokenRequests("authorization_code"))
			}
		})
	}
}

// TestUnverifiedEmailNeverUsed: an address the provider does not assert
// as verified is neither the email nor the username.
func TestUnverifiedEmailNeverUsed(t *testing.T) {
	tests := []struct {
		kind string
		user fakeoauth.OAuth2FakeUser
	}{
		{"gitlab", fakeoauth.OAuth2FakeUser{ID: "7", Login: "mallory", Email: "ceo@victim.example", Name: "M"}},
		// nOAuth: a tenant sets any address; no xms_edov, no email. With no
		// preferred_username, the username falls back to the subject.
		{"microsoft", fakeoauth.OAuth2FakeUser{ID: "pairwise-sub-1", Email: "ceo@victim.example", Name: "M"}},
		// The /api/v5/user public email is the address, but /api/v5/emails
		// says it is unconfirmed; the confirmed noreply one is not primary.
		{"gitee", fakeoauth.OAuth2FakeUser{ID: "99", Login: "mallory", Email: "ceo@victim.example", Name: "M"}},
		// Feishu never asserts verification, even for a directory address.
		{"feishu", fakeoauth.OAuth2FakeUser{ID: "ou_1", Email: "ceo@victim.example", EmailVerified: true, Name: "M"}},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			_, p := setup(t, tt.kind, &tt.user)
			id, _ := signIn(t, p)
			if id.Email != "" || id.EmailVerified {
				t.Errorf("email %q (verified %v) used", id.Email, id.EmailVerified)
			}
			if strings.Contains(id.Username, "@") || id.Username == "" {
				t.Errorf("username %q", id.Username)
			}
			if id.Subject != tt.user.ID {
				t.Errorf("subject %q, want %q", id.Subject, tt.user.ID)
			}
		})
	}
}

func TestDeniedConsent(t *testing.T) {
	for _, kind := range oauth2login.PresetNames() {
		t.Run(kind, func(t *testing.T) {
			f, p := setup(t, kind, nil)
			f.DenyConsent(true)
			q, verifier, nonce := login(t, p)
			if q.Get("error") != "access_denied" || q.Has("code") {
				t.Fatalf("callback %v, want error=access_denied and no code", q)
			}
			_, _, err := p.Exchange(context.Background(), q.Get("code"), redirectURI, verifier, nonce)
			providerError(t, err, "exchange_failed", http.StatusBadRequest)
			if n := f.TokenRequests("authorization_code"); n != 0 {
				t.Errorf("%d token requests for a denied login", n)
			}
		})
	}
}

func TestExchangeRefused(t *testing.T) {
	for _, kind := range []string{"gitlab", "microsoft", "gitee", "feishu"} {
		t.Run(kind, func(t *testing.T) {
			f, p := setup(t, kind, nil)
			ctx := context.Background()

			// A code is single use.
			q, verifier, nonce := login(t, p)
			if _, _, err := p.Exchange(ctx, q.Get("code"), redirectURI, verifier, nonce); err != nil {
				t.Fatal(err)
			}
			_, _, err := p.Exchange(ctx, q.Get("code"), redirectURI, verifier, nonce)
			providerError(t, err, "exchange_failed", http.StatusBadRequest)

			// A code is bound to its redirect URI.
			q, verifier, nonce = login(t, p)
			_, _, err = p.Exchange(ctx, q.Get("code"), "https://evil.example/cb", verifier, nonce)
			providerError(t, err, "exchange_failed", http.StatusBadRequest)

			// PKCE: another verifier is refused (Gitee sends no PKCE).
			if kind != "gitee" {
				q, _, nonce = login(t, p)
				_, _, err = p.Exchange(ctx, q.Get("code"), redirectURI, oauth2.GenerateVerifier(), nonce)
				providerError(t, err, "exchange_failed", http.StatusBadRequest)
			}

			// A wrong client secret.
			cfg, _ := oauth2login.Preset(kind, "", oauth2login.PresetParams{ClientID: clientID, ClientSecret: "wrong-secret-xyz", BaseURL: f.URL})
			bad, err := oauth2login.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			q, verifier, nonce = login(t, bad)
			_, _, err = bad.Exchange(ctx, q.Get("code"), redirectURI, verifier, nonce)
			providerError(t, err, "exchange_failed", http.StatusBadRequest)
			if strings.Contains(err.Error(), "wrong-secret-xyz") || strings.Contains(err.Error(), q.Get("code")) {
				t.Errorf("error %q holds the secret or the code", err)
			}
		})
	}
}

func TestRefresh(t *testing.T) {
	tests := []struct {
		kind string
		// oldStays: the previous refresh token still works after a refresh.
		oldStays bool
		scopes   []string
	}{
		{kind: "gitlab"},
		{kind: "microsoft", oldStays: true},
		{kind: "gitee"},
		{kind: "feishu", scopes: []string{"offline_access"}},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			f, p := setup(t, tt.kind, nil, tt.scopes...)
			ctx := context.Background()
			_, tok := signIn(t, p)
			if tok.RefreshToken == "" {
				t.Fatal("no refresh token")
			}
			f.SetAccessTokenLifetime(90 * time.Minute)
			next, err := p.Refresh(ctx, tok.RefreshToken)
			if err != nil {
				t.Fatalf("Refresh: %v", err)
			}
			if next.AccessToken == "" || next.AccessToken == tok.AccessToken || next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken {
				t.Fatal("refresh did not rotate the tokens")
			}
			if d := time.Until(next.Expiry); d < 89*time.Minute || d > 91*time.Minute {
				t.Errorf("expiry in %v, want 90m", d)
			}
			_, err = p.Refresh(ctx, tok.RefreshToken)
			if tt.oldStays && err != nil {
				t.Errorf("the previous refresh token was refused: %v", err)
			}
			if !tt.oldStays && !errors.Is(err, provider.ErrInvalidGrant) {
				t.Errorf("the previous refresh token: err = %v, want ErrInvalidGrant", err)
			}

			f.RevokeRefreshTokens()
			_, err = p.Refresh(ctx, next.RefreshToken)
			if !errors.Is(err, provider.ErrInvalidGrant) {
				t.Fatalf("revoked refresh token: err = %v, want ErrInvalidGrant", err)
			}
			if strings.Contains(err.Error(), next.RefreshToken) {
				t.Error("the error holds the refresh token")
			}
			if _, err := p.Refresh(ctx, "not-a-refresh-token"); !errors.Is(err, provider.ErrInvalidGrant) {
				t.Errorf("unknown refresh token: err = %v, want ErrInvalidGrant", err)
			}
			if n := f.TokenRequests("refresh_token"); n != 4 {
				t.Errorf("%d refresh requests, want 4", n)
			}
		})
	}
}

func TestTransientErrors(t *testing.T) {
	for _, kind := range []string{"gitlab", "microsoft", "gitee", "feishu"} {
		t.Run(kind, func(t *testing.T) {
			var scopes []string
			if kind == "feishu" {
				scopes = []string{"offline_access"}
			}
			f, p := setup(t, kind, nil, scopes...)
			ctx := context.Background()

			for _, status := range []int{http.StatusInternalServerError, http.StatusServiceUnavailable} {
				f.FailNext(tokenPath[kind], status)
				q, verifier, nonce := login(t, p)
				_, _, err := p.Exchange(ctx, q.Get("code"), redirectURI, verifier, nonce)
				providerError(t, err, "provider_unavailable", http.StatusBadGateway)
			}

			// A failing userinfo endpoint is the provider's outage too.
			f.FailNext(userinfoPath[kind], http.StatusBadGateway)
			q, verifier, nonce := login(t, p)
			_, _, err := p.Exchange(ctx, q.Get("code"), redirectURI, verifier, nonce)
			providerError(t, err, "provider_unavailable", http.StatusBadGateway)

			_, tok := signIn(t, p)
			f.FailNext(tokenPath[kind], http.StatusInternalServerError)
			_, err = p.Refresh(ctx, tok.RefreshToken)
			if err == nil || errors.Is(err, provider.ErrInvalidGrant) {
				t.Errorf("refresh during an outage: err = %v, want a transient error", err)
			}
			if _, err := p.Refresh(ctx, tok.RefreshToken); err != nil {
				t.Errorf("refresh after the outage: %v", err)
			}
		})
	}
}

func TestProviderDownOrSlow(t *testing.T) {
	f, p := setup(t, "gitlab", nil)
	q, verifier, nonce := login(t, p)

	cfg, _ := oauth2login.Preset("gitlab", "", oauth2login.PresetParams{ClientID: clientID, ClientSecret: clientSecret, BaseURL: f.URL})
	cfg.HTTPClient = &http.Client{Timeout: 150 * time.Millisecond}
	slow, err := oauth2login.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.SetTokenDelay(3 * time.Second)
	start := time.Now()
	_, _, err = slow.Exchange(context.Background(), q.Get("code"), redirectURI, verifier, nonce)
	providerError(t, err, "provider_timeout", http.StatusGatewayTimeout)
	if time.Since(start) > 2*time.Second {
		t.Errorf("the exchange took %v despite the client timeout", time.Since(start))
	}

	f.Close()
	_, _, err = p.Exchange(context.Background(), "some-code", redirectURI, verifier, nonce)
	providerError(t, err, "provider_unavailable", http.StatusBadGateway)
	if _, err := p.Refresh(context.Background(), "rt"); err == nil || errors.Is(err, provider.ErrInvalidGrant) {
		t.Errorf("refresh with the provider down: err = %v, want a transient error", err)
	}
}

func TestRevoke(t *testing.T) {
	t.Run("gitlab", func(t *testing.T) {
		f, p := setup(t, "gitlab", nil)
		_, tok := signIn(t, p)
		if err := p.Revoke(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
		if got := f.Revoked(); len(got) != 1 || got[0] != tok.RefreshToken {
			t.Fatalf("revoked %d tokens, want the refresh token", len(got))
		}
		if _, err := p.Refresh(context.Background(), tok.RefreshToken); !errors.Is(err, provider.ErrInvalidGrant) {
			t.Errorf("refresh after revoke: err = %v, want ErrInvalidGrant", err)
		}
		req, _ := http.NewRequest(http.MethodGet, f.URL+"/oauth/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("userinfo with the revoked access token: %d", resp.StatusCode)
		}
		if err := p.Revoke(context.Background(), nil); err != nil {
			t.Errorf("Revoke(nil) = %v", err)
		}
	})
	t.Run("gitlab down", func(t *testing.T) {
		f, p := setup(t, "gitlab", nil)
		_, tok := signIn(t, p)
		f.FailNext("/oauth/revoke", http.StatusInternalServerError)
		if err := p.Revoke(context.Background(), tok); err == nil {
			t.Error("Revoke succeeded although the provider failed")
		}
	})
	for _, kind := range []string{"microsoft", "gitee", "feishu"} {
		t.Run(kind+" has no revocation", func(t *testing.T) {
			f, p := setup(t, kind, nil)
			_, tok := signIn(t, p)
			if err := p.Revoke(context.Background(), tok); err != nil {
				t.Fatal(err)
			}
			if len(f.Revoked()) != 0 {
				t.Error("a token was revoked")
			}
		})
	}
}

func TestMicrosoftIDTokenChecks(t *testing.T) {
	_, p := setup(t, "microsoft", nil)
	q, verifier, _ := login(t, p)
	// The id_token carries the nonce of the login; another one is refused.
	_, _, err := p.Exchange(context.Background(), q.Get("code"), redirectURI, verifier, "another-nonce")
	providerError(t, err, "invalid_id_token", http.StatusUnauthorized)
}

func TestMicrosoftTenants(t *testing.T) {
	for _, tenant := range []string{"", "organizations", "consumers", "contoso.onmicrosoft.com", "72f988bf-86f1-41af-91ab-2d7cd011db47"} {
		t.Run(tenant, func(t *testing.T) {
			f := fakeoauth.NewOAuth2Fake("microsoft")
			t.Cleanup(f.Close)
			f.AddClient(clientID, clientSecret)
			cfg, err := oauth2login.Preset("microsoft", "entra", oauth2login.PresetParams{
				ClientID: clientID, ClientSecret: clientSecret, Tenant: tenant, BaseURL: f.URL})
			if err != nil {
				t.Fatal(err)
			}
			p, err := oauth2login.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if p.Name() != "entra" {
				t.Errorf("name %q", p.Name())
			}
			signIn(t, p)
			want := tenant
			if want == "" {
				want = "common"
			}
			if got := f.LastAuthorizePath(); got != "/"+want+"/oauth2/v2.0/authorize" {
				t.Errorf("authorize path %q", got)
			}
		})
	}
}

// TestGenericConfigNestedClaims: a hand-written Config with nested claim
// paths against the Feishu fake.
func TestGenericConfigNestedClaims(t *testing.T) {
	f := fakeoauth.NewOAuth2Fake("feishu")
	t.Cleanup(f.Close)
	f.AddClient(clientID, clientSecret)
	f.SetUser(fakeoauth.OAuth2FakeUser{ID: "ou_42", Login: "u42", Email: "x@example.cn", Name: "X Y", Avatar: "https://a.example/x.png"})
	base := oauth2login.Config{
		Name:              "corp",
		AuthURL:           f.URL + "/open-apis/authen/v1/authorize",
		TokenURL:          f.URL + "/open-apis/authen/v2/oauth/token",
		UserinfoURL:       f.URL + "/open-apis/authen/v1/user_info",
		ClientID:          clientID,
		ClientSecret:      clientSecret,
		Scopes:            []string{"offline_access"},
		Claims:            oauth2login.Claims{ID: "data.union_id", Login: "data.en_name", Email: "data.email", Name: "data.name", Avatar: "data.avatar_big"},
		ResponseCodeField: "code",
		AuthParams:        map[string]string{"prompt": "consent"},
	}
	t.Run("no verification claim: no email", func(t *testing.T) {
		p, err := oauth2login.New(base)
		if err != nil {
			t.Fatal(err)
		}
		id, tok := signIn(t, p)
		if !strings.HasPrefix(id.Subject, "on_") || id.Username != "X Y" || id.Name != "X Y" || id.Picture != "https://a.example/x.png" {
			t.Errorf("identity %+v", *id)
		}
		if id.Email != "" {
			t.Errorf("email %q used without verification", id.Email)
		}
		if f.LastAuthorize().Get("prompt") != "consent" {
			t.Error("auth params not sent")
		}
		if tok.RefreshToken == "" {
			t.Error("no refresh token with offline_access")
		}
	})
	t.Run("verification claim that is not true", func(t *testing.T) {
		cfg := base
		cfg.EmailVerified = "data.enterprise_email" // "" in the fake's answer
		p, err := oauth2login.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := signIn(t, p)
		if id.Email != "" {
			t.Errorf("email %q used", id.Email)
		}
	})
	t.Run("missing id claim", func(t *testing.T) {
		cfg := base
		cfg.Claims.ID = "data.no_such_claim"
		p, err := oauth2login.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		q, verifier, nonce := login(t, p)
		_, _, err = p.Exchange(context.Background(), q.Get("code"), redirectURI, verifier, nonce)
		providerError(t, err, "userinfo_failed", http.StatusBadGateway)
	})
}

func TestPresetConfig(t *testing.T) {
	if got := oauth2login.PresetNames(); !reflect.DeepEqual(got, []string{"feishu", "gitee", "gitlab", "lark", "microsoft"}) {
		t.Errorf("PresetNames() = %v", got)
	}
	tests := []struct {
		name    string
		kind    string
		p       oauth2login.PresetParams
		wantErr string
		check   func(t *testing.T, c oauth2login.Config)
	}{
		{name: "unknown kind", kind: "github", wantErr: "unknown provider preset"},
		{name: "tenant on gitlab", kind: "gitlab", p: oauth2login.PresetParams{Tenant: "x"}, wantErr: "tenant"},
		{name: "bad tenant", kind: "microsoft", p: oauth2login.PresetParams{Tenant: "a/b"}, wantErr: "tenant"},
		{name: "relative base", kind: "gitlab", p: oauth2login.PresetParams{BaseURL: "gitlab.example.com"}, wantErr: "base_url"},
		{name: "base with query", kind: "gitlab", p: oauth2login.PresetParams{BaseURL: "https://g.example/?x=1"}, wantErr: "base_url"},
		{name: "gitlab.com", kind: "gitlab", check: func(t *testing.T, c oauth2login.Config) {
			if c.AuthURL != "https://gitlab.com/oauth/authorize" || c.UserinfoURL != "https://gitlab.com/oauth/userinfo" ||
				c.RevokeURL != "https://gitlab.com/oauth/revoke" || c.Name != "gitlab" {
				t.Errorf("%+v", c)
			}
		}},
		{name: "self-managed under a path", kind: "gitlab", p: oauth2login.PresetParams{BaseURL: "https://example.com/gitlab/", Scopes: []string{"read_user", "openid"}},
			check: func(t *testing.T, c oauth2login.Config) {
				if c.AuthURL != "https://example.com/gitlab/oauth/authorize" || c.TokenURL != "https://example.com/gitlab/oauth/token" {
					t.Errorf("%s %s", c.AuthURL, c.TokenURL)
				}
				if !reflect.DeepEqual(c.Scopes, []string{"openid", "profile", "email", "read_user"}) {
					t.Errorf("scopes %v", c.Scopes)
				}
			}},
		{name: "microsoft", kind: "microsoft", p: oauth2login.PresetParams{Tenant: "organizations"}, check: func(t *testing.T, c oauth2login.Config) {
			if c.AuthURL != "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize" ||
				c.TokenURL != "https://login.microsoftonline.com/organizations/oauth2/v2.0/token" ||
				c.UserinfoURL != "https://graph.microsoft.com/oidc/userinfo" || c.RevokeURL != "" || c.DisablePKCE {
				t.Errorf("%+v", c)
			}
		}},
		{name: "gitee", kind: "gitee", check: func(t *testing.T, c oauth2login.Config) {
			if c.TokenURL != "https://gitee.com/oauth/token" || c.VerifiedEmails == nil ||
				c.VerifiedEmails.URL != "https://gitee.com/api/v5/emails" || c.TokenInQuery != "access_token" || !c.DisablePKCE {
				t.Errorf("%+v", c)
			}
		}},
		{name: "feishu", kind: "feishu", check: func(t *testing.T, c oauth2login.Config) {
			if c.AuthURL != "https://accounts.feishu.cn/open-apis/authen/v1/authorize" ||
				c.TokenURL != "https://open.feishu.cn/open-apis/authen/v2/oauth/token" ||
				c.UserinfoURL != "https://open.feishu.cn/open-apis/authen/v1/user_info" {
				t.Errorf("%+v", c)
			}
		}},
		{name: "lark", kind: "lark", check: func(t *testing.T, c oauth2login.Config) {
			if c.AuthURL != "https://accounts.larksuite.com/open-apis/authen/v1/authorize" ||
				c.TokenURL != "https://open.larksuite.com/open-apis/authen/v2/oauth/token" {
				t.Errorf("%+v", c)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.p.ClientID = "id"
			c, err := oauth2login.Preset(tt.kind, "", tt.p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := oauth2login.New(c); err != nil {
				t.Fatalf("New(preset): %v", err)
			}
			tt.check(t, c)
		})
	}
}
