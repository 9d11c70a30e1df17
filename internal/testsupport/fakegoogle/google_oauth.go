package fakegoogle

import (
	"fmt"
	"html"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
)

// googleTokenChars are the characters of the fake's codes and tokens.
const googleTokenChars = authserver.Base62 + "-_"

// newGoogleSecret returns prefix followed by n random characters: codes
// look like "4/0A…", access tokens "ya29.a0…", refresh tokens "1//0…".
func newGoogleSecret(prefix string, n int) string {
	return prefix + authserver.RandomString(googleTokenChars, n)
}

// googleScopeURLs are the URL forms Google reports for the short scopes.
var googleScopeURLs = map[string]string{
	"email":   "https://www.googleapis.com/auth/userinfo.email",
	"profile": "https://www.googleapis.com/auth/userinfo.profile",
}

// googleScopeString is the scope Google reports for granted scopes:
// openid, then the URL forms.
func googleScopeString(scopes []string) string {
	var out []string
	if slices.Contains(scopes, "openid") {
		out = append(out, "openid")
	}
	for _, s := range []string{"email", "profile"} {
		if googleHasScope(scopes, s) {
			out = append(out, googleScopeURLs[s])
		}
	}
	return strings.Join(out, " ")
}

// googleKnownScope reports whether the fake supports scope s.
func googleKnownScope(s string) bool {
	if s == "openid" || s == "email" || s == "profile" {
		return true
	}
	return s == googleScopeURLs["email"] || s == googleScopeURLs["profile"]
}

// writeGooglePage sends Google's error page for an authorization request
// it cannot send back to the client.
func writeGooglePage(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Error %d (%s)</title></head>\n<body>\n<h1>Access blocked: Authorization Error</h1>\n<p>%s</p>\n<p>Error %d: %s</p>\n</body></html>\n",
		status, html.EscapeString(code), html.EscapeString(detail), status, html.EscapeString(code))
}

// serveAuthorize is the authorization endpoint: it signs the SetUser user
// in at once (no page) and redirects back with a code or an error.
func (g *Google) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	if !googleAllow(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	q := r.URL.Query()
	g.mu.Lock()
	g.lastAuthorize = q
	client := g.clients[q.Get("client_id")]
	g.mu.Unlock()

	for _, k := range []string{"client_id", "redirect_uri"} {
		if len(q[k]) > 1 {
			writeGooglePage(w, http.StatusBadRequest, "invalid_request", "Parameter not allowed to be repeated: "+k)
			return
		}
	}
	switch {
	case q.Get("client_id") == "":
		writeGooglePage(w, http.StatusBadRequest, "invalid_request", "Missing required parameter: client_id")
		return
	case client == nil:
		writeGooglePage(w, http.StatusUnauthorized, "invalid_client", "The OAuth client was not found.")
		return
	case q.Get("redirect_uri") == "":
		writeGooglePage(w, http.StatusBadRequest, "invalid_request", "Missing required parameter: redirect_uri")
		return
	case !slices.Contains(client.redirectURIs, q.Get("redirect_uri")):
		writeGooglePage(w, http.StatusBadRequest, "redirect_uri_mismatch",
			"You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. redirect_uri="+q.Get("redirect_uri"))
		return
	}

	// From here on, errors go back to the client.
	redirectURI, state := q.Get("redirect_uri"), q.Get("state")
	back := func(params url.Values) {
		if state != "" {
			params.Set("state", state)
		}
		googleRedirect(w, r, redirectURI, params)
	}
	fail := func(code, desc string) {
		back(url.Values{"error": {code}, "error_description": {desc}})
	}
	for k, v := range q {
		if len(v) > 1 {
			fail("invalid_request", "Parameter not allowed to be repeated: "+k)
			return
		}
	}
	scopes := strings.Fields(q.Get("scope"))
	prompts := strings.Fields(q.Get("prompt"))
	method := q.Get("code_challenge_method")
	switch {
	case q.Get("response_type") == "":
		fail("invalid_request", "Required parameter is missing: response_type")
		return
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "Invalid response_type: "+q.Get("response_type"))
		return
	case len(scopes) == 0:
		fail("invalid_request", "Missing required parameter: scope")
		return
	case slices.ContainsFunc(scopes, func(s string) bool { return !googleKnownScope(s) }):
		fail("invalid_scope", "Some requested scopes were invalid: "+q.Get("scope"))
		return
	case method != "" && q.Get("code_challenge") == "":
		fail("invalid_request", "Missing code_challenge")
		return
	case method != "" && method != "plain" && method != "S256":
		fail("invalid_request", "Invalid code_challenge_method: "+method)
		return
	case q.Has("access_type") && q.Get("access_type") != "online" && q.Get("access_type") != "offline":
		fail("invalid_request", "Invalid access_type: "+q.Get("access_type"))
		return
	case slices.ContainsFunc(prompts, func(p string) bool { return p != "none" && p != "consent" && p != "select_account" }):
		fail("invalid_request", "Invalid prompt: "+q.Get("prompt"))
		return
	case slices.Contains(prompts, "none") && len(prompts) > 1:
		fail("invalid_request", "prompt=none must not be combined with other values")
		return
	}
	if method == "" && q.Get("code_challenge") != "" {
		method = "plain" // RFC 7636 section 4.3
	}

	g.mu.Lock()
	u, signedIn := g.users[g.current]
	deny := g.denyConsent
	key := [2]string{u.Sub, client.id}
	grant := g.grants[key]
	if grant == nil {
		grant = &googleGrant{}
	}
	var code string
	promptNone := slices.Contains(prompts, "none")
	var failCode, failDesc string
	switch {
	case !signedIn:
		failCode, failDesc = "login_required", "no user is signed in (call SetUser)"
	case deny:
		failCode, failDesc = "access_denied", ""
	case promptNone && !grant.consented:
		failCode, failDesc = "consent_required", "The user has not consented to this client"
	default:
		offline := q.Get("access_type") == "offline"
		withRefresh := offline && (!grant.offline || slices.Contains(prompts, "consent"))
		grant.consented = true
		grant.offline = grant.offline || offline
		g.grants[key] = grant
		code = newGoogleSecret("4/0A", 70)
		now := g.Now()
		g.codes.Issue(code, &authserver.Code[googleCode]{
			ClientID: client.id, RedirectURI: redirectURI,
			Challenge: q.Get("code_challenge"), Method: method, Expires: now.Add(GoogleCodeLifetime),
			Grant: googleCode{sub: u.Sub, scopes: slices.Clone(scopes), nonce: q.Get("nonce"), withRefresh: withRefresh},
		}, now)
	}
	g.mu.Unlock()

	switch {
	case failCode == "login_required" && !promptNone:
		writeGooglePage(w, http.StatusBadRequest, "login_required", "The fake Google has no user to sign in: call SetUser.")
	case failCode == "access_denied":
		back(url.Values{"error": {"access_denied"}})
	case failCode != "":
		fail(failCode, failDesc)
	default:
		params := url.Values{"code": {code}, "scope": {googleScopeString(scopes)}, "authuser": {"0"}}
		if u.HD != "" {
			params.Set("hd", u.HD)
		}
		if promptNone {
			params.Set("prompt", "none")
		} else {
			params.Set("prompt", "consent")
		}
		back(params)
	}
}

// googleRedirect sends the browser to target with params added to its
// query.
func googleRedirect(w http.ResponseWriter, r *http.Request, target string, params url.Values) {
	u, err := url.Parse(target)
	if err != nil {
		writeGooglePage(w, http.StatusBadRequest, "invalid_request", "Invalid redirect_uri")
		return
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// googleError is a token endpoint error: {"error","error_description"}.
func googleError(status int, code, descr string) *authserver.Error {
	return &authserver.Error{Status: status, Code: code, Description: descr}
}

// googleTokenResponse is the token endpoint's answer, in Google's order.
type googleTokenResponse struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
	TokenType    string `json:"token_type"`
	IDToken      string `json:"id_token,omitempty"`
}

// injectedTokenFailure is the answer of FailNextToken(status).
func injectedTokenFailure(status int) *authserver.Error {
	switch {
	case status == http.StatusBadRequest:
		return googleError(status, "invalid_request", "Bad Request")
	case status == http.StatusUnauthorized:
		return googleError(status, "invalid_client", "Unauthorized")
	case status == http.StatusTooManyRequests:
		return googleError(status, "rate_limit_exceeded", "Rate Limit Exceeded")
	case status == http.StatusServiceUnavailable:
		return googleError(status, "temporarily_unavailable", "The service is currently unavailable.")
	}
	return googleError(status, "internal_failure", "Backend Error")
}

// serveToken is the token endpoint.
func (g *Google) serveToken(w http.ResponseWriter, r *http.Request) {
	if !googleAllow(w, r, http.MethodPost) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	perr := r.ParseForm()
	grantType := r.PostForm.Get("grant_type")

	g.mu.Lock()
	g.tokenRequests[grantType]++
	delay := g.tokenDelay
	g.mu.Unlock()
	fail, failed := g.failToken.Next(googlePathToken)
	if !authserver.Delay(r, delay) {
		return
	}
	if failed {
		if fail == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "30")
		}
		googleJSON.WriteError(w, injectedTokenFailure(fail))
		return
	}
	resp, e := g.token(r, perr)
	if e != nil {
		googleJSON.WriteError(w, e)
		return
	}
	w.Header().Set("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate")
	w.Header().Set("Pragma", "no-cache")
	googleJSON.Write(w, http.StatusOK, resp)
}

// token checks the request and runs its grant.
func (g *Google) token(r *http.Request, parseErr error) (*googleTokenResponse, *authserver.Error) {
	badRequest := func(code, descr string) *authserver.Error {
		return googleError(http.StatusBadRequest, code, descr)
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return nil, badRequest("invalid_request", "Invalid Content-Type: the body must be application/x-www-form-urlencoded")
	}
	if parseErr != nil {
		return nil, badRequest("invalid_request", "Could not read the request body")
	}
	for k, v := range r.PostForm {
		if len(v) > 1 {
			return nil, badRequest("invalid_request", "Parameter not allowed to be repeated: "+k)
		}
	}
	client, e := g.authenticateClient(r)
	if e != nil {
		return nil, e
	}
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "authorization_code":
		return g.redeemCode(client, r.PostForm)
	case "refresh_token":
		return g.redeemRefresh(client, r.PostForm)
	case "":
		return nil, badRequest("invalid_request", "Missing required parameter: grant_type")
	default:
		return nil, badRequest("unsupported_grant_type", "Invalid grant_type: "+gt)
	}
}

// authenticateClient checks client_secret_basic or client_secret_post.
func (g *Google) authenticateClient(r *http.Request) (*googleClient, *authserver.Error) {
	cred, problem := authserver.ClientCredentials(r, r.PostForm)
	switch problem {
	case authserver.MalformedBasicID, authserver.MalformedBasicSecret:
		return nil, googleError(http.StatusUnauthorized, "invalid_client", "Unauthorized")
	case authserver.TwoMethods:
		return nil, googleError(http.StatusBadRequest, "invalid_request", "The client authenticated with more than one method")
	case authserver.IDMismatch:
		return nil, googleError(http.StatusBadRequest, "invalid_request", "client_id does not match the Authorization header")
	}
	id, secret := cred.ID, cred.Secret
	if id == "" {
		return nil, googleError(http.StatusBadRequest, "invalid_request", "Could not determine client ID from request.")
	}
	g.mu.Lock()
	c := g.clients[id]
	g.mu.Unlock()
	if c == nil {
		return nil, googleError(http.StatusUnauthorized, "invalid_client", "The OAuth client was not found.")
	}
	if secret == "" || !authserver.SecretEqual(secret, c.secret) {
		return nil, googleError(http.StatusUnauthorized, "invalid_client", "Unauthorized")
	}
	return c, nil
}

// redeemCode runs the authorization_code grant. Any redemption attempt by
// the code's client uses the code up.
func (g *Google) redeemCode(client *googleClient, form url.Values) (*googleTokenResponse, *authserver.Error) {
	invalidGrant := func(descr string) *authserver.Error {
		return googleError(http.StatusBadRequest, "invalid_grant", descr)
	}
	code := form.Get("code")
	if code == "" {
		return nil, googleError(http.StatusBadRequest, "invalid_request", "Missing required parameter: code")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	c, problem := g.codes.Redeem(code, client.id, form.Get("redirect_uri"), form.Get("code_verifier"), g.Now())
	switch problem {
	case authserver.OK:
	case authserver.Unknown:
		return nil, invalidGrant("Malformed auth code.")
	case authserver.RedirectDiffer:
		return nil, googleError(http.StatusBadRequest, "redirect_uri_mismatch", "Bad Request")
	case authserver.NoVerifier:
		return nil, invalidGrant("Missing code verifier.")
	case authserver.BadVerifier:
		return nil, invalidGrant("Invalid code verifier.")
	default:
		return nil, invalidGrant("Bad Request")
	}
	u, ok := g.users[c.Grant.sub]
	if !ok {
		return nil, invalidGrant("Bad Request")
	}
	refresh := ""
	if c.Grant.withRefresh {
		refresh = newGoogleSecret("1//0", 100)
		g.refresh[refresh] = &googleRefresh{sub: c.Grant.sub, clientID: client.id, scopes: c.Grant.scopes}
	}
	return g.issueTokens(u, client.id, c.Grant.scopes, c.Grant.nonce, refresh, refresh)
}

// redeemRefresh runs the refresh_token grant: a new access token and
// id_token, no new refresh token.
func (g *Google) redeemRefresh(client *googleClient, form url.Values) (*googleTokenResponse, *authserver.Error) {
	tok := form.Get("refresh_token")
	if tok == "" {
		return nil, googleError(http.StatusBadRequest, "invalid_request", "Missing required parameter: refresh_token")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	rt := g.refresh[tok]
	if rt == nil || rt.clientID != client.id {
		return nil, googleError(http.StatusBadRequest, "invalid_grant", "Token has been expired or revoked.")
	}
	u, ok := g.users[rt.sub]
	if !ok {
		return nil, googleError(http.StatusBadRequest, "invalid_grant", "Token has been expired or revoked.")
	}
	return g.issueTokens(u, client.id, rt.scopes, "", tok, "")
}

// issueTokens issues an access token (tied to the refresh token parent)
// and, with the openid scope, an id_token; newRefresh is sent as
// refresh_token when not empty. g.mu is held and is released while the
// id_token is signed.
func (g *Google) issueTokens(u GoogleUser, clientID string, scopes []string, nonce, parent, newRefresh string) (*googleTokenResponse, *authserver.Error) {
	access := newGoogleSecret("ya29.a0", 150)
	lifetime := g.accessLifetime
	g.access[access] = &googleAccess{sub: u.Sub, clientID: clientID, scopes: scopes, expires: g.Now().Add(lifetime), refresh: parent}
	resp := &googleTokenResponse{
		AccessToken:  access,
		ExpiresIn:    int64(lifetime / time.Second),
		RefreshToken: newRefresh,
		Scope:        googleScopeString(scopes),
		TokenType:    "Bearer",
	}
	if slices.Contains(scopes, "openid") {
		claims, signing := g.idTokenClaims(u, clientID, scopes, nonce, access)
		g.mu.Unlock()
		idt, err := signing.sign(claims)
		g.mu.Lock()
		if err != nil {
			return nil, googleError(http.StatusInternalServerError, "internal_failure", "signing the id_token: "+err.Error())
		}
		resp.IDToken = idt
	}
	return resp, nil
}

// googleBearer returns the token of an "Authorization: Bearer …" header.
func googleBearer(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// serveUserinfo is the UserInfo endpoint (GET or POST with a bearer access
// token). email_verified is a boolean here, whatever the id_token says.
func (g *Google) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	if !googleAllow(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	tok := googleBearer(r)
	g.mu.Lock()
	a := g.access[tok]
	var u GoogleUser
	ok := a != nil && g.Now().Before(a.expires)
	if ok {
		u, ok = g.users[a.sub]
	}
	g.mu.Unlock()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
		googleJSON.Write(w, http.StatusUnauthorized, map[string]string{"error": "invalid_request", "error_description": "Invalid Credentials"})
		return
	}
	c := googleUserClaims(u, a.scopes)
	if v, has := c["email_verified"]; has {
		switch t := v.(type) {
		case string:
			c["email_verified"] = strings.EqualFold(t, "true")
		case bool:
		default:
			c["email_verified"] = false
		}
	}
	w.Header().Set("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate")
	googleJSON.Write(w, http.StatusOK, c)
}

// serveRevoke is the revocation endpoint: POST token=… (form body or
// query). Revoking a refresh token or an access token ends the whole
// grant: the refresh token, every access token of the user for the client,
// and the consent to offline access. An unknown, expired or revoked token
// gets 400 invalid_token.
func (g *Google) serveRevoke(w http.ResponseWriter, r *http.Request) {
	if !googleAllow(w, r, http.MethodPost) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		googleJSON.WriteError(w, googleError(http.StatusBadRequest, "invalid_request", "Could not read the request body"))
		return
	}
	tok := r.Form.Get("token")
	if tok == "" {
		googleJSON.WriteError(w, googleError(http.StatusBadRequest, "invalid_request", "Missing required parameter: token"))
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	var sub, clientID string
	if rt := g.refresh[tok]; rt != nil {
		sub, clientID = rt.sub, rt.clientID
	} else if a := g.access[tok]; a != nil && g.Now().Before(a.expires) {
		sub, clientID = a.sub, a.clientID
	} else {
		w.Header().Set("Cache-Control", "no-store")
		googleJSON.Write(w, http.StatusBadRequest, map[string]string{"error": "invalid_token", "error_description": "Token expired or revoked"})
		return
	}
	for t, rt := range g.refresh {
		if rt.sub == sub && rt.clientID == clientID {
			delete(g.refresh, t)
		}
	}
	for t, a := range g.access {
		if a.sub == sub && a.clientID == clientID {
			delete(g.access, t)
		}
	}
	delete(g.grants, [2]string{sub, clientID})
	g.revoked = append(g.revoked, tok)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
}
