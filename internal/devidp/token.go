package devidp

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
)

// verifierPattern matches a PKCE code verifier (RFC 7636 section 4.1).
var verifierPattern = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// tokenResponse is a successful token endpoint response.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	Scope        string `json:"scope"`
}

// serveToken handles the token endpoint.
func (p *Provider) serveToken(w http.ResponseWriter, r *http.Request) {
	client, ok := p.tokenClient(w, r)
	if !ok {
		return
	}
	var e *authserver.Error
	var resp *tokenResponse
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "authorization_code":
		resp, e = p.redeemCode(client, r)
	case "refresh_token":
		resp, e = p.redeemRefresh(client, r)
	case "":
		e = authserver.InvalidRequest("grant_type is required")
	default:
		e = &authserver.Error{Status: http.StatusBadRequest, Code: "unsupported_grant_type", Description: fmt.Sprintf("grant_type %q is not supported", gt)}
	}
	if e != nil {
		p.writeOAuthError(w, r, e)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	jsonOut.Write(w, http.StatusOK, resp)
}

// codeProblems are the descriptions of invalid_grant for a code.
var codeProblems = map[authserver.Problem]string{
	authserver.Unknown:        "unknown authorization code",
	authserver.WrongClient:    "the authorization code was issued to another client",
	authserver.Used:           "the authorization code was already used; tokens issued with it are revoked",
	authserver.Expired:        "the authorization code expired",
	authserver.RedirectDiffer: "redirect_uri differs from the one in the authorization request",
	authserver.NoVerifier:     "code_verifier does not match the code_challenge",
	authserver.BadVerifier:    "code_verifier does not match the code_challenge",
}

// refreshProblems are the descriptions of invalid_grant for a refresh
// token.
var refreshProblems = map[authserver.Problem]string{
	authserver.Unknown:     "unknown refresh token",
	authserver.WrongClient: "the refresh token was issued to another client",
	authserver.Revoked:     "the refresh token was revoked",
	authserver.Used:        "the refresh token was already used; the grant is revoked",
	authserver.Expired:     "the refresh token expired",
}

// refuse turns a refusal of a code or refresh token into invalid_grant
// with its description, after revoking the grant of one presented again
// (reuse means it leaked), and releases p.mu; nil when problem is OK (p.mu
// stays held).
func (p *Provider) refuse(problem authserver.Problem, g *grant, descriptions map[authserver.Problem]string) *authserver.Error {
	if problem == authserver.OK {
		return nil
	}
	if problem == authserver.Used {
		p.revokeGrant(g)
	}
	p.mu.Unlock()
	return authserver.InvalidGrant(descriptions[problem])
}

// redeemCode exchanges an authorization code. Any attempt to redeem a code
// by its client consumes it; redeeming it again revokes the tokens the
// first redemption issued (RFC 6749 section 4.1.2).
func (p *Provider) redeemCode(client Client, r *http.Request) (*tokenResponse, *authserver.Error) {
	form := r.PostForm
	code, redirectURI, verifier := form.Get("code"), form.Get("redirect_uri"), form.Get("code_verifier")
	switch {
	case code == "":
		return nil, authserver.InvalidRequest("code is required")
	case redirectURI == "":
		return nil, authserver.InvalidRequest("redirect_uri is required")
	case verifier == "":
		return nil, authserver.InvalidRequest("code_verifier is required (PKCE)")
	case !verifierPattern.MatchString(verifier):
		return nil, authserver.InvalidRequest("code_verifier must be 43 to 128 characters from A-Z a-z 0-9 - . _ ~")
	}

	now := p.opts.Now()
	p.mu.Lock()
	c, problem := p.codes.Redeem(code, client.ID, redirectURI, verifier, now)
	if e := p.refuse(problem, c.Granted(), codeProblems); e != nil {
		return nil, e
	}
	g := c.Grant
	access, refresh := p.issueTokens(g, g.scopes, now)
	p.mu.Unlock()
	if p.opts.RefreshOnlyOffline && !slices.Contains(g.scopes, "offline_access") {
		refresh = "" // never handed out, so never redeemable
	}

	return p.tokenResponse(g, g.user, g.scopes, access, refresh, g.nonce, now)
}

// redeemRefresh exchanges a refresh token, rotating it. Presenting a
// refresh token that was already rotated revokes the whole grant, as
// refresh token reuse means it leaked (RFC 9700 section 4.14.2).
func (p *Provider) redeemRefresh(client Client, r *http.Request) (*tokenResponse, *authserver.Error) {
	token := r.PostForm.Get("refresh_token")
	if token == "" {
		return nil, authserver.InvalidRequest("refresh_token is required")
	}
	now := p.opts.Now()
	p.mu.Lock()
	rt, problem := p.refresh.Use(token, client.ID, now)
	if e := p.refuse(problem, rt.Granted(), refreshProblems); e != nil {
		return nil, e
	}
	g := rt.Grant
	scopes := g.scopes
	if s := r.PostForm.Get("scope"); s != "" {
		scopes = dedupe(strings.Fields(s))
		for _, sc := range scopes {
			if !slices.Contains(g.scopes, sc) {
				p.mu.Unlock()
				return nil, &authserver.Error{Status: http.StatusBadRequest, Code: "invalid_scope", Description: fmt.Sprintf("scope %q was not granted", sc)}
			}
		}
	}
	rt.Rotated = true
	g.user = p.currentUser(g)
	user := g.user
	access, refresh := p.issueTokens(g, scopes, now)
	p.mu.Unlock()

	return p.tokenResponse(g, user, scopes, access, refresh, "", now)
}

// tokenResponse builds a token response, with an ID token when scopes
// include openid.
func (p *Provider) tokenResponse(g *grant, user User, scopes []string, access, refresh, nonce string, now time.Time) (*tokenResponse, *authserver.Error) {
	resp := &tokenResponse{
		AccessToken:  access,
		TokenType:    "Bearer",
		ExpiresIn:    int64(p.opts.TokenTTL / time.Second),
		RefreshToken: refresh,
		Scope:        strings.Join(scopes, " "),
	}
	if slices.Contains(scopes, "openid") {
		idToken, err := p.signIDToken(p.idTokenClaims(g, user, scopes, access, nonce, now))
		if err != nil {
			p.log.Error("devidp: signing ID token", "error", err)
			return nil, &authserver.Error{Status: http.StatusInternalServerError, Code: "server_error", Description: "could not sign the ID token"}
		}
		resp.IDToken = idToken
	}
	return resp, nil
}
