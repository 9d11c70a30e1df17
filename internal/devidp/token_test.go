package devidp

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TestTokenRejects checks the token endpoint's refusals. Each case gets a
// fresh code from the auto-login user and changes the exchange request.
func TestTokenRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		form       func(f url.Values) // changes the form
		req        func(r *http.Request)
		before     func(t *testing.T, srv *Server, code string, f flow) // runs before the exchange
		wantStatus int
		wantError  string
	}{
		{name: "wrong verifier", form: func(f url.Values) { f.Set("code_verifier", oauth2.GenerateVerifier()) },
			wantStatus: 400, wantError: "invalid_grant"},
		{name: "missing verifier", form: func(f url.Values) { f.Del("code_verifier") },
			wantStatus: 400, wantError: "invalid_request"},
		{name: "malformed verifier", form: func(f url.Values) { f.Set("code_verifier", "too-short") },
			wantStatus: 400, wantError: "invalid_request"},
		{name: "wrong redirect_uri", form: func(f url.Values) { f.Set("redirect_uri", "http://127.0.0.1:1/other") },
			wantStatus: 400, wantError: "invalid_grant"},
		{name: "missing redirect_uri", form: func(f url.Values) { f.Del("redirect_uri") },
			wantStatus: 400, wantError: "invalid_request"},
		{name: "unknown code", form: func(f url.Values) { f.Set("code", "dc_nope") },
			wantStatus: 400, wantError: "invalid_grant"},
		{name: "bad client secret", req: func(r *http.Request) { r.SetBasicAuth(appID, "wrong") },
			wantStatus: 401, wantError: "invalid_client"},
		{name: "unknown client", req: func(r *http.Request) { r.SetBasicAuth("nobody", "x") },
			wantStatus: 401, wantError: "invalid_client"},
		{name: "no client authentication", req: func(r *http.Request) { r.Header.Del("Authorization") },
			wantStatus: 401, wantError: "invalid_client"},
		{name: "confidential client without secret", req: func(r *http.Request) { r.Header.Del("Authorization") },
			form: func(f url.Values) { f.Set("client_id", appID) }, wantStatus: 401, wantError: "invalid_client"},
		{name: "two authentication methods", form: func(f url.Values) { f.Set("client_secret", appSecret) },
			wantStatus: 400, wantError: "invalid_request"},
		{name: "code of another client", req: func(r *http.Request) { r.Header.Del("Authorization") },
			form: func(f url.Values) { f.Set("client_id", spaID); f.Set("redirect_uri", spaRedirect) }, wantStatus: 400, wantError: "invalid_grant"},
		{name: "public client with a secret", req: func(r *http.Request) { r.SetBasicAuth(spaID, "made-up") },
			wantStatus: 401, wantError: "invalid_client"},
		{name: "no grant_type", form: func(f url.Values) { f.Del("grant_type") },
			wantStatus: 400, wantError: "invalid_request"},
		{name: "unsupported grant_type", form: func(f url.Values) { f.Set("grant_type", "password") },
			wantStatus: 400, wantError: "unsupported_grant_type"},
		{name: "repeated parameter", form: func(f url.Values) { f.Add("code", "dc_other") },
			wantStatus: 400, wantError: "invalid_request"},
		{name: "JSON body", req: func(r *http.Request) { r.Header.Set("Content-Type", "application/json") },
			wantStatus: 400, wantError: "invalid_request"},
		{name: "reused code", before: func(t *testing.T, srv *Server, code string, f flow) {
			appRP(t, srv).exchange(t, code, f)
		}, wantStatus: 400, wantError: "invalid_grant"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, r := aliceApp(t)
			f := newFlow()
			code := r.code(t, srv, f)
			if tc.before != nil {
				tc.before(t, srv, code, f)
			}
			form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {appRedirect}, "code_verifier": {f.verifier}}
			if tc.form != nil {
				tc.form(form)
			}
			resp := tokenPost(t, srv, form, tc.req)
			if tc.wantStatus == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("WWW-Authenticate = %q", resp.Header.Get("WWW-Authenticate"))
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q", cc)
			}
			wantOAuthError(t, resp, tc.wantStatus, tc.wantError)
		})
	}
}

// TestTokenErrorsThroughOAuth2 checks that golang.org/x/oauth2 sees the
// refusals as structured errors.
func TestTokenErrorsThroughOAuth2(t *testing.T) {
	t.Parallel()
	srv, r := aliceApp(t)
	r.config.Endpoint.AuthStyle = oauth2.AuthStyleInHeader

	f := newFlow()
	code := r.code(t, srv, f)
	_, err := r.config.Exchange(context.Background(), code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || re.Response.StatusCode != 400 {
		t.Fatalf("wrong verifier: %v", err)
	}
	// A failed attempt uses the code up too.
	if _, err := r.config.Exchange(context.Background(), code, oauth2.VerifierOption(f.verifier)); !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("code after a failed attempt: %v", err)
	}

	bad := *r
	bad.config.ClientSecret = "wrong"
	f = newFlow()
	_, err = bad.config.Exchange(context.Background(), r.code(t, srv, f), oauth2.VerifierOption(f.verifier))
	if !errors.As(err, &re) || re.ErrorCode != "invalid_client" || re.Response.StatusCode != 401 {
		t.Fatalf("bad secret: %v", err)
	}
}

// TestCodeReuseRevokesTokens checks RFC 6749 section 4.1.2: a code
// redeemed twice revokes the tokens issued for it.
func TestCodeReuseRevokesTokens(t *testing.T) {
	t.Parallel()
	srv, r := aliceApp(t)
	f := newFlow()
	code := r.code(t, srv, f)
	tok := r.exchange(t, code, f)
	if _, err := r.config.Exchange(context.Background(), code, oauth2.VerifierOption(f.verifier)); err == nil {
		t.Fatal("second exchange succeeded")
	}
	if _, err := r.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("access token still valid after code reuse")
	}
	resp := tokenPost(t, srv, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, nil)
	wantOAuthError(t, resp, 400, "invalid_grant")
}

func TestCodeExpires(t *testing.T) {
	t.Parallel()
	clock := newClock()
	srv := startIdP(t, func(o *Options) { o.Now = clock.Now; o.CodeTTL = 30 * time.Second })
	_ = srv.Provider.SetAutoLogin("alice")
	r := appRP(t, srv)
	f := newFlow()
	code := r.code(t, srv, f)
	clock.Advance(31 * time.Second)
	resp := tokenPost(t, srv, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {appRedirect}, "code_verifier": {f.verifier}}, nil)
	wantOAuthError(t, resp, 400, "invalid_grant")
}

func TestTokenClientSecretPost(t *testing.T) {
	t.Parallel()
	srv, r := aliceApp(t)
	f := newFlow()
	form := url.Values{
		"grant_type": {"authorization_code"}, "code": {r.code(t, srv, f)}, "redirect_uri": {appRedirect},
		"code_verifier": {f.verifier}, "client_id": {appID}, "client_secret": {appSecret},
	}
	resp := postForm(t, srv.URL+"/token", form, nil)
	m := decode(t, resp)
	if resp.StatusCode != 200 || m["token_type"] != "Bearer" || m["id_token"] == nil || m["expires_in"] != float64(3600) {
		t.Fatalf("%d %v", resp.StatusCode, m)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q", resp.Header.Get("Cache-Control"))
	}
}

func TestTokenMethod(t *testing.T) {
	t.Parallel()
	srv := startIdP(t, nil)
	resp := get(t, srv.URL+"/token")
	if resp.Header.Get("Allow") != http.MethodPost {
		t.Errorf("Allow = %q", resp.Header.Get("Allow"))
	}
	wantOAuthError(t, resp, http.StatusMethodNotAllowed, "invalid_request")
}
