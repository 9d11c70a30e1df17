package devidp

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestUserinfo(t *testing.T) {
	t.Parallel()
	clock := newClock()
	srv := startIdP(t, func(o *Options) { o.Now = clock.Now })
	_ = srv.Provider.SetAutoLogin("alice")
	r := appRP(t, srv)
	tok := r.login(t, srv, newFlow())
	f := newFlow()
	openidOnly := r.exchange(t, r.code(t, srv, f, oauth2.SetAuthURLParam("scope", "openid")), f)

	bearer := func(token string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
	}
	do := func(method string, form url.Values, edit func(*http.Request)) *http.Response {
		var req *http.Request
		if method == http.MethodGet {
			req, _ = http.NewRequest(method, srv.URL+"/userinfo", nil)
		} else {
			req, _ = http.NewRequest(method, srv.URL+"/userinfo", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if edit != nil {
			edit(req)
		}
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}

	tests := []struct {
		name       string
		method     string
		form       url.Values
		edit       func(*http.Request)
		wantStatus int
		wantAuth   string // substring of WWW-Authenticate
		wantClaims map[string]any
	}{
		{name: "bearer header", method: "GET", edit: bearer(tok.AccessToken), wantStatus: 200,
			wantClaims: map[string]any{"sub": SubjectFor("alice"), "email": "alice@example.com", "email_verified": true, "preferred_username": "alice"}},
		{name: "lower-case scheme", method: "GET", edit: func(r *http.Request) { r.Header.Set("Authorization", "bearer "+tok.AccessToken) }, wantStatus: 200},
		{name: "form body", method: "POST", form: url.Values{"access_token": {tok.AccessToken}}, wantStatus: 200},
		{name: "openid scope only", method: "GET", edit: bearer(openidOnly.AccessToken), wantStatus: 200,
			wantClaims: map[string]any{"sub": SubjectFor("alice"), "email": nil, "name": nil, "groups": nil}},
		{name: "no token", method: "GET", wantStatus: 401, wantAuth: `Bearer realm="devidp"`},
		{name: "unknown token", method: "GET", edit: bearer("da_nope"), wantStatus: 401, wantAuth: `error="invalid_token"`},
		{name: "ID token instead", method: "GET", edit: bearer(idToken(t, tok)), wantStatus: 401, wantAuth: `error="invalid_token"`},
		{name: "basic scheme", method: "GET", edit: func(r *http.Request) { r.SetBasicAuth("a", "b") }, wantStatus: 400, wantAuth: `error="invalid_request"`},
		{name: "two ways", method: "POST", form: url.Values{"access_token": {tok.AccessToken}}, edit: bearer(tok.AccessToken), wantStatus: 400, wantAuth: `error="invalid_request"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := do(tc.method, tc.form, tc.edit)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.wantStatus, body(t, resp))
			}
			if !strings.Contains(resp.Header.Get("WWW-Authenticate"), tc.wantAuth) {
				t.Errorf("WWW-Authenticate = %q, want %q", resp.Header.Get("WWW-Authenticate"), tc.wantAuth)
			}
			if tc.wantClaims != nil {
				got := decode(t, resp)
				for k, want := range tc.wantClaims {
					if got[k] != want {
						t.Errorf("%s = %#v, want %#v", k, got[k], want)
					}
				}
			}
		})
	}

	clock.Advance(DefaultTokenTTL + time.Second)
	resp := do(http.MethodGet, nil, bearer(tok.AccessToken))
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "expired") {
		t.Errorf("expired token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}
