package fakeoauth

import (
	"crypto/rand"
	"crypto/rsa"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
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
	codes             authserver.Codes[o2Code]
	access            map[string]*o2Grant
	refresh           authserver.RefreshTokens[o2Refresh]
	tokenRequests     map[string]int
	lifetime          time.Duration
	tokenDelay        time.Duration
	revoked           []string
	lastAuthorize     url.Values
	lastAuthorizePath string
	failNext          authserver.Failures
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
			panic("fakeoauth: generating the id_token key: " + err.Error())
		}
		o2Key = key
	})
	return o2Key
}

// o2Code is what an authorization code was issued for.
type o2Code struct {
	scope, nonce, tenant string
	user                 OAuth2FakeUser
}

// o2Grant is an issued access token.
type o2Grant struct {
	clientID, scope, tenant string
	user                    OAuth2FakeUser
	expires                 time.Time
	revoked                 bool
	refresh                 string // its refresh token, if any
}

// o2Refresh is what a refresh token was issued for.
type o2Refresh struct {
	scope, tenant, nonce string
	user                 OAuth2FakeUser
	access               string // the access token issued with it
}

// NewOAuth2Fake starts a fake of kind "gitlab", "microsoft", "gitee",
// "feishu" or "lark" (it panics on any other). Its user is a default one
// until SetUser; it has no client until AddClient.
func NewOAuth2Fake(kind string) *OAuth2Fake {
	sh, ok := o2Shapes[kind]
	if !ok {
		panic("fakeoauth: unknown OAuth2Fake kind " + kind)
	}
	f := &OAuth2Fake{
		kind:          kind,
		clients:       map[string]string{},
		user:          sh.defaultUser,
		access:        map[string]*o2Grant{},
		tokenRequests: map[string]int{},
		lifetime:      sh.accessLifetime,
	}
	if sh.idTokens {
		f.key, f.keyID = o2SigningKey(), authserver.RandomHex(16)
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
func (f *OAuth2Fake) DenyConsent(on bool) { authserver.Set(&f.mu, &f.deny, on) }

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
func (f *OAuth2Fake) SetAccessTokenLifetime(d time.Duration) { authserver.Set(&f.mu, &f.lifetime, d) }

// RevokeRefreshTokens revokes every refresh token issued so far: the next
// refresh gets the provider's invalid_grant answer.
func (f *OAuth2Fake) RevokeRefreshTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refresh.All(func(_ string, r *authserver.RefreshToken[o2Refresh]) bool {
		r.Revoked = true
		return true
	})
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
	return authserver.CloneValues(f.lastAuthorize)
}

// LastAuthorizePath returns the path of the last authorization request
// (for Microsoft it carries the tenant).
func (f *OAuth2Fake) LastAuthorizePath() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastAuthorizePath
}

// SetTokenDelay delays every token endpoint answer by d.
func (f *OAuth2Fake) SetTokenDelay(d time.Duration) { authserver.Set(&f.mu, &f.tokenDelay, d) }

// FailNext makes the next request to path (e.g. the token or userinfo
// path) fail with status, in the provider's error shape for it.
func (f *OAuth2Fake) FailNext(path string, status int) {
	f.failNext.Add(path, status)
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
	if status, ok := f.failNext.Next(r.URL.Path); ok {
		sh.failure(w, r, status)
		return
	}
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
	f.lastAuthorize = authserver.CloneValues(q)
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
		authserver.RedirectBack(w, r, target, url.Values{"error": {"unsupported_response_type"}}, q.Get("state"))
		return
	}
	method := q.Get("code_challenge_method")
	if q.Get("code_challenge") != "" {
		if method == "" {
			method = "plain"
		}
		if method != "S256" && method != "plain" {
			authserver.RedirectBack(w, r, target, url.Values{"error": {"invalid_request"},
				"error_description": {"Unsupported code_challenge_method."}}, q.Get("state"))
			return
		}
	}
	if deny {
		authserver.RedirectBack(w, r, target, sh.denied(), q.Get("state"))
		return
	}
	code := authserver.RandomHex(sh.codeLength)
	f.mu.Lock()
	now := time.Now()
	f.codes.Issue(code, &authserver.Code[o2Code]{
		ClientID: q.Get("client_id"), RedirectURI: redirectURI,
		Challenge: q.Get("code_challenge"), Method: method, Expires: now.Add(sh.codeLifetime),
		Grant: o2Code{scope: q.Get("scope"), nonce: q.Get("nonce"), tenant: tenant, user: user},
	}, now)
	f.mu.Unlock()
	params := url.Values{"code": {code}}
	for k, v := range sh.extraCallbackParams() {
		params[k] = v
	}
	authserver.RedirectBack(w, r, target, params, q.Get("state"))
}
