package oidc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/internal/provider"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/fakegoogle"
)

const (
	gClientID = "123-abc.apps.googleusercontent.com"
	gSecret   = "GOCSPX-not a real secret"
	gRedirect = "https://app.example.com/oauth2/callback"
	gDomain   = "corp.example"
)

var gAlice = fakegoogle.GoogleUser{Sub: "110169484474386276334", Email: "alice@corp.example", EmailVerified: true,
	HD: gDomain, Name: "Alice Liddell", Picture: "https://lh3.googleusercontent.com/a/alice"}

// newFakeGoogle starts a fake Google with the test client and alice.
func newFakeGoogle(t *testing.T) *fakegoogle.Google {
	t.Helper()
	g := fakegoogle.NewGoogle()
	t.Cleanup(g.Close)
	g.AddClient(gClientID, gSecret, gRedirect)
	g.SetUser(gAlice)
	return g
}

// googleProvider is Google(…) pointed at the fake: its URL as the issuer
// and its host:port as the alias (as accounts.google.com is Google's).
func googleProvider(t *testing.T, g *fakegoogle.Google, hostedDomain string, edit func(*Config)) *Provider {
	t.Helper()
	cfg := Google("google", gClientID, gSecret, hostedDomain, nil)
	cfg.Issuer = g.URL
	cfg.IssuerAliases = []string{g.Alias()}
	if edit != nil {
		edit(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

var noRedirects = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func randomHex(t *testing.T) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// loginResult is one sign-in through the real provider code.
type loginResult struct {
	authURL *url.URL
	id      *provider.Identity
	tokens  *provider.Tokens
	err     error
}

// mustLogin is login without changes to the authorization request, failing
// t when the login fails.
func mustLogin(t *testing.T, p *Provider) loginResult {
	t.Helper()
	r := login(t, p, nil)
	if r.err != nil {
		t.Fatalf("login: %v", r.err)
	}
	return r
}

// login runs AuthURL, the browser's visit to the fake (after editQuery,
// which plays a client tampering with the URL), and Exchange.
func login(t *testing.T, p *Provider, editQuery func(url.Values)) loginResult {
	t.Helper()
	ctx := context.Background()
	state, nonce, verifier := randomHex(t), randomHex(t), oauth2.GenerateVerifier()
	raw, err := p.AuthURL(ctx, gRedirect, state, nonce, verifier)
	if err != nil {
		t.Fatalf("AuthURL: %v", err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	res := loginResult{authURL: u}
	visit := *u
	if editQuery != nil {
		q := visit.Query()
		editQuery(q)
		visit.RawQuery = q.Encode()
	}
	resp, err := noRedirects.Get(visit.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), gRedirect+"?") {
		t.Fatalf("authorization: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	cb := loc.Query()
	if cb.Get("state") != state || cb.Get("code") == "" {
		t.Fatalf("callback %v", cb)
	}
	res.id, res.tokens, res.err = p.Exchange(ctx, cb.Get("code"), gRedirect, verifier, nonce)
	return res
}

// wantCode fails t unless err is a *provider.Error with code and status.
func wantCode(t *testing.T, err error, code string, status int) {
	t.Helper()
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Code != code || pe.Status != status {
		t.Fatalf("error %v, want %s (%d)", err, code, status)
	}
}

func TestGoogleConfig(t *testing.T) {
	c := Google("g", "id", "secret", gDomain, nil)
	if c.Issuer != GoogleIssuer || !slices.Equal(c.IssuerAliases, []string{"accounts.google.com"}) ||
		!slices.Equal(c.Scopes, []string{"openid", "email", "profile"}) || c.HostedDomain != gDomain ||
		!c.RequireVerifiedEmail || c.AuthParams["access_type"] != "offline" || c.AuthParams["hd"] != gDomain {
		t.Fatalf("Google(...) = %+v", c)
	}
	if c := Google("g", "id", "secret", "", []string{"openid", "email"}); c.HostedDomain != "" || c.AuthParams["hd"] != "" ||
		len(c.AuthParams) != 1 || !slices.Equal(c.Scopes, []string{"openid", "email"}) {
		t.Fatalf("Google without a domain = %+v", c)
	}
	for _, k := range []string{"state", "nonce", "client_id", "redirect_uri", "code_challenge", "code_challenge_method", "response_type", "scope"} {
		if _, err := New(Config{Issuer: "https://x", ClientID: "c", AuthParams: map[string]string{k: "evil"}}); err == nil {
			t.Errorf("AuthParams may set %s", k)
		}
	}
	if _, err := New(Config{Issuer: "https://x", ClientID: "c", IssuerAliases: []string{""}}); err == nil {
		t.Error("an empty issuer alias was accepted")
	}
}

func TestGoogleLoginIssuerForms(t *testing.T) {
	g := newFakeGoogle(t)
	cases := []struct {
		name    string
		short   bool
		aliases []string
		wantErr bool
	}{
		{"full issuer", false, nil, false},
		{"short issuer via alias", true, nil, false},
		{"short issuer without the alias", true, []string{}, true},
		{"full issuer with only another alias", false, []string{"elsewhere.example"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g.IssuerForm(c.short)
			defer g.IssuerForm(false)
			p := googleProvider(t, g, gDomain, func(cfg *Config) {
				if c.aliases != nil {
					cfg.IssuerAliases = c.aliases
				}
			})
			r := login(t, p, nil)
			if c.wantErr {
				wantCode(t, r.err, "invalid_id_token", http.StatusUnauthorized)
				return
			}
			if r.err != nil {
				t.Fatalf("login: %v", r.err)
			}
			want := provider.Identity{Subject: gAlice.Sub, Email: gAlice.Email, EmailVerified: true, Name: gAlice.Name, Picture: gAlice.Picture}
			if got := *r.id; got.Subject != want.Subject || got.Email != want.Email || !got.EmailVerified || got.Name != want.Name || got.Picture != want.Picture {
				t.Fatalf("identity %+v", got)
			}
			if r.tokens.AccessToken == "" || r.tokens.IDToken == "" || time.Until(r.tokens.Expiry) < 59*time.Minute {
				t.Fatalf("tokens: access %v id %v expiry %v", r.tokens.AccessToken != "", r.tokens.IDToken != "", r.tokens.Expiry)
			}
		})
	}
}

func TestGoogleKeyRotation(t *testing.T) {
	g := newFakeGoogle(t)
	p := googleProvider(t, g, gDomain, nil)
	if r := login(t, p, nil); r.err != nil {
		t.Fatalf("before rotation: %v", r.err)
	}
	g.RotateKeys()
	// The new kid is unknown to the cached key set: go-oidc re-fetches it.
	if r := login(t, p, nil); r.err != nil {
		t.Fatalf("new key: %v", r.err)
	}
	// During the overlap the old key still verifies.
	g.SignNextWith(fakegoogle.GoogleSignOldKey)
	if r := login(t, p, nil); r.err != nil {
		t.Fatalf("old key during the overlap: %v", r.err)
	}
	g.DropOldKeys()
	// A provider that fetches the JWKS now no longer trusts the old key.
	cold := googleProvider(t, g, gDomain, nil)
	if r := login(t, cold, nil); r.err != nil {
		t.Fatalf("new key after DropOldKeys: %v", r.err)
	}
	g.SignNextWith(fakegoogle.GoogleSignOldKey)
	wantCode(t, login(t, cold, nil).err, "invalid_id_token", http.StatusUnauthorized)
	if r := login(t, p, nil); r.err != nil {
		t.Fatalf("new key, warm cache, after DropOldKeys: %v", r.err)
	}
}

func TestGoogleEmailVerified(t *testing.T) {
	g := newFakeGoogle(t)
	p := googleProvider(t, g, "", nil)
	lax := googleProvider(t, g, "", func(c *Config) { c.RequireVerifiedEmail = false })
	cases := []struct {
		value any
		ok    bool
	}{
		{true, true},
		{"true", true},
		{false, false},
		{"false", false},
		{nil, false},
	}
	for _, c := range cases {
		u := gAlice
		u.EmailVerified = c.value
		g.SetUser(u)
		r := login(t, p, nil)
		if c.ok {
			if r.err != nil || r.id.Email != gAlice.Email || !r.id.EmailVerified {
				t.Errorf("email_verified %#v: %v %+v", c.value, r.err, r.id)
			}
		} else {
			var pe *provider.Error
			if !errors.As(r.err, &pe) || pe.Code != "email_not_verified" || pe.Status != http.StatusForbidden {
				t.Errorf("email_verified %#v: error %v, want email_not_verified 403", c.value, r.err)
			}
			// Without the requirement the login passes but the email is not released.
			if r := login(t, lax, nil); r.err != nil || r.id.Email != "" || r.id.EmailVerified {
				t.Errorf("email_verified %#v without RequireVerifiedEmail: %v %+v", c.value, r.err, r.id)
			}
		}
	}
}

func TestGoogleHostedDomain(t *testing.T) {
	g := newFakeGoogle(t)
	p := googleProvider(t, g, gDomain, nil)
	cases := []struct {
		name   string
		userHD string
		query  func(url.Values) // the client's tampering with the authorization URL
		ok     bool
	}{
		{"right hd", gDomain, nil, true},
		{"right hd, client dropped the hint", gDomain, func(q url.Values) { q.Del("hd") }, true},
		{"wrong hd", "evil.example", nil, false},
		{"missing hd (consumer account)", "", nil, false},
		{"wrong hd, client changed the hint to match", "evil.example", func(q url.Values) { q.Set("hd", "evil.example") }, false},
		{"missing hd, client asked for any domain", "", func(q url.Values) { q.Set("hd", "*") }, false},
		{"case differs", "Corp.Example", nil, true},
		{"suffix of the domain", "evilcorp.example", nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := gAlice
			u.HD = c.userHD
			g.SetUser(u)
			r := login(t, p, c.query)
			if r.authURL.Query().Get("hd") != gDomain {
				t.Errorf("authorization URL hd hint %q", r.authURL.Query().Get("hd"))
			}
			if c.ok {
				if r.err != nil {
					t.Fatalf("login: %v", r.err)
				}
				return
			}
			wantCode(t, r.err, "hosted_domain_mismatch", http.StatusForbidden)
		})
	}
}

func TestGoogleIDTokenAttacks(t *testing.T) {
	g := newFakeGoogle(t)
	p := googleProvider(t, g, gDomain, nil)
	mutate := func(fn func(map[string]any)) func() { return func() { g.MutateNextIDToken(fn) } }
	cases := []struct {
		name    string
		arrange func()
		why     string // part of the error: the check that refused it; "" accepts
	}{
		{"untouched (control)", func() {}, ""},
		{"alg none", func() { g.SignNextWith(fakegoogle.GoogleSignNone) }, `unexpected signature algorithm "none"`},
		{"HS256 keyed with the public key", func() { g.SignNextWith(fakegoogle.GoogleSignHS256Public) }, `unexpected signature algorithm "HS256"`},
		{"unknown kid", func() { g.SignNextWith(fakegoogle.GoogleSignUnknownKid) }, "failed to verify signature"},
		{"wrong aud", mutate(func(c map[string]any) { c["aud"] = "other.apps.googleusercontent.com" }), "expected audience"},
		{"aud list without us", mutate(func(c map[string]any) { c["aud"] = []string{"a", "b"} }), "expected audience"},
		{"aud list with us, azp another client", mutate(func(c map[string]any) { c["aud"] = []string{gClientID, "b"}; c["azp"] = "b" }), "azp"},
		{"aud list with us, no azp", mutate(func(c map[string]any) { c["aud"] = []string{gClientID, "b"}; delete(c, "azp") }), "azp"},
		{"azp another client", mutate(func(c map[string]any) { c["azp"] = "other" }), "azp"},
		{"wrong iss", mutate(func(c map[string]any) { c["iss"] = "https://evil.example" }), "issued by"},
		{"iss is the real Google", mutate(func(c map[string]any) { c["iss"] = GoogleIssuer }), "issued by"},
		{"iss alias with a scheme", mutate(func(c map[string]any) { c["iss"] = "https://" + g.Alias() }), "issued by"},
		{"expired", mutate(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }), "expired"},
		{"wrong nonce", mutate(func(c map[string]any) { c["nonce"] = "replayed-nonce" }), "nonce"},
		{"missing nonce", mutate(func(c map[string]any) { delete(c, "nonce") }), "nonce"},
		{"at_hash of another token", mutate(func(c map[string]any) { c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAA" }), "at_hash"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.arrange()
			r := login(t, p, nil)
			if c.why == "" {
				if r.err != nil {
					t.Fatalf("login: %v", r.err)
				}
				return
			}
			wantCode(t, r.err, "invalid_id_token", http.StatusUnauthorized)
			if !strings.Contains(r.err.Error(), c.why) {
				t.Fatalf("refused for another reason than %q: %v", c.why, r.err)
			}
		})
	}
}

func TestGoogleOfflineAccessAndRefresh(t *testing.T) {
	g := newFakeGoogle(t)
	p := googleProvider(t, g, gDomain, nil)
	ctx := context.Background()

	first := mustLogin(t, p)
	if first.authURL.Query().Get("access_type") != "offline" || g.LastAuthorize().Get("access_type") != "offline" {
		t.Fatalf("access_type=offline not sent: %v", first.authURL.Query())
	}
	if first.tokens.RefreshToken == "" {
		t.Fatal("the first consent gave no refresh token")
	}
	if second := login(t, p, nil); second.err != nil || second.tokens.RefreshToken != "" {
		t.Fatalf("second login: %v, refresh token %v", second.err, second.tokens != nil && second.tokens.RefreshToken != "")
	}

	rt := first.tokens.RefreshToken
	fresh, err := p.Refresh(ctx, rt)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if fresh.AccessToken == "" || fresh.AccessToken == first.tokens.AccessToken || fresh.RefreshToken != rt ||
		fresh.IDToken == "" || fresh.IDToken == first.tokens.IDToken || time.Until(fresh.Expiry) < 59*time.Minute {
		t.Fatalf("refreshed tokens: new access %v, same refresh %v, new id_token %v, expiry %v",
			fresh.AccessToken != first.tokens.AccessToken, fresh.RefreshToken == rt, fresh.IDToken != first.tokens.IDToken, fresh.Expiry)
	}
	if n := g.TokenRequests("refresh_token"); n != 1 {
		t.Fatalf("refresh_token requests = %d, want 1", n)
	}

	cases := []struct {
		name    string
		arrange func()
		grant   bool // errors.Is(err, provider.ErrInvalidGrant)
		code    string
	}{
		{"server error", func() { g.FailNextToken(http.StatusInternalServerError) }, false, "provider_unavailable"},
		{"unavailable", func() { g.FailNextToken(http.StatusServiceUnavailable) }, false, "provider_unavailable"},
		{"invalid_client", func() { g.FailNextToken(http.StatusUnauthorized) }, false, "refresh_failed"},
		{"forged id_token", func() { g.SignNextWith(fakegoogle.GoogleSignNone) }, false, "invalid_id_token"},
		{"refreshed id_token for another audience", func() {
			g.MutateNextIDToken(func(c map[string]any) { c["aud"] = "other" })
		}, false, "invalid_id_token"},
		{"account left the hosted domain", func() {
			g.MutateNextIDToken(func(c map[string]any) { c["hd"] = "elsewhere.example" })
		}, true, "hosted_domain_mismatch"},
		{"email no longer verified", func() {
			g.MutateNextIDToken(func(c map[string]any) { c["email_verified"] = false })
		}, true, "email_not_verified"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.arrange()
			_, err := p.Refresh(ctx, rt)
			if err == nil {
				t.Fatal("Refresh succeeded")
			}
			if errors.Is(err, provider.ErrInvalidGrant) != c.grant {
				t.Fatalf("errors.Is(%v, ErrInvalidGrant) = %v", err, !c.grant)
			}
			var pe *provider.Error
			if !errors.As(err, &pe) || pe.Code != c.code {
				t.Fatalf("error %v, want code %s", err, c.code)
			}
			if strings.Contains(err.Error(), rt) {
				t.Fatal("the error contains the refresh token")
			}
			// The failure was one-off: the refresh token still works.
			if _, err := p.Refresh(ctx, rt); err != nil {
				t.Fatalf("Refresh after the failure: %v", err)
			}
		})
	}

	t.Run("timeout", func(t *testing.T) {
		g.SetTokenDelay(2 * time.Second)
		defer g.SetTokenDelay(0)
		tctx, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := p.Refresh(tctx, rt)
		if err == nil || errors.Is(err, provider.ErrInvalidGrant) || time.Since(start) > time.Second {
			t.Fatalf("slow token endpoint: %v after %v", err, time.Since(start))
		}
	})

	t.Run("revoked grant", func(t *testing.T) {
		g.RevokeRefreshTokens(gAlice.Sub)
		_, err := p.Refresh(ctx, rt)
		if !errors.Is(err, provider.ErrInvalidGrant) {
			t.Fatalf("Refresh after RevokeRefreshTokens: %v", err)
		}
		if strings.Contains(err.Error(), rt) {
			t.Fatal("the error contains the refresh token")
		}
		if _, err := p.Refresh(ctx, ""); !errors.Is(err, provider.ErrInvalidGrant) {
			t.Fatalf("Refresh without a refresh token: %v", err)
		}
	})
}

func TestGoogleRevoke(t *testing.T) {
	g := newFakeGoogle(t)
	p := googleProvider(t, g, gDomain, nil)
	ctx := context.Background()
	r := mustLogin(t, p)
	if err := p.Revoke(ctx, r.tokens); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if got := g.RevokedTokens(); !slices.Equal(got, []string{r.tokens.RefreshToken}) {
		t.Fatalf("the fake revoked %d tokens, not the refresh token", len(got))
	}
	if _, err := p.Refresh(ctx, r.tokens.RefreshToken); !errors.Is(err, provider.ErrInvalidGrant) {
		t.Fatalf("Refresh after Revoke: %v", err)
	}
	// Google answers 400 invalid_token for a revoked token: already done.
	if err := p.Revoke(ctx, r.tokens); err != nil {
		t.Fatalf("second Revoke: %v", err)
	}
	// Without a refresh token the access token is revoked.
	r2 := login(t, p, nil)
	if r2.err != nil || r2.tokens.RefreshToken == "" {
		t.Fatalf("login after revocation: %v (a new consent gives a new refresh token)", r2.err)
	}
	if err := p.Revoke(ctx, &provider.Tokens{AccessToken: r2.tokens.AccessToken}); err != nil {
		t.Fatalf("Revoke of an access token: %v", err)
	}
	if got := g.RevokedTokens(); len(got) != 2 || got[1] != r2.tokens.AccessToken {
		t.Fatalf("the fake did not revoke the access token (%d revoked)", len(got))
	}
	if err := p.Revoke(ctx, &provider.Tokens{}); err != nil || len(g.RevokedTokens()) != 2 {
		t.Fatalf("Revoke of no token: %v", err)
	}
}

func TestEndSessionURL(t *testing.T) {
	g := newFakeGoogle(t)
	if u, ok := googleProvider(t, g, "", nil).EndSessionURL(context.Background(), "idt", "https://app.example.com/bye", "s"); ok || u != "" {
		t.Fatalf("Google has no end_session_endpoint, got %q", u)
	}

	idp := startDevIdP(t)
	p, err := New(Config{Issuer: idp.URL, ClientID: devClientID, ClientSecret: devClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	raw, ok := p.EndSessionURL(context.Background(), "header.payload.sig", "https://app.example.com/bye?x=1", "st-1")
	if !ok {
		t.Fatal("no end session URL for a provider with end_session_endpoint")
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme+"://"+u.Host+u.Path != idp.URL+"/logout" || q.Get("id_token_hint") != "header.payload.sig" ||
		q.Get("post_logout_redirect_uri") != "https://app.example.com/bye?x=1" || q.Get("state") != "st-1" || q.Get("client_id") != devClientID {
		t.Fatalf("end session URL %s", raw)
	}
	if raw, ok := p.EndSessionURL(context.Background(), "", "", ""); !ok || strings.Contains(raw, "id_token_hint") || strings.Contains(raw, "state=") {
		t.Fatalf("empty values were sent: %s", raw)
	}
	down, _ := New(Config{Issuer: "http://127.0.0.1:1", ClientID: "c"})
	if _, ok := down.EndSessionURL(context.Background(), "i", "p", "s"); ok {
		t.Fatal("an end session URL without discovery")
	}
}
