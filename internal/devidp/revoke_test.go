package devidp

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestRevoke(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		token         func(tok *oauth2.Token) string
		edit          func(*http.Request)
		clientID      string // sent in the body when set
		wantStatus    int
		accessWorks   bool
		refreshWorks  bool
		wantErrorCode string
	}{
		{name: "refresh token revokes the grant", token: func(tok *oauth2.Token) string { return tok.RefreshToken }, wantStatus: 200},
		{name: "access token only", token: func(tok *oauth2.Token) string { return tok.AccessToken }, wantStatus: 200, refreshWorks: true},
		{name: "unknown token", token: func(*oauth2.Token) string { return "whatever" }, wantStatus: 200, accessWorks: true, refreshWorks: true},
		{name: "another client's token is ignored", token: func(tok *oauth2.Token) string { return tok.RefreshToken },
			edit: func(r *http.Request) { r.Header.Del("Authorization") }, clientID: spaID, wantStatus: 200, accessWorks: true, refreshWorks: true},
		{name: "bad client secret", token: func(tok *oauth2.Token) string { return tok.RefreshToken },
			edit: func(r *http.Request) { r.SetBasicAuth(appID, "nope") }, wantStatus: 401, accessWorks: true, refreshWorks: true, wantErrorCode: "invalid_client"},
		{name: "no token", token: func(*oauth2.Token) string { return "" }, wantStatus: 400, accessWorks: true, refreshWorks: true, wantErrorCode: "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, r := aliceApp(t)
			tok := r.login(t, srv, newFlow())
			form := url.Values{"token": {tc.token(tok)}, "token_type_hint": {"refresh_token"}}
			if tc.clientID != "" {
				form.Set("client_id", tc.clientID)
			}
			resp := postForm(t, srv.URL+"/revoke", form, func(req *http.Request) {
				req.SetBasicAuth(url.QueryEscape(appID), url.QueryEscape(appSecret))
				if tc.edit != nil {
					tc.edit(req)
				}
			})
			if tc.wantErrorCode != "" {
				wantOAuthError(t, resp, tc.wantStatus, tc.wantErrorCode)
			} else if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			_, err := r.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok))
			if (err == nil) != tc.accessWorks {
				t.Errorf("userinfo after revoke: %v, want access token working %v", err, tc.accessWorks)
			}
			rresp := refresh(t, srv, tok.RefreshToken, nil)
			if (rresp.StatusCode == 200) != tc.refreshWorks {
				t.Errorf("refresh after revoke: %d, want working %v", rresp.StatusCode, tc.refreshWorks)
			}
		})
	}
}

// Userinfo and a revocation of its grant may run at once (a relying
// party signing someone out while another request of theirs asks who
// they are): the race detector watches this test.
func TestRevokeWhileUserinfo(t *testing.T) {
	srv, r := aliceApp(t)
	for range 5 {
		tok := r.login(t, srv, newFlow())
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range 5 {
				_, _ = r.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok))
			}
		}()
		// On a connection of its own, so another server goroutine serves it.
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/revoke", strings.NewReader(url.Values{"token": {tok.RefreshToken}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(appID), url.QueryEscape(appSecret))
		resp, err := (&http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		<-done
		if _, err := r.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok)); err == nil {
			t.Fatal("the access token still works after its grant was revoked")
		}
	}
}
