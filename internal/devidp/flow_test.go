package devidp

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TestAuthorizationCodeFlow drives the whole flow with golang.org/x/oauth2
// and verifies the result with go-oidc, as Gatehouse does.
func TestAuthorizationCodeFlow(t *testing.T) {
	t.Parallel()
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		alg       string
		clientID  string
		secret    string
		redirect  string
		authStyle oauth2.AuthStyle
	}{
		{"RS256 confidential basic", RS256, appID, appSecret, appRedirect, oauth2.AuthStyleInHeader},
		{"RS256 confidential post", RS256, appID, appSecret, appRedirect, oauth2.AuthStyleInParams},
		{"RS256 autodetect", RS256, appID, appSecret, appRedirect, oauth2.AuthStyleAutoDetect},
		{"ES256 public client", ES256, spaID, "", spaRedirect, oauth2.AuthStyleInParams},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startIdP(t, func(o *Options) {
				o.SigningAlg = tc.alg
				if tc.alg == ES256 {
					o.Key = ecKey
				}
			})
			if err := srv.Provider.SetAutoLogin("alice"); err != nil {
				t.Fatal(err)
			}
			r := newRP(t, srv, tc.clientID, tc.secret, tc.redirect)
			r.config.Endpoint.AuthStyle = tc.authStyle
			f := newFlow()
			before := time.Now().Add(-time.Second)
			tok := r.login(t, srv, f)

			if tok.TokenType != "Bearer" || tok.AccessToken == "" || tok.RefreshToken == "" {
				t.Fatalf("token = %+v", tok)
			}
			if got := tok.Extra("scope"); got != "openid profile email groups" {
				t.Errorf("scope = %v", got)
			}
			if ttl := time.Until(tok.Expiry); ttl < 59*time.Minute || ttl > time.Hour {
				t.Errorf("expires in %v, want about 1h", ttl)
			}
			idt, err := r.verifier.Verify(context.Background(), idToken(t, tok))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if idt.Nonce != f.nonce {
				t.Errorf("nonce = %q, want %q", idt.Nonce, f.nonce)
			}
			if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
				t.Errorf("at_hash: %v", err)
			}
			var c struct {
				Sub               string   `json:"sub"`
				Aud               string   `json:"aud"`
				Azp               string   `json:"azp"`
				AuthTime          int64    `json:"auth_time"`
				Email             string   `json:"email"`
				EmailVerified     bool     `json:"email_verified"`
				Name              string   `json:"name"`
				PreferredUsername string   `json:"preferred_username"`
				Groups            []string `json:"groups"`
			}
			if err := idt.Claims(&c); err != nil {
				t.Fatal(err)
			}
			alice, _ := srv.Provider.User("alice")
			if c.Sub != alice.Subject || c.Sub != SubjectFor("alice") || c.Sub == "alice" {
				t.Errorf("sub = %q, want %q", c.Sub, alice.Subject)
			}
			if c.Aud != tc.clientID || c.Azp != tc.clientID {
				t.Errorf("aud, azp = %q, %q, want %q", c.Aud, c.Azp, tc.clientID)
			}
			if c.AuthTime < before.Unix() || c.AuthTime > time.Now().Unix() {
				t.Errorf("auth_time = %d", c.AuthTime)
			}
			if c.Email != "alice@example.com" || !c.EmailVerified || c.Name != "Alice" || c.PreferredUsername != "alice" || !slices.Equal(c.Groups, []string{"admins", "staff"}) {
				t.Errorf("claims = %+v", c)
			}

			ui, err := r.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatalf("UserInfo: %v", err)
			}
			if ui.Subject != c.Sub || ui.Email != c.Email || !ui.EmailVerified {
				t.Errorf("userinfo = %+v", ui)
			}
			if srv.Provider.TokenRequests() == 0 || srv.Provider.AuthorizeRequests() != 1 {
				t.Errorf("counters: token %d, authorize %d", srv.Provider.TokenRequests(), srv.Provider.AuthorizeRequests())
			}
		})
	}
}

// TestSignInPage clicks through the sign-in page as a browser would.
func TestSignInPage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		form          url.Values
		wantError     string
		wantUser      string
		wantEmail     string
		wantVerified  bool
		wantGroupsLen int
	}{
		{name: "pick bob", form: url.Values{"user": {"bob"}}, wantUser: "bob", wantEmail: "bob@example.com", wantVerified: true, wantGroupsLen: 1},
		{name: "pick unverified eve", form: url.Values{"user": {"eve"}}, wantUser: "eve", wantEmail: "eve@example.com", wantVerified: false},
		{name: "type a new name", form: url.Values{"username": {" carol "}}, wantUser: "carol", wantEmail: "carol@example.com", wantVerified: true},
		{name: "type an email", form: url.Values{"username": {"dave.jones@corp.test"}}, wantUser: "dave.jones@corp.test", wantEmail: "dave.jones@corp.test", wantVerified: true},
		{name: "type a registered name in capitals", form: url.Values{"username": {"ALICE"}}, wantUser: "alice", wantEmail: "alice@example.com", wantVerified: true, wantGroupsLen: 2},
		{name: "deny", form: url.Values{"action": {"deny"}}, wantError: "access_denied"},
	}
	srv := startIdP(t, nil)
	r := appRP(t, srv)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFlow()
			page := get(t, r.authURL(f))
			html := body(t, page)
			if page.StatusCode != http.StatusOK || !strings.Contains(html, "Sign in to Test App") {
				t.Fatalf("sign-in page: %d\n%s", page.StatusCode, html)
			}
			form := tc.form
			form.Set("login", loginID(t, html))
			q := callback(t, postForm(t, srv.URL+"/authorize", form, nil), appRedirect)
			if q.Get("state") != f.state || q.Get("iss") != srv.URL {
				t.Errorf("state, iss = %q, %q", q.Get("state"), q.Get("iss"))
			}
			if tc.wantError != "" {
				if q.Get("error") != tc.wantError || q.Has("code") {
					t.Fatalf("callback = %v, want error %s", q, tc.wantError)
				}
				return
			}
			tok := r.exchange(t, q.Get("code"), f)
			idt, err := r.verifier.Verify(context.Background(), idToken(t, tok))
			if err != nil {
				t.Fatal(err)
			}
			var c struct {
				PreferredUsername string   `json:"preferred_username"`
				Email             string   `json:"email"`
				EmailVerified     *bool    `json:"email_verified"`
				Groups            []string `json:"groups"`
			}
			if err := idt.Claims(&c); err != nil {
				t.Fatal(err)
			}
			if idt.Subject != SubjectFor(tc.wantUser) || c.PreferredUsername != tc.wantUser || c.Email != tc.wantEmail ||
				c.EmailVerified == nil || *c.EmailVerified != tc.wantVerified || len(c.Groups) != tc.wantGroupsLen {
				t.Errorf("sub %q, claims %+v (verified %v)", idt.Subject, c, c.EmailVerified != nil && *c.EmailVerified)
			}
		})
	}
}

func TestSignInPageRejectsBadUsernameAndKeepsRequest(t *testing.T) {
	t.Parallel()
	srv := startIdP(t, nil)
	r := appRP(t, srv)
	f := newFlow()
	id := loginID(t, body(t, get(t, r.authURL(f))))

	resp := postForm(t, srv.URL+"/authorize", url.Values{"login": {id}, "username": {"<script>"}}, nil)
	html := body(t, resp)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(html, "Usernames may contain only") || strings.Contains(html, "<script>") {
		t.Fatalf("bad username: %d\n%s", resp.StatusCode, html)
	}
	q := callback(t, postForm(t, srv.URL+"/authorize", url.Values{"login": {id}, "user": {"alice"}}, nil), appRedirect)
	r.exchange(t, q.Get("code"), f)

	// The request was used up: submitting again (the back button) fails.
	resp = postForm(t, srv.URL+"/authorize", url.Values{"login": {id}, "user": {"alice"}}, nil)
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || !strings.Contains(body(t, resp), "expired") {
		t.Fatalf("reused sign-in request: %d", resp.StatusCode)
	}
}

func TestSignInPageExpires(t *testing.T) {
	t.Parallel()
	clock := newClock()
	srv := startIdP(t, func(o *Options) { o.Now = clock.Now })
	r := appRP(t, srv)
	id := loginID(t, body(t, get(t, r.authURL(newFlow()))))
	clock.Advance(SignInTTL + time.Second)
	resp := postForm(t, srv.URL+"/authorize", url.Values{"login": {id}, "user": {"alice"}}, nil)
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Fatalf("expired sign-in request: %d", resp.StatusCode)
	}
}

func TestLoginHintPrefillsUsername(t *testing.T) {
	t.Parallel()
	srv := startIdP(t, nil)
	r := appRP(t, srv)
	html := body(t, get(t, r.authURL(newFlow(), oauth2.SetAuthURLParam("login_hint", "zoe"))))
	if !strings.Contains(html, `value="zoe"`) {
		t.Errorf("login_hint not prefilled:\n%s", html)
	}
}
