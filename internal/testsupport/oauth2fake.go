package testsupport

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// OAuth2Fake is a fake of one OAuth 2.0 provider preset's real endpoints
// (paths, parameters and JSON shapes as the real provider documents them;
// see oauth2fake_shapes.go for the sources), all served on one origin, URL.
//
// Kinds and paths:
//   - gitlab: GET /oauth/authorize, POST /oauth/token, GET|POST
//     /oauth/userinfo, POST /oauth/revoke, GET /api/v4/user, GET
//     /oauth/discovery/keys.
//   - microsoft: GET /{tenant}/oauth2/v2.0/authorize, POST
//     /{tenant}/oauth2/v2.0/token, GET /{tenant}/discovery/v2.0/keys (the
//     login.microsoftonline.com paths), GET|POST /oidc/userinfo, GET
//     /v1.0/me (the graph.microsoft.com paths).
//   - gitee: GET /oauth/authorize, POST /oauth/token, GET /api/v5/user,
//     GET /api/v5/emails (token in the access_token query parameter).
//   - feishu and lark: GET /open-apis/authen/v1/authorize, POST
//     /open-apis/authen/v2/oauth/token, GET /open-apis/authen/v1/user_info.
//
// The authorize endpoint signs the configured user in at once (no page)
// and redirects back with code and state, or with the provider's
// access_denied answer after DenyConsent(true). Any absolute http(s)
// redirect_uri is accepted (there is no registration), but codes are
// single use, expire, and are bound to the client and the redirect_uri;
// PKCE (S256 or plain) is checked when a code_challenge was sent. Refresh
// tokens rotate as the real provider does.
type OAuth2Fake struct {
	// URL is the origin of every endpoint (use it as the preset's BaseURL).
	URL string

	kind  string
	srv   *httptest.Server
	key   *rsa.PrivateKey // id_token signing key (gitlab, microsoft)
	keyID string

	mu                sync.Mutex
	clients           map[string]string
	user              OAuth2FakeUser
	deny              bool
	codes             map[string]*o2Code
	access            map[string]*o2Grant
	refresh           map[string]*o2Refresh
	tokenRequests     map[string]int
	lifetime          time.Duration
	tokenDelay        time.Duration
	revoked           []string
	lastAuthorize     url.Values
	lastAuthorizePath string
	failNext          map[string][]int
}

// OAuth2FakeUser is the user who signs in.
type OAuth2FakeUser struct {
	// ID is the provider's user id: a number for gitlab and gitee, a
	// pairwise sub for microsoft, an open_id (ou_…) for feishu.
	ID string
	// Login is the username (GitLab username, Gitee login, Feishu
	// user_id, Microsoft preferred_username/userPrincipalName).
	Login, Email, Name, Avatar string
	// EmailVerified is the provider's verification of Email: GitLab's
	// email_verified, Gitee's /api/v5/emails state "confirmed", Microsoft's
	// xms_edov id_token claim (as when the optional claim is configured).
	// Feishu has no such flag.
	EmailVerified bool
	// Groups are GitLab group paths (the userinfo "groups" claim).
	Groups []string
}

var (
	o2KeyOnce sync.Once
	o2Key     *rsa.PrivateKey
)

// o2SigningKey is the RSA key of the fakes' id_tokens, generated once for
// the test binary (each fake has its own key id).
func o2SigningKey() *rsa.PrivateKey {
	o2KeyOnce.Do(func() {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic("testsupport: generating the id_token key: " + err.Error())
		}
		o2Key = key
	})
	return o2Key
}

// o2Code is an issued authorization code.
type o2Code struct {
	clientID, redirectURI, scope, nonce, tenant string
	challenge, method                           string
	user                                        OAuth2FakeUser
	expires                                     time.Time
	used                                        bool
}

// o2Grant is an issued access token.
type o2Grant struct {
	clientID, scope, tenant string
	user                    OAuth2FakeUser
	expires                 time.Time
	revoked                 bool
	refresh                 string // its refresh token, if any
}

// o2Refresh is an issued refresh token.
type o2Refresh struct {
	clientID, scope, tenant, nonce string
	user                           OAuth2FakeUser
	revoked                        bool
	access                         string // the access token issued with it
}

// NewOAuth2Fake starts a fake of kind "gitlab", "microsoft", "gitee",
// "feishu" or "lark" (it panics on any other). Its user is a default one
// until SetUser; it has no client until AddClient.
func NewOAuth2Fake(kind string) *OAuth2Fake {
	sh, ok := o2Shapes[kind]
	if !ok {
		panic("testsupport: unknown OAuth2Fake kind " + kind)
	}
	f := &OAuth2Fake{
		kind:          kind,
		clients:       map[string]string{},
		user:          sh.defaultUser,
		codes:         map[string]*o2Code{},
		access:        map[string]*o2Grant{},
		refresh:       map[string]*o2Refresh{},
		tokenRequests: map[string]int{},
		lifetime:      sh.accessLifetime,
		failNext:      map[string][]int{},
	}
	if sh.idTokens {
		f.key, f.keyID = o2SigningKey(), o2Random(16)
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	f.URL = f.srv.URL
	return f
}

// Close stops the fake.
func (f *OAuth2Fake) Close() { f.srv.Close() }

// Kind returns the fake's kind.
func (f *OAuth2Fake) Kind() string { return f.kind }

// AddClient registers an OAuth client (for Feishu and Lark: App ID and App
// Secret).
func (f *OAuth2Fake) AddClient(clientID, secret string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clients[clientID] = secret
}

// SetUser sets who signs in at the next authorization.
func (f *OAuth2Fake) SetUser(u OAuth2FakeUser) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u.Groups = slices.Clone(u.Groups)
	f.user = u
}

// DenyConsent makes the authorize endpoint redirect back with the
// provider's access_denied answer (on) or sign the user in (off).
func (f *OAuth2Fake) DenyConsent(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deny = on
}

// TokenRequests returns how many requests the token endpoint received
// with grant_type (accepted or not).
func (f *OAuth2Fake) TokenRequests(grantType string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokenRequests[grantType]
}

// SetAccessTokenLifetime sets the lifetime (expires_in) of access tokens
// issued from now on. The default is the provider's: 2 h for GitLab and
// Feishu, 3599 s for Microsoft, 1 day for Gitee.
func (f *OAuth2Fake) SetAccessTokenLifetime(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lifetime = d
}

// RevokeRefreshTokens revokes every refresh token issued so far: the next
// refresh gets the provider's invalid_grant answer.
func (f *OAuth2Fake) RevokeRefreshTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.refresh {
		r.revoked = true
	}
}

// Revoked returns the tokens revoked through the revoke endpoint (GitLab's
// /oauth/revoke; the other kinds have none), oldest first.
func (f *OAuth2Fake) Revoked() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.revoked)
}

// LastAuthorize returns the query of the last authorization request.
func (f *OAuth2Fake) LastAuthorize() url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := url.Values{}
	for k, v := range f.lastAuthorize {
		out[k] = slices.Clone(v)
	}
	return out
}

// LastAuthorizePath returns the path of the last authorization request
// (for Microsoft it carries the tenant).
func (f *OAuth2Fake) LastAuthorizePath() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastAuthorizePath
}

// SetTokenDelay delays every token endpoint answer by d.
func (f *OAuth2Fake) SetTokenDelay(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokenDelay = d
}

// FailNext makes the next request to path (e.g. the token or userinfo
// path) fail with status, in the provider's error shape for it.
func (f *OAuth2Fake) FailNext(path string, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failNext[path] = append(f.failNext[path], status)
}

// ExpireAccessTokens makes every access token issued so far expired.
func (f *OAuth2Fake) ExpireAccessTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, g := range f.access {
		g.expires = time.Now().Add(-time.Second)
	}
}

// serve routes a request to the kind's endpoint.
func (f *OAuth2Fake) serve(w http.ResponseWriter, r *http.Request) {
	sh := o2Shapes[f.kind]
	f.mu.Lock()
	if q := f.failNext[r.URL.Path]; len(q) > 0 {
		status := q[0]
		f.failNext[r.URL.Path] = q[1:]
		f.mu.Unlock()
		sh.failure(w, r, status)
		return
	}
	f.mu.Unlock()
	ep, tenant := sh.route(r.URL.Path)
	switch ep {
	case o2Authorize:
		if r.Method != http.MethodGet {
			o2Page(w, http.StatusMethodNotAllowed, "Method not allowed", "")
			return
		}
		f.serveAuthorize(w, r, tenant)
	case o2Token:
		if r.Method != http.MethodPost {
			o2Page(w, http.StatusMethodNotAllowed, "Method not allowed", "")
			return
		}
		f.serveToken(w, r, tenant)
	case o2Revoke:
		if r.Method != http.MethodPost {
			o2Page(w, http.StatusMethodNotAllowed, "Method not allowed", "")
			return
		}
		f.serveRevoke(w, r)
	case o2Keys:
		f.serveKeys(w)
	case o2API:
		if r.Method != http.MethodGet && !(r.Method == http.MethodPost && sh.userinfoPOST(r.URL.Path)) {
			o2Page(w, http.StatusMethodNotAllowed, "Method not allowed", "")
			return
		}
		f.serveAPI(w, r)
	default:
		sh.notFound(w, r)
	}
}

// serveAuthorize signs the user in and redirects back with a code.
func (f *OAuth2Fake) serveAuthorize(w http.ResponseWriter, r *http.Request, tenant string) {
	sh := o2Shapes[f.kind]
	q := r.URL.Query()
	f.mu.Lock()
	f.lastAuthorize = url.Values{}
	for k, v := range q {
		f.lastAuthorize[k] = slices.Clone(v)
	}
	f.lastAuthorizePath = r.URL.Path
	_, known := f.clients[q.Get("client_id")]
	deny, user := f.deny, f.user
	f.mu.Unlock()

	if !known {
		o2Page(w, http.StatusBadRequest, "Unknown client", "<p>"+html.EscapeString(sh.unknownClientPage(q.Get("client_id")))+"</p>")
		return
	}
	redirectURI := q.Get("redirect_uri")
	target, err := url.Parse(redirectURI)
	if redirectURI == "" || err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" || target.Fragment != "" {
		o2Page(w, http.StatusBadRequest, "Invalid redirect URI",
			"<p>The redirect_uri is missing or not an absolute http(s) URL (the fake has no registered redirect URIs).</p>")
		return
	}
	if q.Get("response_type") != "code" {
		o2RedirectBack(w, r, target, url.Values{"error": {"unsupported_response_type"}}, q.Get("state"))
		return
	}
	method := q.Get("code_challenge_method")
	if q.Get("code_challenge") != "" {
		if method == "" {
			method = "plain"
		}
		if method != "S256" && method != "plain" {
			o2RedirectBack(w, r, target, url.Values{"error": {"invalid_request"},
				"error_description": {"Unsupported code_challenge_method."}}, q.Get("state"))
			return
		}
	}
	if deny {
		o2RedirectBack(w, r, target, sh.denied(), q.Get("state"))
		return
	}
	code := o2Random(sh.codeLength)
	f.mu.Lock()
	f.codes[code] = &o2Code{
		clientID: q.Get("client_id"), redirectURI: redirectURI, scope: q.Get("scope"), nonce: q.Get("nonce"),
		tenant: tenant, challenge: q.Get("code_challenge"), method: method, user: user,
		expires: time.Now().Add(sh.codeLifetime),
	}
	f.mu.Unlock()
	params := url.Values{"code": {code}}
	for k, v := range sh.extraCallbackParams() {
		params[k] = v
	}
	o2RedirectBack(w, r, target, params, q.Get("state"))
}

// o2RedirectBack sends the browser to target with params and state added.
func o2RedirectBack(w http.ResponseWriter, r *http.Request, target *url.URL, params url.Values, state string) {
	u := *target
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if state != "" {
		q.Set("state", state)
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// o2TokenError is a refusal of the token endpoint, mapped to each
// provider's answer by its shapes.
type o2TokenError int

const (
	o2ErrMissingParam o2TokenError = iota
	o2ErrUnknownClient
	o2ErrBadSecret
	o2ErrUnsupportedGrant
	o2ErrUnknownCode
	o2ErrExpiredCode
	o2ErrUsedCode
	o2ErrClientMismatch
	o2ErrRedirectMismatch
	o2ErrPKCE
	o2ErrUnknownRefresh
	o2ErrRevokedRefresh
	o2ErrTwoAuthMethods
)

// tokenParams reads the token request: a form body (JSON too for Feishu,
// whose doc shows JSON), the query merged in for Gitee (its doc puts the
// parameters there), and client credentials from the body or a Basic
// header.
func (f *OAuth2Fake) tokenParams(r *http.Request) (url.Values, string, string, bool, error) {
	params := url.Values{}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, "", "", false, err
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case ct == "application/json" && (f.kind == "feishu" || f.kind == "lark"):
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, "", "", false, err
		}
		for k, v := range m {
			if s, ok := v.(string); ok {
				params.Set(k, s)
			}
		}
	default:
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, "", "", false, err
		}
		params = vals
	}
	if f.kind == "gitee" {
		for k, v := range r.URL.Query() {
			if !params.Has(k) {
				params[k] = v
			}
		}
	}
	id, secret := params.Get("client_id"), params.Get("client_secret")
	basicID, basicSecret, basic := r.BasicAuth()
	if basic {
		basicID, _ = url.QueryUnescape(basicID)
		basicSecret, _ = url.QueryUnescape(basicSecret)
		if secret != "" {
			// Two authentication methods (RFC 6749 §2.3: MUST NOT).
			return params, "", "", true, nil
		}
		id, secret = basicID, basicSecret
	}
	return params, id, secret, false, nil
}

// serveToken is the token endpoint: authorization_code and refresh_token.
func (f *OAuth2Fake) serveToken(w http.ResponseWriter, r *http.Request, tenant string) {
	sh := o2Shapes[f.kind]
	params, clientID, secret, twoMethods, err := f.tokenParams(r)
	if err != nil {
		sh.tokenError(w, o2ErrMissingParam, "")
		return
	}
	grant := params.Get("grant_type")
	f.mu.Lock()
	f.tokenRequests[grant]++
	delay := f.tokenDelay
	f.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if twoMethods {
		sh.tokenError(w, o2ErrTwoAuthMethods, "")
		return
	}
	switch grant {
	case "authorization_code", "refresh_token":
	case "":
		sh.tokenError(w, o2ErrMissingParam, "grant_type")
		return
	default:
		sh.tokenError(w, o2ErrUnsupportedGrant, grant)
		return
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	want, known := f.clients[clientID]
	if clientID == "" || !known {
		// Gitee's documented refresh sends no client credentials.
		if !(grant == "refresh_token" && f.kind == "gitee" && clientID == "") {
			sh.tokenError(w, o2ErrUnknownClient, clientID)
			return
		}
	} else if subtle.ConstantTimeCompare([]byte(want), []byte(secret)) != 1 {
		sh.tokenError(w, o2ErrBadSecret, clientID)
		return
	}

	if grant == "authorization_code" {
		code := params.Get("code")
		if code == "" {
			sh.tokenError(w, o2ErrMissingParam, "code")
			return
		}
		c := f.codes[code]
		switch {
		case c == nil:
			sh.tokenError(w, o2ErrUnknownCode, "")
			return
		case c.used:
			sh.tokenError(w, o2ErrUsedCode, "")
			return
		case time.Now().After(c.expires):
			sh.tokenError(w, o2ErrExpiredCode, "")
			return
		case c.clientID != clientID:
			sh.tokenError(w, o2ErrClientMismatch, "")
			return
		case c.redirectURI != params.Get("redirect_uri"):
			sh.tokenError(w, o2ErrRedirectMismatch, "")
			return
		case c.tenant != tenant:
			sh.tokenError(w, o2ErrUnknownCode, "")
			return
		case !o2PKCEOK(c.challenge, c.method, params.Get("code_verifier")):
			// The code is spent by the failed attempt, as at most providers.
			c.used = true
			sh.tokenError(w, o2ErrPKCE, "")
			return
		}
		c.used = true
		f.issue(w, r, c.clientID, c.scope, c.tenant, c.nonce, c.user)
		return
	}

	rt := params.Get("refresh_token")
	old := f.refresh[rt]
	switch {
	case rt == "":
		sh.tokenError(w, o2ErrMissingParam, "refresh_token")
		return
	case old == nil:
		sh.tokenError(w, o2ErrUnknownRefresh, "")
		return
	case old.revoked:
		sh.tokenError(w, o2ErrRevokedRefresh, "")
		return
	case clientID != "" && old.clientID != clientID:
		sh.tokenError(w, o2ErrClientMismatch, "")
		return
	}
	switch sh.rotation {
	case o2RotateRevokeBoth:
		old.revoked = true
		if g := f.access[old.access]; g != nil {
			g.revoked = true
		}
	case o2RotateRevokeRefresh:
		old.revoked = true
		if g := f.access[old.access]; g != nil && g.expires.After(time.Now().Add(sh.accessGrace)) {
			g.expires = time.Now().Add(sh.accessGrace)
		}
	case o2RotateKeep:
	}
	f.issue(w, r, old.clientID, old.scope, old.tenant, old.nonce, old.user)
}

// o2PKCEOK checks a code_verifier against the challenge of the code (no
// challenge: nothing to check).
func o2PKCEOK(challenge, method, verifier string) bool {
	if challenge == "" {
		return true
	}
	if verifier == "" {
		return false
	}
	got := verifier
	if method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		got = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

// issue creates an access token (and a refresh token where the provider
// gives one) and sends the token answer. f.mu is held.
func (f *OAuth2Fake) issue(w http.ResponseWriter, r *http.Request, clientID, scope, tenant, nonce string, user OAuth2FakeUser) {
	sh := o2Shapes[f.kind]
	at := sh.newAccessToken()
	g := &o2Grant{clientID: clientID, scope: scope, tenant: tenant, user: user, expires: time.Now().Add(f.lifetime)}
	f.access[at] = g
	rt := ""
	if sh.refreshIssued(scope) {
		rt = sh.newRefreshToken()
		g.refresh = rt
		f.refresh[rt] = &o2Refresh{clientID: clientID, scope: scope, tenant: tenant, nonce: nonce, user: user, access: at}
	}
	idToken := ""
	if f.key != nil && o2HasScope(scope, "openid") {
		idToken = f.idToken(o2Base(r), clientID, tenant, nonce, scope, user)
	}
	sh.tokenAnswer(w, o2Issued{access: at, refresh: rt, idToken: idToken, scope: scope, lifetime: f.lifetime})
}

// o2Issued is what a token answer carries.
type o2Issued struct {
	access, refresh, idToken, scope string
	lifetime                        time.Duration
}

// serveRevoke is GitLab's /oauth/revoke (RFC 7009 with client auth):
// revoking either token of a grant revokes both.
func (f *OAuth2Fake) serveRevoke(w http.ResponseWriter, r *http.Request) {
	sh := o2Shapes[f.kind]
	params, clientID, secret, _, err := f.tokenParams(r)
	if err != nil {
		sh.tokenError(w, o2ErrMissingParam, "")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	want, known := f.clients[clientID]
	if !known || subtle.ConstantTimeCompare([]byte(want), []byte(secret)) != 1 {
		sh.revokeForbidden(w)
		return
	}
	tok := params.Get("token")
	hit := false
	if g := f.access[tok]; g != nil && g.clientID == clientID {
		g.revoked, hit = true, true
		if rt := f.refresh[g.refresh]; rt != nil {
			rt.revoked = true
		}
	}
	if rt := f.refresh[tok]; rt != nil && rt.clientID == clientID {
		rt.revoked, hit = true, true
		if g := f.access[rt.access]; g != nil {
			g.revoked = true
		}
	}
	if hit {
		f.revoked = append(f.revoked, tok)
	}
	o2JSON(w, http.StatusOK, map[string]any{})
}

// serveAPI answers the userinfo-like endpoints with the grant's user.
func (f *OAuth2Fake) serveAPI(w http.ResponseWriter, r *http.Request) {
	sh := o2Shapes[f.kind]
	tok := sh.accessTokenOf(r)
	f.mu.Lock()
	g := f.access[tok]
	var grant o2Grant
	state := o2TokenValid
	switch {
	case tok == "" || g == nil:
		state = o2TokenMissing
	case g.revoked:
		state = o2TokenRevoked
	case !time.Now().Before(g.expires):
		state = o2TokenExpired
	default:
		grant = *g
	}
	f.mu.Unlock()
	if state != o2TokenValid {
		sh.unauthorized(w, r, state)
		return
	}
	sh.api(w, r, o2Base(r), &grant)
}

// o2TokenState is why an access token is refused.
type o2TokenState int

const (
	o2TokenValid o2TokenState = iota
	o2TokenMissing
	o2TokenExpired
	o2TokenRevoked
)

// o2JSON sends v as compact UTF-8 JSON.
func o2JSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "fake: encoding response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// o2Page sends a small HTML page.
func o2Page(w http.ResponseWriter, status int, title, bodyHTML string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s (fake)</title></head>\n<body><h1>%s</h1>\n%s\n</body></html>\n",
		html.EscapeString(title), html.EscapeString(title), bodyHTML)
}

// o2Random returns n random bytes as hex.
func o2Random(n int) string {
	b := make([]byte, (n+1)/2)
	if _, err := rand.Read(b); err != nil {
		panic("testsupport: crypto/rand: " + err.Error())
	}
	return hex.EncodeToString(b)[:n]
}

// o2RandomB64 returns n random bytes in base64url.
func o2RandomB64(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("testsupport: crypto/rand: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// o2HasScope reports whether the space-separated scope holds s.
func o2HasScope(scope, s string) bool {
	return slices.Contains(strings.Fields(scope), s)
}

// o2Base is the fake's origin as the request reached it (the handlers do
// not read OAuth2Fake.URL, which is set after the server starts).
func o2Base(r *http.Request) string { return "http://" + r.Host }

// o2Bearer returns the token of an "Authorization: Bearer" header.
func o2Bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}
