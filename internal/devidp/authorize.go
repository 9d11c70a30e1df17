package devidp

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
)

// challengePattern matches an S256 code challenge: base64url of 32 bytes.
var challengePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// serveAuthorize handles the authorization endpoint: GET is an
// authorization request, POST is the sign-in form.
func (p *Provider) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		p.authorizationRequest(w, r)
	case http.MethodPost:
		p.signInSubmit(w, r)
	default:
		allowMethods(w, r, http.MethodGet, http.MethodPost)
	}
}

// authorizationRequest validates an authorization request and shows the
// sign-in page, or signs in the auto-login user.
//
// Problems with client_id or redirect_uri are shown on an error page:
// redirecting to an unverified URI would make the provider an open
// redirector. Other problems are sent back to the client's redirect URI as
// RFC 6749 section 4.1.2.1 says.
func (p *Provider) authorizationRequest(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	client, autoLogin, problem := p.authorizeClient(q)
	if problem != "" {
		p.rejectAuthorize(w, problem)
		return
	}
	clientID, redirectURI := client.ID, q.Get("redirect_uri")

	// From here on, errors go back to the client.
	state := q.Get("state")
	fail := func(code, desc string) {
		p.log.Info("devidp: rejected authorization request", "client_id", clientID, "error", code, "description", desc)
		p.authResponse(w, r, redirectURI, url.Values{"error": {code}, "error_description": {desc}, "state": {state}})
	}
	for k, v := range q {
		if len(v) > 1 {
			fail("invalid_request", fmt.Sprintf("parameter %s appears more than once", k))
			return
		}
	}
	scopes := strings.Fields(q.Get("scope"))
	switch {
	case q.Has("request"):
		fail("request_not_supported", "request objects are not supported")
	case q.Has("request_uri"):
		fail("request_uri_not_supported", "request_uri is not supported")
	case q.Get("response_type") == "":
		fail("invalid_request", "response_type is required")
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", fmt.Sprintf("response_type %q is not supported; use code", q.Get("response_type")))
	case q.Has("response_mode") && q.Get("response_mode") != "query":
		fail("invalid_request", fmt.Sprintf("response_mode %q is not supported; use query", q.Get("response_mode")))
	case !slices.Contains(scopes, "openid"):
		fail("invalid_scope", "scope must include openid")
	case unknownScope(scopes) != "":
		fail("invalid_scope", fmt.Sprintf("scope %q is not supported (supported: %s)", unknownScope(scopes), strings.Join(supportedScopes, " ")))
	case state == "":
		fail("invalid_request", "state is required")
	case q.Get("code_challenge") == "":
		fail("invalid_request", "code_challenge is required (PKCE with S256)")
	case q.Get("code_challenge_method") != "S256":
		fail("invalid_request", fmt.Sprintf("code_challenge_method %q is not supported; use S256", q.Get("code_challenge_method")))
	case !challengePattern.MatchString(q.Get("code_challenge")):
		fail("invalid_request", "code_challenge is not a base64url-encoded SHA-256 hash")
	case slices.Contains(strings.Fields(q.Get("prompt")), "none") && len(strings.Fields(q.Get("prompt"))) > 1:
		fail("invalid_request", "prompt=none cannot be combined with other prompt values")
	case slices.Contains(strings.Fields(q.Get("prompt")), "none") && autoLogin == "":
		fail("login_required", "there is no sign-in session; prompt=none needs SetAutoLogin")
	default:
		req := authRequest{
			client:      client,
			redirectURI: redirectURI,
			scopes:      dedupe(scopes),
			state:       state,
			nonce:       q.Get("nonce"),
			challenge:   q.Get("code_challenge"),
			loginHint:   q.Get("login_hint"),
		}
		if autoLogin != "" {
			p.signIn(w, r, req, autoLogin)
			return
		}
		p.showSignIn(w, req)
	}
}

// authorizeClient finds the client and checks the redirect URI of an
// authorization request; it returns the client and the auto-login user,
// or why the request cannot be trusted (for the error page).
func (p *Provider) authorizeClient(q url.Values) (client Client, autoLogin, problem string) {
	for k, v := range q {
		if len(v) > 1 && (k == "client_id" || k == "redirect_uri") {
			return client, "", fmt.Sprintf("The parameter %s appears more than once.", k)
		}
	}
	clientID, redirectURI := q.Get("client_id"), q.Get("redirect_uri")
	if clientID == "" {
		return client, "", "The request has no client_id."
	}
	p.mu.Lock()
	client, ok := p.client(clientID)
	autoLogin = p.hooks.autoLogin
	p.mu.Unlock()
	switch {
	case !ok:
		return client, "", fmt.Sprintf("No client with ID %q is registered.", clientID)
	case redirectURI == "":
		return client, "", "The request has no redirect_uri."
	case !slices.Contains(client.RedirectURIs, redirectURI):
		return client, "", fmt.Sprintf("The redirect_uri %q is not registered for client %q. Registered: %s.",
			redirectURI, clientID, strings.Join(client.RedirectURIs, ", "))
	}
	return client, autoLogin, ""
}

// rejectAuthorize shows the error page for a request whose client or
// redirect URI cannot be trusted.
func (p *Provider) rejectAuthorize(w http.ResponseWriter, reason string) {
	p.log.Info("devidp: rejected authorization request", "reason", reason)
	p.renderError(w, http.StatusBadRequest, "This sign-in link is not valid",
		"The identity provider refused the request and did not send you back to the application, because it cannot trust where to send you.", reason)
}

// showSignIn parks req and renders the sign-in page for it.
func (p *Provider) showSignIn(w http.ResponseWriter, req authRequest) {
	now := p.opts.Now()
	id := authserver.RandomToken(prefixLogin)
	p.mu.Lock()
	p.sweep(now)
	p.logins[id] = &loginRequest{req: req, expires: now.Add(SignInTTL)}
	p.mu.Unlock()
	p.renderSignInFor(w, http.StatusOK, id, req, req.loginHint, "")
}

// renderSignInFor renders the sign-in page of the parked login id (for
// req), with username filled in and problem shown.
func (p *Provider) renderSignInFor(w http.ResponseWriter, status int, id string, req authRequest, username, problem string) {
	p.mu.Lock()
	users := make([]User, len(p.users))
	copy(users, p.users)
	p.mu.Unlock()
	p.renderSignIn(w, status, signInData{
		LoginID:  id,
		Client:   req.client.displayName(),
		Users:    users,
		Username: username,
		Problem:  problem,
		Return:   redirectHost(req.redirectURI),
		target:   req.redirectURI,
	})
}

// signInSubmit handles the sign-in form: a picked user, a typed username,
// or "deny".
func (p *Provider) signInSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.renderError(w, http.StatusBadRequest, "The form could not be read", "Go back to the application and sign in again.", err.Error())
		return
	}
	id := r.PostForm.Get("login")
	now := p.opts.Now()
	p.mu.Lock()
	login, ok := p.logins[id]
	if ok && now.After(login.expires) {
		delete(p.logins, id)
		ok = false
	}
	p.mu.Unlock()
	if !ok {
		p.renderError(w, http.StatusBadRequest, "This sign-in page has expired",
			"Go back to the application and sign in again.", "The sign-in request was already used or is too old.")
		return
	}
	req := login.req

	if r.PostForm.Get("action") == "deny" {
		p.consumeLogin(id)
		p.log.Info("devidp: user denied access", "client_id", req.client.ID)
		p.authResponse(w, r, req.redirectURI, url.Values{"error": {"access_denied"}, "error_description": {"the user cancelled the sign-in"}, "state": {req.state}})
		return
	}
	username := r.PostForm.Get("user")
	if username == "" {
		username = strings.TrimSpace(r.PostForm.Get("username"))
	}
	if err := checkUsername(username); err != nil {
		p.renderSignInFor(w, http.StatusBadRequest, id, req, username,
			"Usernames may contain only letters, digits and . _ - + @ (at most 64).")
		return
	}
	if !p.consumeLogin(id) {
		p.renderError(w, http.StatusBadRequest, "This sign-in page has expired",
			"Go back to the application and sign in again.", "The sign-in request was already used.")
		return
	}
	p.signIn(w, r, req, username)
}

// consumeLogin removes a parked sign-in request, reporting whether it was
// still there.
func (p *Provider) consumeLogin(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.logins[id]
	delete(p.logins, id)
	return ok
}

// signIn issues a code for username and sends the browser back to the
// client.
func (p *Provider) signIn(w http.ResponseWriter, r *http.Request, req authRequest, username string) {
	now := p.opts.Now()
	p.mu.Lock()
	user := p.resolveUser(username)
	sid := p.startSession(user, req.client.ID, now)
	code := p.issueCode(req, user, sid, now)
	p.mu.Unlock()
	p.log.Info("devidp: signed in", "user", user.Username, "sub", user.Subject, "client_id", req.client.ID, "sid", sid)
	p.authResponse(w, r, req.redirectURI, url.Values{"code": {code}, "state": {req.state}})
}

// authResponse sends an authorization response to redirectURI: params plus
// the iss parameter (RFC 9207).
func (p *Provider) authResponse(w http.ResponseWriter, r *http.Request, redirectURI string, params url.Values) {
	params.Set("iss", p.issuer)
	p.redirect(w, r, redirectURI, params)
}

// redirect sends the browser to redirectURI with params added to its
// query. Empty params are left out.
func (p *Provider) redirect(w http.ResponseWriter, r *http.Request, redirectURI string, params url.Values) {
	u, err := url.Parse(redirectURI)
	if err != nil { // registered URIs were validated
		p.renderError(w, http.StatusInternalServerError, "Bad redirect URI", "The identity provider could not send you back.", err.Error())
		return
	}
	q := u.Query()
	for k, v := range params {
		if len(v) > 0 && v[0] != "" {
			q.Set(k, v[0])
		}
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// unknownScope returns the first scope not in supportedScopes, or "".
func unknownScope(scopes []string) string {
	for _, s := range scopes {
		if !slices.Contains(supportedScopes, s) {
			return s
		}
	}
	return ""
}

// dedupe returns ss without repeats, in first-seen order.
func dedupe(ss []string) []string {
	var out []string
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// redirectHost is the host shown as "you'll return to" on the sign-in page.
func redirectHost(redirectURI string) string {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return ""
	}
	return u.Host
}

// redirectOrigin returns the scheme://host of redirectURI, or "".
func redirectOrigin(redirectURI string) string {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
