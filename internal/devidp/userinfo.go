package devidp

import (
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
)

// serveUserinfo handles the UserInfo endpoint: a valid access token, sent
// as "Authorization: Bearer" (or as access_token in a form POST body), gets
// the user's claims released by the token's scopes.
func (p *Provider) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	token, problem := bearerToken(w, r)
	if problem != "" {
		p.bearerError(w, r, http.StatusBadRequest, "invalid_request", problem)
		return
	}
	if token == "" {
		p.log.Info("devidp: userinfo without a token")
		w.Header().Set("WWW-Authenticate", `Bearer realm="devidp"`)
		http.Error(w, "an access token is required", http.StatusUnauthorized)
		return
	}
	now := p.opts.Now()
	p.mu.Lock()
	at, ok := p.access[token]
	var user User
	var scopes []string
	revoked := false
	if ok {
		// The grant may be revoked meanwhile (p.mu guards it): read it here.
		user, scopes, revoked = p.currentUser(at.grant), at.scopes, at.grant.revoked
	}
	mutate := p.hooks.mutateUserinfo
	p.mu.Unlock()
	switch {
	case !ok || revoked:
		p.bearerError(w, r, http.StatusUnauthorized, "invalid_token", "the access token is unknown or revoked")
		return
	case now.After(at.expires):
		p.bearerError(w, r, http.StatusUnauthorized, "invalid_token", "the access token expired")
		return
	case !slices.Contains(scopes, "openid"):
		p.bearerError(w, r, http.StatusForbidden, "insufficient_scope", "the access token lacks the openid scope")
		return
	}
	claims := user.claims(scopes)
	if mutate != nil {
		mutate(claims)
	}
	w.Header().Set("Cache-Control", "no-store")
	jsonOut.Write(w, http.StatusOK, claims)
}

// bearerToken extracts the access token from r (RFC 6750 sections 2.1 and
// 2.2); problem is set when r presents it wrongly.
func bearerToken(w http.ResponseWriter, r *http.Request) (token, problem string) {
	var fromHeader, fromBody string
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, value, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(value) == "" {
			return "", "the Authorization header must be \"Bearer <token>\""
		}
		fromHeader = strings.TrimSpace(value)
	}
	if r.Method == http.MethodPost {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if err := r.ParseForm(); err != nil {
				return "", fmt.Sprintf("reading the form: %v", err)
			}
			fromBody = r.PostForm.Get("access_token")
		}
	}
	if fromHeader != "" && fromBody != "" {
		return "", "the access token was sent in more than one way"
	}
	return fromHeader + fromBody, ""
}

// bearerError answers with an RFC 6750 error challenge.
func (p *Provider) bearerError(w http.ResponseWriter, r *http.Request, status int, code, desc string) {
	p.log.Info("devidp: rejected request", "path", r.URL.Path, "error", code, "description", desc)
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="devidp", error=%q, error_description=%q`, code, desc))
	w.Header().Set("Cache-Control", "no-store")
	jsonOut.Write(w, status, authserver.Error{Code: code, Description: desc})
}
