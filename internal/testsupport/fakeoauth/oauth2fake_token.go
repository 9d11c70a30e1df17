package fakeoauth

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
)

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
	cred, problem := authserver.ClientCredentials(r, params)
	switch problem {
	case authserver.TwoMethods:
		return params, "", "", true, nil
	case authserver.MalformedBasicID, authserver.MalformedBasicSecret:
		return params, "", "", false, nil // an unknown client
	}
	return params, cred.ID, cred.Secret, false, nil
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
	if !authserver.Delay(r, delay) {
		return
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
	} else if !authserver.SecretEqual(want, secret) {
		sh.tokenError(w, o2ErrBadSecret, clientID)
		return
	}

	if grant == "authorization_code" {
		code := params.Get("code")
		if code == "" {
			sh.tokenError(w, o2ErrMissingParam, "code")
			return
		}
		if c := f.codes.Get(code); c != nil && c.Grant.tenant != tenant {
			sh.tokenError(w, o2ErrUnknownCode, "")
			return
		}
		c, problem := f.codes.Redeem(code, clientID, params.Get("redirect_uri"), params.Get("code_verifier"), time.Now())
		if problem != authserver.OK {
			sh.tokenError(w, o2CodeErrors[problem], "")
			return
		}
		f.issue(w, r, c.ClientID, c.Grant.scope, c.Grant.tenant, c.Grant.nonce, c.Grant.user)
		return
	}

	rt := params.Get("refresh_token")
	if rt == "" {
		sh.tokenError(w, o2ErrMissingParam, "refresh_token")
		return
	}
	old, problem := f.refresh.Use(rt, clientID, time.Now())
	if problem != authserver.OK {
		sh.tokenError(w, o2RefreshErrors[problem], "")
		return
	}
	switch sh.rotation {
	case o2RotateRevokeBoth:
		old.Revoked = true
		if g := f.access[old.Grant.access]; g != nil {
			g.revoked = true
		}
	case o2RotateRevokeRefresh:
		old.Revoked = true
		if g := f.access[old.Grant.access]; g != nil && g.expires.After(time.Now().Add(sh.accessGrace)) {
			g.expires = time.Now().Add(sh.accessGrace)
		}
	case o2RotateKeep:
	}
	f.issue(w, r, old.ClientID, old.Grant.scope, old.Grant.tenant, old.Grant.nonce, old.Grant.user)
}

// o2CodeErrors and o2RefreshErrors map the core's refusals of a code or a
// refresh token to the token errors the shapes answer.
var (
	o2CodeErrors = map[authserver.Problem]o2TokenError{
		authserver.Unknown:        o2ErrUnknownCode,
		authserver.WrongClient:    o2ErrClientMismatch,
		authserver.Used:           o2ErrUsedCode,
		authserver.Expired:        o2ErrExpiredCode,
		authserver.RedirectDiffer: o2ErrRedirectMismatch,
		authserver.NoVerifier:     o2ErrPKCE,
		authserver.BadVerifier:    o2ErrPKCE,
	}
	o2RefreshErrors = map[authserver.Problem]o2TokenError{
		authserver.Unknown:     o2ErrUnknownRefresh,
		authserver.WrongClient: o2ErrClientMismatch,
		authserver.Revoked:     o2ErrRevokedRefresh,
		authserver.Used:        o2ErrRevokedRefresh,
		authserver.Expired:     o2ErrRevokedRefresh,
	}
)

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
		f.refresh.Issue(rt, &authserver.RefreshToken[o2Refresh]{ClientID: clientID,
			Grant: o2Refresh{scope: scope, tenant: tenant, nonce: nonce, user: user, access: at}})
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
	if !known || !authserver.SecretEqual(want, secret) {
		sh.revokeForbidden(w)
		return
	}
	tok := params.Get("token")
	hit := false
	if g := f.access[tok]; g != nil && g.clientID == clientID {
		g.revoked, hit = true, true
		if rt := f.refresh.Get(g.refresh); rt != nil {
			rt.Revoked = true
		}
	}
	if rt := f.refresh.Get(tok); rt != nil && rt.ClientID == clientID {
		rt.Revoked, hit = true, true
		if g := f.access[rt.Grant.access]; g != nil {
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

// o2JSON sends v as compact UTF-8 JSON, not to be cached.
func o2JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Cache-Control", "no-store")
	authserver.JSON{}.Write(w, status, v)
}

// o2Page sends a small HTML page.
func o2Page(w http.ResponseWriter, status int, title, bodyHTML string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s (fake)</title></head>\n<body><h1>%s</h1>\n%s\n</body></html>\n",
		html.EscapeString(title), html.EscapeString(title), bodyHTML)
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
