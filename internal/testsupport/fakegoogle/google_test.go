package fakegoogle

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

const (
	gClientID = "123-abc.apps.googleusercontent.com"
	gSecret   = "GOCSPX-secret/with+symbols"
	gRedirect = "http://127.0.0.1:9/oauth2/callback"
)

var gAlice = GoogleUser{Sub: "110169484474386276334", Email: "alice@corp.example", EmailVerified: true,
	HD: "corp.example", Name: "Alice Liddell", Picture: "https://lh3.googleusercontent.com/a/alice"}

// newTestGoogle starts a fake with one client and alice signed in.
func newTestGoogle(t *testing.T) *Google {
	t.Helper()
	g := NewGoogle()
	t.Cleanup(g.Close)
	g.AddClient(gClientID, gSecret, gRedirect)
	g.SetUser(gAlice)
	return g
}

// gDo sends a request without following redirects and returns the response
// and its body.
func gDo(t *testing.T, method, rawURL string, form url.Values, edit func(*http.Request)) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, rawURL, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if edit != nil {
		edit(req)
	}
	return testsupport.Do(t, req)
}

// basicAuth authenticates a request as the test client.
func basicAuth(r *http.Request) {
	r.SetBasicAuth(url.QueryEscape(gClientID), url.QueryEscape(gSecret))
}

// gAuthorize runs an authorization request with the usual parameters,
// changed by extra (an empty value deletes), and returns the redirect's
// query.
func gAuthorize(t *testing.T, g *Google, extra url.Values) url.Values {
	t.Helper()
	q := url.Values{
		"client_id": {gClientID}, "redirect_uri": {gRedirect}, "response_type": {"code"},
		"scope": {"openid email profile"}, "state": {"st"}, "nonce": {"n-1"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(gVerifier)}, "code_challenge_method": {"S256"},
		"access_type": {"offline"},
	}
	for k, v := range extra {
		if v[0] == "" {
			q.Del(k)
		} else {
			q[k] = v
		}
	}
	resp, body := gDo(t, http.MethodGet, g.URL+googlePathAuthorize+"?"+q.Encode(), nil, nil)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d %s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), gRedirect+"?") {
		t.Fatalf("authorize redirected to %q", resp.Header.Get("Location"))
	}
	return loc.Query()
}

// gVerifier is the PKCE verifier of gAuthorize.
const gVerifier = "verifier-0123456789-0123456789-0123456789-abcdef"

// gToken posts form to the token endpoint with basic auth and decodes the
// JSON answer.
func gToken(t *testing.T, g *Google, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, body := gDo(t, http.MethodPost, g.URL+googlePathToken, form, basicAuth)
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("token answer %d is not JSON: %s", resp.StatusCode, body)
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("token answer Content-Type %q", resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, m
}

// gCodeForm is the authorization_code grant form for code.
func gCodeForm(code string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {gRedirect}, "code_verifier": {gVerifier}}
}

// gClaims verifies raw against the fake's JWKS and returns its header and
// claims.
func gClaims(t *testing.T, g *Google, raw string) (jose.Header, map[string]any) {
	t.Helper()
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("parsing id_token: %v", err)
	}
	_, body := gDo(t, http.MethodGet, g.URL+googlePathJWKS, nil, nil)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(body), &set); err != nil {
		t.Fatal(err)
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q not published once", jws.Signatures[0].Header.KeyID)
	}
	payload, err := jws.Verify(keys[0].Key)
	if err != nil {
		t.Fatalf("id_token signature: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	return jws.Signatures[0].Header, c
}

func TestGoogleDiscoveryAndJWKS(t *testing.T) {
	g := newTestGoogle(t)
	resp, body := gDo(t, http.MethodGet, g.URL+googlePathDiscovery, nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("discovery: %d", resp.StatusCode)
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"issuer":                 g.URL,
		"authorization_endpoint": g.URL + "/o/oauth2/v2/auth",
		"token_endpoint":         g.URL + "/token",
		"userinfo_endpoint":      g.URL + "/v1/userinfo",
		"revocation_endpoint":    g.URL + "/revoke",
		"jwks_uri":               g.URL + "/oauth2/v3/certs",
	}
	testsupport.WantEach(t, "discovery", want, func(k string) any { return d[k] })
	if _, ok := d["end_session_endpoint"]; ok {
		t.Error("Google has no end_session_endpoint")
	}
	if !strings.HasPrefix(g.URL, "http://127.0.0.1:") || g.Alias() != strings.TrimPrefix(g.URL, "http://") {
		t.Errorf("URL %q, Alias %q", g.URL, g.Alias())
	}
	// go-oidc accepts the document (its issuer is the URL it came from).
	if _, err := gooidc.NewProvider(context.Background(), g.URL); err != nil {
		t.Fatalf("go-oidc discovery: %v", err)
	}

	resp, body = gDo(t, http.MethodGet, g.URL+googlePathJWKS, nil, nil)
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "public") || !strings.Contains(cc, "max-age=") {
		t.Errorf("JWKS Cache-Control %q", cc)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(body), &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("JWKS %s: %v", body, err)
	}
	k := set.Keys[0]
	if k.Algorithm != "RS256" || k.Use != "sig" || len(k.KeyID) != 40 || !k.IsPublic() {
		t.Errorf("JWK alg %q use %q kid %q public %v", k.Algorithm, k.Use, k.KeyID, k.IsPublic())
	}
	first := k.KeyID

	g.RotateKeys()
	_, body = gDo(t, http.MethodGet, g.URL+googlePathJWKS, nil, nil)
	set = jose.JSONWebKeySet{}
	_ = json.Unmarshal([]byte(body), &set)
	if len(set.Keys) != 2 || set.Keys[1].KeyID != first || set.Keys[0].KeyID == first {
		t.Fatalf("after RotateKeys the JWKS has %d keys, old first? %v", len(set.Keys), len(set.Keys) > 0 && set.Keys[0].KeyID == first)
	}
	g.DropOldKeys()
	_, body = gDo(t, http.MethodGet, g.URL+googlePathJWKS, nil, nil)
	set = jose.JSONWebKeySet{}
	_ = json.Unmarshal([]byte(body), &set)
	if len(set.Keys) != 1 || set.Keys[0].KeyID == first {
		t.Fatalf("after DropOldKeys the JWKS still has the old key (%d keys)", len(set.Keys))
	}
}

func TestGoogleCodeFlowAndTokenShape(t *testing.T) {
	g := newTestGoogle(t)
	q := gAuthorize(t, g, nil)
	if q.Get("state") != "st" || !strings.HasPrefix(q.Get("code"), "4/0A") || q.Get("hd") != "corp.example" {
		t.Fatalf("callback query %v", q)
	}
	status, tok := gToken(t, g, gCodeForm(q.Get("code")))
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, tok)
	}
	if tok["expires_in"] != float64(3599) || tok["token_type"] != "Bearer" ||
		!strings.HasPrefix(tok["access_token"].(string), "ya29.") || !strings.HasPrefix(tok["refresh_token"].(string), "1//") {
		t.Errorf("token response %v", tok)
	}
	if tok["scope"] != "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile" {
		t.Errorf("scope %q", tok["scope"])
	}
	hdr, c := gClaims(t, g, tok["id_token"].(string))
	if hdr.Algorithm != "RS256" || hdr.KeyID == "" {
		t.Errorf("header alg %q kid %q", hdr.Algorithm, hdr.KeyID)
	}
	sum := sha256.Sum256([]byte(tok["access_token"].(string)))
	want := map[string]any{
		"iss": g.URL, "aud": gClientID, "azp": gClientID, "sub": gAlice.Sub, "email": gAlice.Email,
		"email_verified": true, "hd": "corp.example", "name": "Alice Liddell", "given_name": "Alice",
		"family_name": "Liddell", "picture": gAlice.Picture, "nonce": "n-1",
		"at_hash": base64.RawURLEncoding.EncodeToString(sum[:16]),
	}
	testsupport.WantEach(t, "claim", want, func(k string) any { return c[k] })
	if exp, iat := c["exp"].(float64), c["iat"].(float64); exp-iat != 3600 || time.Since(time.Unix(int64(iat), 0)) > time.Minute {
		t.Errorf("iat %v exp %v", iat, exp)
	}

	// The code is single-use.
	if status, e := gToken(t, g, gCodeForm(q.Get("code"))); status != http.StatusBadRequest || e["error"] != "invalid_grant" {
		t.Errorf("code reuse: %d %v", status, e)
	}
	// A second consent gets no refresh token, unless prompt=consent.
	_, tok2 := gToken(t, g, gCodeForm(gAuthorize(t, g, nil).Get("code")))
	if _, has := tok2["refresh_token"]; has || tok2["id_token"] == nil {
		t.Errorf("second login: %v", tok2)
	}
	_, tok3 := gToken(t, g, gCodeForm(gAuthorize(t, g, url.Values{"prompt": {"consent"}}).Get("code")))
	if tok3["refresh_token"] == nil {
		t.Error("prompt=consent gave no refresh token")
	}
	// Online access never gets one; no nonce sent means none echoed.
	_, tok4 := gToken(t, g, gCodeForm(gAuthorize(t, g, url.Values{"access_type": {""}, "nonce": {""}, "prompt": {"consent"}}).Get("code")))
	if _, has := tok4["refresh_token"]; has {
		t.Error("online access got a refresh token")
	}
	if _, c4 := gClaims(t, g, tok4["id_token"].(string)); c4["nonce"] != nil {
		t.Errorf("nonce %v without a nonce sent", c4["nonce"])
	}
	if n := g.TokenRequests("authorization_code"); n != 5 {
		t.Errorf("TokenRequests(authorization_code) = %d, want 5", n)
	}
	if q := g.LastAuthorize(); q.Get("access_type") != "" || q.Get("prompt") != "consent" {
		t.Errorf("LastAuthorize %v", q)
	}
}

func TestGoogleClaimsFollowUserAndScopes(t *testing.T) {
	g := newTestGoogle(t)
	cases := []struct {
		name  string
		user  GoogleUser
		scope string
		want  map[string]any // nil value: claim absent
	}{
		{"consumer, verified string", GoogleUser{Sub: "1", Email: "a@gmail.com", EmailVerified: "true"}, "openid email",
			map[string]any{"email_verified": "true", "hd": nil, "name": nil}},
		{"unverified false", GoogleUser{Sub: "2", Email: "b@x.example", EmailVerified: false}, "openid email",
			map[string]any{"email_verified": false}},
		{"email_verified omitted", GoogleUser{Sub: "3", Email: "c@x.example"}, "openid email",
			map[string]any{"email_verified": nil, "email": "c@x.example"}},
		{"no email scope", GoogleUser{Sub: "4", Email: "d@x.example", EmailVerified: true, Name: "D"}, "openid profile",
			map[string]any{"email": nil, "email_verified": nil, "name": "D", "family_name": nil}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g.SetUser(c.user)
			_, tok := gToken(t, g, gCodeForm(gAuthorize(t, g, url.Values{"scope": {c.scope}}).Get("code")))
			_, claims := gClaims(t, g, tok["id_token"].(string))
			for k, v := range c.want {
				got, has := claims[k]
				if (v == nil && has) || (v != nil && got != v) {
					t.Errorf("claim %s = %#v (present %v), want %#v", k, got, has, v)
				}
			}
		})
	}
}

func TestGoogleTokenEndpointErrors(t *testing.T) {
	g := newTestGoogle(t)
	g.AddClient("other", "other-secret", gRedirect)
	post := func(form url.Values) func(*http.Request) {
		return func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(form.Encode()))
			r.ContentLength = int64(len(form.Encode()))
		}
	}
	cases := []struct {
		name       string
		edit       func(form url.Values, r *http.Request)
		status     int
		errCode    string
		afterCode  func()
		noBasic    bool
		wantAccess bool
	}{
		{name: "ok with basic", status: 200, wantAccess: true},
		{name: "ok with client_secret_post", noBasic: true, status: 200, wantAccess: true,
			edit: func(f url.Values, r *http.Request) { f.Set("client_id", gClientID); f.Set("client_secret", gSecret) }},
		{name: "wrong secret", noBasic: true, status: 401, errCode: "invalid_client",
			edit: func(f url.Values, r *http.Request) { r.SetBasicAuth(gClientID, "nope") }},
		{name: "unknown client", noBasic: true, status: 401, errCode: "invalid_client",
			edit: func(f url.Values, r *http.Request) { r.SetBasicAuth("ghost", "x") }},
		{name: "no client", noBasic: true, status: 400, errCode: "invalid_request"},
		{name: "two auth methods", status: 400, errCode: "invalid_request",
			edit: func(f url.Values, r *http.Request) { f.Set("client_secret", gSecret) }},
		{name: "another client's code", noBasic: true, status: 400, errCode: "invalid_grant",
			edit: func(f url.Values, r *http.Request) { r.SetBasicAuth("other", "other-secret") }},
		{name: "redirect_uri differs", status: 400, errCode: "redirect_uri_mismatch",
			edit: func(f url.Values, r *http.Request) { f.Set("redirect_uri", gRedirect+"x") }},
		{name: "wrong verifier", status: 400, errCode: "invalid_grant",
			edit: func(f url.Values, r *http.Request) { f.Set("code_verifier", gVerifier+"x") }},
		{name: "missing verifier", status: 400, errCode: "invalid_grant",
			edit: func(f url.Values, r *http.Request) { f.Del("code_verifier") }},
		{name: "unknown code", status: 400, errCode: "invalid_grant",
			edit: func(f url.Values, r *http.Request) { f.Set("code", "4/0Anope") }},
		{name: "expired code", status: 400, errCode: "invalid_grant", afterCode: func() { g.Advance(GoogleCodeLifetime + time.Second) }},
		{name: "unsupported grant", status: 400, errCode: "unsupported_grant_type",
			edit: func(f url.Values, r *http.Request) { f.Set("grant_type", "password") }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			form := gCodeForm(gAuthorize(t, g, nil).Get("code"))
			if c.afterCode != nil {
				c.afterCode()
			}
			resp, body := gDo(t, http.MethodPost, g.URL+googlePathToken, form, func(r *http.Request) {
				if !c.noBasic {
					basicAuth(r)
				}
				if c.edit != nil {
					c.edit(form, r)
				}
				post(form)(r)
			})
			var m map[string]any
			_ = json.Unmarshal([]byte(body), &m)
			if resp.StatusCode != c.status || (c.errCode != "" && m["error"] != c.errCode) {
				t.Fatalf("got %d %s, want %d %s", resp.StatusCode, body, c.status, c.errCode)
			}
			if c.wantAccess && m["access_token"] == nil {
				t.Fatalf("no access token: %s", body)
			}
		})
	}
	if resp, _ := gDo(t, http.MethodGet, g.URL+googlePathToken, nil, nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /token: %d", resp.StatusCode)
	}
	resp, _ := gDo(t, http.MethodPost, g.URL+googlePathToken, nil, func(r *http.Request) {
		r.Body = io.NopCloser(strings.NewReader(`{"grant_type":"authorization_code"}`))
		r.Header.Set("Content-Type", "application/json")
		basicAuth(r)
	})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("JSON body: %d", resp.StatusCode)
	}
}

func TestGoogleAuthorizeErrors(t *testing.T) {
	g := newTestGoogle(t)
	pageCases := []struct {
		name   string
		extra  url.Values
		status int
		code   string
	}{
		{"unknown client", url.Values{"client_id": {"ghost"}}, 401, "invalid_client"},
		{"unregistered redirect", url.Values{"redirect_uri": {gRedirect + "/x"}}, 400, "redirect_uri_mismatch"},
		{"no redirect_uri", url.Values{"redirect_uri": {""}}, 400, "invalid_request"},
	}
	for _, c := range pageCases {
		t.Run(c.name, func(t *testing.T) {
			q := url.Values{"client_id": {gClientID}, "redirect_uri": {gRedirect}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s"}}
			for k, v := range c.extra {
				if v[0] == "" {
					q.Del(k)
				} else {
					q[k] = v
				}
			}
			resp, body := gDo(t, http.MethodGet, g.URL+googlePathAuthorize+"?"+q.Encode(), nil, nil)
			if resp.StatusCode != c.status || resp.Header.Get("Location") != "" || !strings.Contains(body, c.code) {
				t.Fatalf("got %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
	redirectCases := []struct {
		name  string
		extra url.Values
		setup func()
		err   string
	}{
		{"consent denied", nil, func() { g.DenyConsent(true) }, "access_denied"},
		{"unknown scope", url.Values{"scope": {"openid drive"}}, nil, "invalid_scope"},
		{"no scope", url.Values{"scope": {""}}, nil, "invalid_request"},
		{"token response type", url.Values{"response_type": {"token"}}, nil, "unsupported_response_type"},
		{"bad access_type", url.Values{"access_type": {"forever"}}, nil, "invalid_request"},
		{"bad challenge method", url.Values{"code_challenge_method": {"S512"}}, nil, "invalid_request"},
	}
	for _, c := range redirectCases {
		t.Run(c.name, func(t *testing.T) {
			g.DenyConsent(false)
			if c.setup != nil {
				c.setup()
			}
			q := gAuthorize(t, g, c.extra)
			if q.Get("error") != c.err || q.Get("state") != "st" || q.Get("code") != "" {
				t.Fatalf("callback %v, want error %s", q, c.err)
			}
		})
	}
	g.DenyConsent(false)

	// prompt=none works only after a consent.
	fresh := NewGoogle()
	defer fresh.Close()
	fresh.AddClient(gClientID, gSecret, gRedirect)
	fresh.SetUser(gAlice)
	if q := gAuthorize(t, fresh, url.Values{"prompt": {"none"}}); q.Get("error") != "consent_required" {
		t.Errorf("prompt=none before consent: %v", q)
	}
	gAuthorize(t, fresh, nil)
	if q := gAuthorize(t, fresh, url.Values{"prompt": {"none"}}); q.Get("code") == "" {
		t.Errorf("prompt=none after consent: %v", q)
	}
}

func TestGoogleRefreshUserinfoAndRevoke(t *testing.T) {
	g := newTestGoogle(t)
	_, first := gToken(t, g, gCodeForm(gAuthorize(t, g, nil).Get("code")))
	rt, at := first["refresh_token"].(string), first["access_token"].(string)
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}

	status, tok := gToken(t, g, refresh)
	if status != 200 || tok["access_token"] == at || tok["id_token"] == nil || tok["expires_in"] != float64(3599) {
		t.Fatalf("refresh: %d %v", status, tok)
	}
	if _, has := tok["refresh_token"]; has {
		t.Error("refresh rotated the refresh token")
	}
	if _, c := gClaims(t, g, tok["id_token"].(string)); c["nonce"] != nil || c["sub"] != gAlice.Sub {
		t.Errorf("refreshed id_token claims %v", c)
	}
	if g.TokenRequests("refresh_token") != 1 || g.TokenRequests("") != 2 {
		t.Errorf("TokenRequests: refresh %d, all %d", g.TokenRequests("refresh_token"), g.TokenRequests(""))
	}

	userinfo := func(token string) (int, map[string]any) {
		resp, body := gDo(t, http.MethodGet, g.URL+googlePathUserinfo, nil, func(r *http.Request) {
			r.Header.Set("Authorization", "Bearer "+token)
		})
		var m map[string]any
		_ = json.Unmarshal([]byte(body), &m)
		return resp.StatusCode, m
	}
	newAT := tok["access_token"].(string)
	if s, m := userinfo(newAT); s != 200 || m["sub"] != gAlice.Sub || m["email_verified"] != true || m["hd"] != "corp.example" {
		t.Errorf("userinfo: %d %v", s, m)
	}
	if s, _ := userinfo("ya29.nope"); s != 401 {
		t.Errorf("userinfo with an unknown token: %d", s)
	}

	// Access token lifetime and expiry.
	g.SetAccessTokenLifetime(90 * time.Second)
	if _, tok := gToken(t, g, refresh); tok["expires_in"] != float64(90) {
		t.Errorf("expires_in %v after SetAccessTokenLifetime", tok["expires_in"])
	}
	g.ExpireAccessTokens()
	if s, _ := userinfo(newAT); s != 401 {
		t.Errorf("userinfo with an expired token: %d", s)
	}
	revoke := func(method string, token string) (int, string) {
		resp, body := gDo(t, method, g.URL+googlePathRevoke, url.Values{"token": {token}}, nil)
		return resp.StatusCode, body
	}
	if s, body := revoke(http.MethodPost, newAT); s != 400 || !strings.Contains(body, `"invalid_token"`) {
		t.Errorf("revoking an expired access token: %d %s", s, body)
	}

	// Injected failures and delay.
	g.FailNextToken(500)
	if s, e := gToken(t, g, refresh); s != 500 || e["error"] == nil {
		t.Errorf("FailNextToken(500): %d %v", s, e)
	}
	g.SetTokenDelay(300 * time.Millisecond)
	start := time.Now()
	if s, _ := gToken(t, g, refresh); s != 200 || time.Since(start) < 300*time.Millisecond {
		t.Errorf("SetTokenDelay: %d after %v", s, time.Since(start))
	}
	g.SetTokenDelay(0)

	// Revocation ends the grant.
	if s, _ := revoke(http.MethodGet, rt); s != http.StatusMethodNotAllowed {
		t.Errorf("GET /revoke: %d", s)
	}
	if s, body := revoke(http.MethodPost, rt); s != 200 {
		t.Fatalf("revoke: %d %s", s, body)
	}
	if got := g.RevokedTokens(); !slices.Equal(got, []string{rt}) {
		t.Errorf("RevokedTokens %d tokens", len(got))
	}
	if s, e := gToken(t, g, refresh); s != 400 || e["error"] != "invalid_grant" {
		t.Errorf("refresh after revoke: %d %v", s, e)
	}
	if s, _ := revoke(http.MethodPost, rt); s != 400 {
		t.Errorf("revoking twice: %d", s)
	}
	// The grant is gone, so the next offline sign-in gets a refresh token again.
	_, again := gToken(t, g, gCodeForm(gAuthorize(t, g, nil).Get("code")))
	if again["refresh_token"] == nil {
		t.Fatal("no refresh token after the grant was revoked")
	}
	// Revoking an access token revokes its refresh token too.
	if s, _ := revoke(http.MethodPost, again["access_token"].(string)); s != 200 {
		t.Fatalf("revoking an access token: %d", s)
	}
	if s, e := gToken(t, g, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {again["refresh_token"].(string)}}); s != 400 || e["error"] != "invalid_grant" {
		t.Errorf("refresh after its access token was revoked: %d %v", s, e)
	}
	// RevokeRefreshTokens.
	_, third := gToken(t, g, gCodeForm(gAuthorize(t, g, nil).Get("code")))
	g.RevokeRefreshTokens(gAlice.Sub)
	if s, e := gToken(t, g, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {third["refresh_token"].(string)}}); s != 400 || e["error"] != "invalid_grant" {
		t.Errorf("refresh after RevokeRefreshTokens: %d %v", s, e)
	}
}

func TestGoogleIDTokenHooks(t *testing.T) {
	g := newTestGoogle(t)
	idToken := func() string {
		_, tok := gToken(t, g, gCodeForm(gAuthorize(t, g, nil).Get("code")))
		return tok["id_token"].(string)
	}
	header := func(raw string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
		if err != nil {
			t.Fatal(err)
		}
		var h map[string]any
		_ = json.Unmarshal(b, &h)
		return h
	}
	kid := header(idToken())["kid"]

	g.IssuerForm(true)
	if _, c := gClaims(t, g, idToken()); c["iss"] != g.Alias() {
		t.Errorf("short issuer form: iss %v", c["iss"])
	}
	g.IssuerForm(false)

	g.MutateNextIDToken(func(c map[string]any) { c["aud"] = "someone-else"; delete(c, "nonce") })
	if _, c := gClaims(t, g, idToken()); c["aud"] != "someone-else" || c["nonce"] != nil {
		t.Errorf("mutated claims %v", c)
	}
	if _, c := gClaims(t, g, idToken()); c["aud"] != gClientID {
		t.Error("the mutation applied to a second id_token")
	}

	cases := []struct {
		mode string
		alg  string
		kid  func(h map[string]any) bool
	}{
		{GoogleSignNone, "none", func(h map[string]any) bool { return h["kid"] == kid }},
		{GoogleSignHS256Public, "HS256", func(h map[string]any) bool { return h["kid"] == kid }},
		{GoogleSignUnknownKid, "RS256", func(h map[string]any) bool { return h["kid"] != kid && h["kid"] != "" }},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			g.SignNextWith(c.mode)
			raw := idToken()
			h := header(raw)
			if h["alg"] != c.alg || !c.kid(h) {
				t.Errorf("header %v", h)
			}
			if c.mode == GoogleSignNone && !strings.HasSuffix(raw, ".") {
				t.Error("alg none token has a signature")
			}
			if h := header(idToken()); h["alg"] != "RS256" || h["kid"] != kid {
				t.Errorf("the mode applied to a second id_token: %v", h)
			}
		})
	}

	g.RotateKeys()
	g.SignNextWith(GoogleSignOldKey)
	if h, _ := gClaims(t, g, idToken()); h.KeyID != kid {
		t.Errorf("old-key signed with kid %q, want %q", h.KeyID, kid)
	}
	if h, _ := gClaims(t, g, idToken()); h.KeyID == kid {
		t.Error("the new key does not sign after RotateKeys")
	}
}
