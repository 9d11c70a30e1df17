package devidp

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// validAuthorize returns the query of a valid authorization request by the
// confidential client.
func validAuthorize() url.Values {
	return url.Values{
		"client_id":             {appID},
		"redirect_uri":          {appRedirect},
		"response_type":         {"code"},
		"scope":                 {"openid email"},
		"state":                 {"st4te"},
		"nonce":                 {"n0nce"},
		"code_challenge":        {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGEjsNFlks"},
		"code_challenge_method": {"S256"},
	}
}

// TestAuthorizeUntrustedRequestsShowErrorPage checks that requests whose
// client or redirect URI cannot be trusted never redirect.
func TestAuthorizeUntrustedRequestsShowErrorPage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		edit     func(url.Values)
		wantText string
	}{
		{"no client_id", func(q url.Values) { q.Del("client_id") }, "no client_id"},
		{"unknown client", func(q url.Values) { q.Set("client_id", "nope") }, "No client with ID"},
		{"no redirect_uri", func(q url.Values) { q.Del("redirect_uri") }, "no redirect_uri"},
		{"unregistered redirect_uri", func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") }, "is not registered"},
		{"trailing slash", func(q url.Values) { q.Set("redirect_uri", appRedirect+"/") }, "is not registered"},
		{"extra query", func(q url.Values) { q.Set("redirect_uri", appRedirect+"?x=1") }, "is not registered"},
		{"other port", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:2/callback") }, "is not registered"},
		{"other client's URI", func(q url.Values) { q.Set("redirect_uri", spaRedirect) }, "is not registered"},
		{"repeated redirect_uri", func(q url.Values) { q.Add("redirect_uri", appRedirect) }, "more than once"},
		{"even with broken PKCE", func(q url.Values) {
			q.Set("redirect_uri", "https://evil.example/cb")
			q.Set("code_challenge_method", "plain")
		}, "is not registered"},
	}
	srv := startIdP(t, func(o *Options) {})
	_ = srv.Provider.SetAutoLogin("alice") // must not matter
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := validAuthorize()
			tc.edit(q)
			resp := get(t, srv.URL+"/authorize?"+q.Encode())
			html := body(t, resp)
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Fatalf("status %d, Location %q; want 400 and no redirect", resp.StatusCode, resp.Header.Get("Location"))
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type = %q", ct)
			}
			if !strings.Contains(html, tc.wantText) && !strings.Contains(html, strings.ReplaceAll(tc.wantText, `"`, "&#34;")) {
				t.Errorf("page lacks %q:\n%s", tc.wantText, html)
			}
		})
	}
}

// TestAuthorizeErrorsRedirect checks that other invalid requests go back to
// the client with an OAuth error, the state and the issuer.
func TestAuthorizeErrorsRedirect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		edit      func(url.Values)
		autoLogin string
		wantError string
	}{
		{"plain PKCE refused", func(q url.Values) {
			q.Set("code_challenge_method", "plain")
			q.Set("code_challenge", strings.Repeat("a", 43))
		}, "", "invalid_request"},
		{"PKCE method missing (defaults to plain)", func(q url.Values) { q.Del("code_challenge_method") }, "", "invalid_request"},
		{"no code_challenge", func(q url.Values) { q.Del("code_challenge") }, "", "invalid_request"},
		{"malformed code_challenge", func(q url.Values) { q.Set("code_challenge", "short") }, "", "invalid_request"},
		{"no state", func(q url.Values) { q.Del("state") }, "", "invalid_request"},
		{"no response_type", func(q url.Values) { q.Del("response_type") }, "", "invalid_request"},
		{"implicit flow", func(q url.Values) { q.Set("response_type", "id_token token") }, "", "unsupported_response_type"},
		{"response_mode fragment", func(q url.Values) { q.Set("response_mode", "fragment") }, "", "invalid_request"},
		{"no openid scope", func(q url.Values) { q.Set("scope", "email profile") }, "", "invalid_scope"},
		{"unknown scope", func(q url.Values) { q.Set("scope", "openid admin") }, "", "invalid_scope"},
		{"repeated parameter", func(q url.Values) { q.Add("state", "again") }, "", "invalid_request"},
		{"request object", func(q url.Values) { q.Set("request", "eyJ...") }, "", "request_not_supported"},
		{"prompt none without session", func(q url.Values) { q.Set("prompt", "none") }, "", "login_required"},
		{"prompt none combined", func(q url.Values) { q.Set("prompt", "none login") }, "alice", "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startIdP(t, nil)
			if err := srv.Provider.SetAutoLogin(tc.autoLogin); err != nil {
				t.Fatal(err)
			}
			q := validAuthorize()
			tc.edit(q)
			got := callback(t, get(t, srv.URL+"/authorize?"+q.Encode()), appRedirect)
			if got.Get("error") != tc.wantError || got.Get("error_description") == "" || got.Has("code") {
				t.Errorf("callback = %v, want error %s", got, tc.wantError)
			}
			if q.Has("state") && len(q["state"]) == 1 && got.Get("state") != "st4te" {
				t.Errorf("state = %q, want st4te", got.Get("state"))
			}
			if got.Get("iss") != srv.URL {
				t.Errorf("iss = %q, want %q", got.Get("iss"), srv.URL)
			}
		})
	}
}

func TestAuthorizeAutoLoginAndPromptNone(t *testing.T) {
	t.Parallel()
	srv := startIdP(t, nil)
	if err := srv.Provider.SetAutoLogin("bob"); err != nil {
		t.Fatal(err)
	}
	q := validAuthorize()
	q.Set("prompt", "none")
	got := callback(t, get(t, srv.URL+"/authorize?"+q.Encode()), appRedirect)
	if got.Get("code") == "" || got.Get("state") != "st4te" {
		t.Fatalf("callback = %v", got)
	}

	// Turning auto-login off shows the page again.
	if err := srv.Provider.SetAutoLogin(""); err != nil {
		t.Fatal(err)
	}
	resp := get(t, srv.URL+"/authorize?"+validAuthorize().Encode())
	if resp.StatusCode != http.StatusOK || !strings.Contains(body(t, resp), "Sign in to") {
		t.Fatalf("status %d, want the sign-in page", resp.StatusCode)
	}
	if err := srv.Provider.SetAutoLogin("no spaces allowed"); err == nil {
		t.Error("SetAutoLogin accepted an invalid username")
	}
}

func TestAuthorizeKeepsRegisteredQuery(t *testing.T) {
	t.Parallel()
	const redirect = "http://127.0.0.1:1/cb?tenant=a"
	srv := startIdP(t, func(o *Options) {
		o.Clients = append(o.Clients, Client{ID: "q", Secret: "s", RedirectURIs: []string{redirect}})
	})
	_ = srv.Provider.SetAutoLogin("alice")
	q := validAuthorize()
	q.Set("client_id", "q")
	q.Set("redirect_uri", redirect)
	got := callback(t, get(t, srv.URL+"/authorize?"+q.Encode()), "http://127.0.0.1:1/cb")
	if got.Get("tenant") != "a" || got.Get("code") == "" {
		t.Errorf("callback = %v", got)
	}
}

func TestAuthorizeMethods(t *testing.T) {
	t.Parallel()
	srv := startIdP(t, nil)
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/authorize", nil)
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") == "" {
		t.Errorf("PUT /authorize: %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	resp = postForm(t, srv.URL+"/authorize", url.Values{"login": {"dl_forged"}, "user": {"alice"}}, nil)
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Errorf("POST with unknown sign-in request: %d", resp.StatusCode)
	}
}
