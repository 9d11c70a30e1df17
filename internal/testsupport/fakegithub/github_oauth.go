package fakegithub

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
)

// Error URIs of GitHub's token endpoint errors.
const (
	gitHubTokenErrorsDoc = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors"
	gitHubAuthzErrorsDoc = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors"
)

// ghOAuthError is an error of the token endpoint, sent with HTTP 200.
type ghOAuthError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorURI         string `json:"error_uri"`
}

var (
	errIncorrectClientCredentials = &ghOAuthError{"incorrect_client_credentials",
		"The client_id and/or client_secret passed are incorrect.",
		gitHubTokenErrorsDoc + "/#incorrect-client-credentials"}
	errRedirectURIMismatch = &ghOAuthError{"redirect_uri_mismatch",
		"The redirect_uri MUST match the registered callback URL for this application.",
		gitHubAuthzErrorsDoc + "/#redirect-uri-mismatch2"}
	errBadVerificationCode = &ghOAuthError{"bad_verification_code",
		"The code passed is incorrect or expired.",
		gitHubTokenErrorsDoc + "/#bad-verification-code"}
	errBadRefreshToken = &ghOAuthError{"bad_refresh_token",
		"The refresh token passed is incorrect or expired.",
		gitHubTokenErrorsDoc}
	errUnsupportedGrantType = &ghOAuthError{"unsupported_grant_type",
		"The grant type is not supported.",
		gitHubTokenErrorsDoc}
)

// ghTokenGrant is a successful token response; the field order is
// GitHub's.
type ghTokenGrant struct {
	AccessToken           string `json:"access_token"`
	ExpiresIn             *int64 `json:"expires_in,omitempty"`
	RefreshToken          string `json:"refresh_token,omitempty"`
	RefreshTokenExpiresIn *int64 `json:"refresh_token_expires_in,omitempty"`
	Scope                 string `json:"scope"`
	TokenType             string `json:"token_type"`
}

// form encodes g in the same order as the JSON.
func (t *ghTokenGrant) form() string {
	parts := []string{"access_token=" + url.QueryEscape(t.AccessToken)}
	if t.ExpiresIn != nil {
		parts = append(parts, "expires_in="+strconv.FormatInt(*t.ExpiresIn, 10))
	}
	if t.RefreshToken != "" {
		parts = append(parts, "refresh_token="+url.QueryEscape(t.RefreshToken))
	}
	if t.RefreshTokenExpiresIn != nil {
		parts = append(parts, "refresh_token_expires_in="+strconv.FormatInt(*t.RefreshTokenExpiresIn, 10))
	}
	parts = append(parts, "scope="+url.QueryEscape(t.Scope), "token_type="+url.QueryEscape(t.TokenType))
	return strings.Join(parts, "&")
}

// form encodes e as GitHub does without Accept: application/json.
func (e *ghOAuthError) form() string {
	return "error=" + url.QueryEscape(e.Error) +
		"&error_description=" + url.QueryEscape(e.ErrorDescription) +
		"&error_uri=" + url.QueryEscape(e.ErrorURI)
}

// writeTokenAnswer sends a token endpoint answer (always HTTP 200), as
// JSON when the request's Accept header asks for it and form-encoded
// otherwise.
func writeTokenAnswer(w http.ResponseWriter, r *http.Request, v interface{ form() string }) {
	w.Header().Set("Cache-Control", "no-store")
	if strings.Contains(r.Header.Get("Accept"), "json") {
		writeGitHubJSON(w, http.StatusOK, v)
		return
	}
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(v.form()))
}

// authorizeParams are the parameters carried from the authorize page to
// its form.
var authorizeParams = []string{"client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method", "login", "allow_signup", "prompt"}

// serveAuthorize is GET /login/oauth/authorize (and the POST of its user
// picker form).
func (g *GitHub) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	var q url.Values
	switch r.Method {
	case http.MethodGet:
		q = r.URL.Query()
	case http.MethodPost:
		if err := r.ParseForm(); err != nil {
			writeGitHubPage(w, http.StatusBadRequest, "Bad request", "<p>Malformed form.</p>")
			return
		}
		q = r.PostForm
	default:
		writeGitHubPage(w, http.StatusNotFound, "Not Found", "")
		return
	}
	g.mu.Lock()
	if r.Method == http.MethodGet {
		g.lastAuthorize = authserver.CloneValues(q)
	}
	client := g.clients[q.Get("client_id")]
	autoLogin := g.autoLogin
	var logins []string
	for _, u := range g.users {
		logins = append(logins, u.Login)
	}
	g.mu.Unlock()
	slices.Sort(logins)

	if client == nil {
		writeGitHubPage(w, http.StatusNotFound, "Not Found", "<p>No application with this client_id.</p>")
		return
	}
	redirectURI := q.Get("redirect_uri")
	target, err := url.Parse(redirectURI)
	if redirectURI == "" || err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		writeGitHubPage(w, http.StatusBadRequest, "Redirect URI mismatch",
			"<p>The redirect_uri is missing or is not an absolute http(s) URL (the fake has no registered callback URL).</p>")
		return
	}
	if q.Get("code_challenge") != "" && q.Get("code_challenge_method") != "S256" {
		writeGitHubPage(w, http.StatusBadRequest, "Invalid request",
			"<p>Only the S256 code_challenge_method is supported.</p>")
		return
	}
	if r.Method == http.MethodPost && q.Has("cancel") {
		authserver.RedirectBack(w, r, target, url.Values{
			"error":             {"access_denied"},
			"error_description": {"The user has denied your application access."},
			"error_uri":         {gitHubAuthzErrorsDoc + "/#access-denied"},
		}, q.Get("state"))
		return
	}
	login := autoLogin
	if r.Method == http.MethodPost {
		login = q.Get("login")
	}
	if login == "" {
		g.writeAuthorizePage(w, q, logins)
		return
	}
	code, err := g.issueCode(client, login, q)
	if err != nil {
		writeGitHubPage(w, http.StatusBadRequest, "Sign-in failed", "<p>"+html.EscapeString(err.Error())+"</p>")
		return
	}
	authserver.RedirectBack(w, r, target, url.Values{"code": {code}}, q.Get("state"))
}

// writeAuthorizePage renders the user picker.
func (g *GitHub) writeAuthorizePage(w http.ResponseWriter, q url.Values, logins []string) {
	var b strings.Builder
	b.WriteString(`<form method="post" action="/login/oauth/authorize">` + "\n")
	for _, k := range authorizeParams {
		if k == "login" || !q.Has(k) {
			continue
		}
		fmt.Fprintf(&b, `<input type="hidden" name="%s" value="%s">`+"\n", k, html.EscapeString(q.Get(k)))
	}
	for _, l := range logins {
		fmt.Fprintf(&b, `<button type="submit" name="login" value="%[1]s" id="login-%[1]s">Sign in as %[1]s</button>`+"\n", html.EscapeString(l))
	}
	b.WriteString(`<button type="submit" name="cancel" value="1" id="cancel">Cancel</button>` + "\n</form>")
	writeGitHubPage(w, http.StatusOK, "Authorize application", b.String())
}

// issueCode creates an authorization code for login.
func (g *GitHub) issueCode(client *ghClient, login string, q url.Values) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	u, ok := g.users[strings.ToLower(login)]
	if !ok {
		return "", fmt.Errorf("no user %q", login)
	}
	scope := ""
	if !client.isGitHubApp() {
		scope = strings.Join(strings.FieldsFunc(q.Get("scope"), func(r rune) bool { return r == ' ' || r == ',' }), ",")
	}
	code := authserver.RandomString("0123456789abcdef", 20)
	now := g.Now()
	g.codes.Issue(code, &authserver.Code[ghCode]{
		ClientID:    client.clientID,
		RedirectURI: q.Get("redirect_uri"),
		Challenge:   q.Get("code_challenge"),
		Method:      "S256",
		Expires:     now.Add(GitHubCodeLifetime),
		Grant:       ghCode{login: u.Login, scope: scope},
	}, now)
	return code, nil
}

// serveToken is POST /login/oauth/access_token.
func (g *GitHub) serveToken(w http.ResponseWriter, r *http.Request) {
	// Read the body first: only then does the server notice a client
	// that hangs up during the delay.
	if err := r.ParseForm(); err != nil {
		writeGitHubError(w, http.StatusBadRequest, "Problems parsing request body", "")
		return
	}
	g.mu.Lock()
	delay := g.tokenDelay
	g.mu.Unlock()
	if !authserver.Delay(r, delay) {
		return
	}
	clientID, secret := r.Form.Get("client_id"), r.Form.Get("client_secret")
	if id, s, ok := r.BasicAuth(); ok && clientID == "" {
		clientID, secret = id, s
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	client := g.clients[clientID]
	if client == nil || !authserver.SecretEqual(client.secret, secret) {
		writeTokenAnswer(w, r, errIncorrectClientCredentials)
		return
	}
	var (
		grant *ghTokenGrant
		oerr  *ghOAuthError
	)
	switch r.Form.Get("grant_type") {
	case "", "authorization_code":
		grant, oerr = g.redeemCode(client, r.Form)
	case "refresh_token":
		grant, oerr = g.redeemRefresh(client, r.Form.Get("refresh_token"))
	default:
		oerr = errUnsupportedGrantType
	}
	if oerr != nil {
		writeTokenAnswer(w, r, oerr)
		return
	}
	writeTokenAnswer(w, r, grant)
}

// redeemCode checks a code (g.mu held). A code is spent by any
// redemption attempt with its own client's credentials, successful or
// not.
func (g *GitHub) redeemCode(client *ghClient, form url.Values) (*ghTokenGrant, *ghOAuthError) {
	c, problem := g.codes.Redeem(form.Get("code"), client.clientID, form.Get("redirect_uri"), form.Get("code_verifier"), g.Now())
	switch problem {
	case authserver.OK:
	case authserver.RedirectDiffer:
		return nil, errRedirectURIMismatch
	default:
		return nil, errBadVerificationCode
	}
	return g.issueUserTokens(client, c.Grant.login, c.Grant.scope), nil
}

// redeemRefresh rotates a refresh token (g.mu held).
func (g *GitHub) redeemRefresh(client *ghClient, token string) (*ghTokenGrant, *ghOAuthError) {
	rt, problem := g.refresh.Use(token, client.clientID, g.Now())
	if problem != authserver.OK {
		return nil, errBadRefreshToken
	}
	rt.Rotated = true
	delete(g.tokens, rt.Grant.access)
	return g.issueUserTokens(client, rt.Grant.login, ""), nil
}

// issueUserTokens creates a user access token (and for GitHub Apps a
// refresh token) (g.mu held).
func (g *GitHub) issueUserTokens(client *ghClient, login, scope string) *ghTokenGrant {
	now := g.Now()
	if !client.isGitHubApp() {
		tok := newGitHubToken("gho")
		g.tokens[tok] = &ghToken{kind: "gho", login: login, clientID: client.clientID, scope: scope}
		return &ghTokenGrant{AccessToken: tok, Scope: scope, TokenType: "bearer"}
	}
	tok, ref := newGitHubToken("ghu"), newGitHubToken("ghr")
	g.tokens[tok] = &ghToken{kind: "ghu", login: login, clientID: client.clientID, appID: client.appID,
		expires: now.Add(GitHubUserTokenLifetime)}
	g.refresh.Issue(ref, &authserver.RefreshToken[ghRefresh]{ClientID: client.clientID,
		Expires: now.Add(GitHubRefreshTokenLifetime), Grant: ghRefresh{login: login, access: tok}})
	exp, rexp := int64(GitHubUserTokenLifetime/time.Second), int64(GitHubRefreshTokenLifetime/time.Second)
	return &ghTokenGrant{AccessToken: tok, ExpiresIn: &exp, RefreshToken: ref, RefreshTokenExpiresIn: &rexp,
		Scope: "", TokenType: "bearer"}
}
