package devidp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
)

func TestDiscovery(t *testing.T) {
	t.Parallel()
	srv := startIdP(t, nil)
	resp := get(t, srv.URL+"/.well-known/openid-configuration")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	m := decode(t, resp)
	wantStrings := map[string]any{
		"issuer":                 srv.URL,
		"authorization_endpoint": srv.URL + "/authorize",
		"token_endpoint":         srv.URL + "/token",
		"userinfo_endpoint":      srv.URL + "/userinfo",
		"jwks_uri":               srv.URL + "/jwks",
		"end_session_endpoint":   srv.URL + "/logout",
		"revocation_endpoint":    srv.URL + "/revoke",
	}
	testsupport.WantEach(t, "discovery", wantStrings, func(k string) any { return m[k] })
	wantLists := map[string][]string{
		"response_types_supported":              {"code"},
		"subject_types_supported":               {"public"},
		"id_token_signing_alg_values_supported": {"RS256"},
		"token_endpoint_auth_methods_supported": {"client_secret_basic", "client_secret_post", "none"},
		"code_challenge_methods_supported":      {"S256"},
		"grant_types_supported":                 {"authorization_code", "refresh_token"},
		"scopes_supported":                      supportedScopes,
		"claims_supported":                      supportedClaims,
	}
	for k, want := range wantLists {
		var got []string
		list, _ := m[k].([]any)
		for _, v := range list {
			s, _ := v.(string)
			got = append(got, s)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", k, got, want)
		}
	}
	if m["authorization_response_iss_parameter_supported"] != true {
		t.Error("authorization_response_iss_parameter_supported not true")
	}
}

// TestIssuerWithPath serves the provider under a path prefix.
func TestIssuerWithPath(t *testing.T) {
	t.Parallel()
	var p *Provider
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.ServeHTTP(w, r) }))
	t.Cleanup(ts.Close)
	var err error
	p, err = New(Options{Issuer: ts.URL + "/idp", Clients: testClients(), Key: testKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	_ = p.SetAutoLogin("alice")
	srv := &Server{URL: p.Issuer(), Provider: p}
	r := newRP(t, srv, appID, appSecret, appRedirect)
	if got := r.config.Endpoint.TokenURL; got != ts.URL+"/idp/token" {
		t.Errorf("token URL = %s", got)
	}
	if _, err := r.verifier.Verify(context.Background(), idToken(t, r.login(t, srv, newFlow()))); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/token", "/.well-known/openid-configuration", "/idp/nope", "/idpx/token"} {
		if resp := get(t, ts.URL+path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, resp.StatusCode)
		}
	}
	// The sign-in form posts under the prefix.
	_ = p.SetAutoLogin("")
	html := body(t, get(t, r.authURL(newFlow())))
	if !strings.Contains(html, `action="/idp/authorize"`) {
		t.Errorf("form action not under the prefix:\n%s", html)
	}
}

func TestDiscoveryES256(t *testing.T) {
	t.Parallel()
	srv := startIdP(t, func(o *Options) { o.SigningAlg = ES256; o.Key = nil })
	provider, err := oidc.NewProvider(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Algs []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := provider.Claims(&m); err != nil || !slices.Equal(m.Algs, []string{"ES256"}) {
		t.Errorf("algs = %v (%v)", m.Algs, err)
	}
}
