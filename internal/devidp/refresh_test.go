package devidp

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// refresh redeems a refresh token as the confidential client.
func refresh(t *testing.T, srv *Server, token string, extra url.Values) *http.Response {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}}
	for k, v := range extra {
		form[k] = v
	}
	return tokenPost(t, srv, form, nil)
}

func TestRefreshRotates(t *testing.T) {
	t.Parallel()
	srv, r := aliceApp(t)
	f := newFlow()
	tok := r.login(t, srv, f)
	first, err := r.verifier.Verify(context.Background(), idToken(t, tok))
	if err != nil {
		t.Fatal(err)
	}

	resp := refresh(t, srv, tok.RefreshToken, nil)
	m := decode(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("refresh: %d %v", resp.StatusCode, m)
	}
	newRefresh, _ := m["refresh_token"].(string)
	if newRefresh == "" || newRefresh == tok.RefreshToken || m["access_token"] == tok.AccessToken {
		t.Fatalf("tokens not rotated: %v", m)
	}
	idt, err := r.verifier.Verify(context.Background(), m["id_token"].(string))
	if err != nil {
		t.Fatalf("refreshed ID token: %v", err)
	}
	var c, c0 struct {
		AuthTime int64 `json:"auth_time"`
	}
	_ = idt.Claims(&c)
	_ = first.Claims(&c0)
	if idt.Subject != first.Subject || idt.Nonce != "" || c.AuthTime != c0.AuthTime {
		t.Errorf("refreshed ID token: sub %q nonce %q auth_time %d; want sub %q, no nonce, auth_time %d", idt.Subject, idt.Nonce, c.AuthTime, first.Subject, c0.AuthTime)
	}

	// The old refresh token is spent; presenting it again revokes the grant,
	// including the token it was rotated into.
	wantOAuthError(t, refresh(t, srv, tok.RefreshToken, nil), 400, "invalid_grant")
	wantOAuthError(t, refresh(t, srv, newRefresh, nil), 400, "invalid_grant")
}

func TestRefreshThroughOAuth2TokenSource(t *testing.T) {
	t.Parallel()
	srv := startIdP(t, nil)
	_ = srv.Provider.SetAutoLogin("bob")
	r := appRP(t, srv)
	tok := r.login(t, srv, newFlow())
	tok.Expiry = time.Now().Add(-time.Minute) // force a refresh
	next, err := r.config.TokenSource(context.Background(), tok).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if next.AccessToken == tok.AccessToken || next.RefreshToken == tok.RefreshToken {
		t.Fatal("not rotated")
	}
	if _, err := r.verifier.Verify(context.Background(), idToken(t, next)); err != nil {
		t.Fatal(err)
	}
	_, err = r.config.TokenSource(context.Background(), tok).Token()
	if re, ok := err.(*oauth2.RetrieveError); !ok || re.ErrorCode != "invalid_grant" {
		t.Fatalf("reused refresh token: %v", err)
	}
}

func TestRefreshRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		extra     url.Values
		edit      func(*http.Request)
		advance   time.Duration
		wantError string
		wantCode  int
	}{
		{name: "narrower scope", extra: url.Values{"scope": {"openid email"}}},
		{name: "wider scope", extra: url.Values{"scope": {"openid groups"}}, wantError: "invalid_scope", wantCode: 400},
		{name: "another client", edit: func(r *http.Request) { r.Header.Del("Authorization") }, extra: url.Values{"client_id": {spaID}}, wantError: "invalid_grant", wantCode: 400},
		{name: "unknown token", extra: url.Values{"refresh_token": {"dr_nope"}}, wantError: "invalid_grant", wantCode: 400},
		{name: "missing token", extra: url.Values{"refresh_token": {""}}, wantError: "invalid_request", wantCode: 400},
		{name: "expired", advance: DefaultRefreshTTL + time.Second, wantError: "invalid_grant", wantCode: 400},
		{name: "bad client secret", edit: func(r *http.Request) { r.SetBasicAuth(appID, "nope") }, wantError: "invalid_client", wantCode: 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := newClock()
			srv := startIdP(t, func(o *Options) { o.Now = clock.Now })
			_ = srv.Provider.SetAutoLogin("alice")
			r := appRP(t, srv)
			f := newFlow()
			// Only openid and email, so that "groups" widens it.
			tok := r.exchange(t, r.code(t, srv, f, oauth2.SetAuthURLParam("scope", "openid email")), f)
			clock.Advance(tc.advance)
			form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}
			for k, v := range tc.extra {
				form[k] = v
			}
			resp := tokenPost(t, srv, form, tc.edit)
			if tc.wantError == "" {
				m := decode(t, resp)
				if resp.StatusCode != 200 || m["scope"] != tc.extra.Get("scope") {
					t.Fatalf("%d %v", resp.StatusCode, m)
				}
				return
			}
			wantOAuthError(t, resp, tc.wantCode, tc.wantError)
		})
	}
}

func TestRefreshPicksUpUserChanges(t *testing.T) {
	t.Parallel()
	srv, r := aliceApp(t)
	tok := r.login(t, srv, newFlow())
	if err := srv.Provider.AddUser(User{Username: "alice", Email: "alice@new.example", EmailVerified: true, Name: "Alice"}); err != nil {
		t.Fatal(err)
	}
	m := decode(t, refresh(t, srv, tok.RefreshToken, nil))
	idt, err := r.verifier.Verify(context.Background(), m["id_token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Email string `json:"email"`
	}
	_ = idt.Claims(&c)
	if c.Email != "alice@new.example" {
		t.Errorf("email = %q after AddUser", c.Email)
	}
}

// With RefreshOnlyOffline the provider behaves as Ory Hydra: a refresh
// token only for a grant that includes offline_access.
func TestRefreshOnlyOffline(t *testing.T) {
	t.Parallel()
	srv := startIdP(t, func(o *Options) { o.RefreshOnlyOffline = true })
	_ = srv.Provider.SetAutoLogin("alice")
	r := appRP(t, srv)
	if tok := r.login(t, srv, newFlow()); tok.RefreshToken != "" || tok.AccessToken == "" {
		t.Fatalf("without offline_access: access %t, refresh %q", tok.AccessToken != "", tok.RefreshToken)
	}
	r.config.Scopes = append(r.config.Scopes, "offline_access")
	tok := r.login(t, srv, newFlow())
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token with offline_access")
	}
	if resp := refresh(t, srv, tok.RefreshToken, nil); resp.StatusCode != 200 {
		t.Fatalf("refresh: %d %v", resp.StatusCode, decode(t, resp))
	}
}
