package gate

import (
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// assertionFor returns the signed identity assertion for s ("" when the
// header is off): iss is the site's origin, aud the request's host, sub
// the user id. It is signed once per session and identity and reused for
// a minute.
func (g *Gate) assertionFor(r *http.Request, tok string, s *session.Session) string {
	if g.Headers.Names().JWT == "" || g.Assertion == nil {
		return ""
	}
	issuer := "gatehouse"
	if origin, ok := g.origin(r); ok {
		issuer = origin.Scheme + "://" + origin.Host
	}
	jwt, err := g.Assertion.Token(tok, issuer, strings.ToLower(r.Host), &s.User)
	if err != nil {
		g.log(r).Error("cannot sign the identity assertion", zap.Error(err))
		return ""
	}
	return jwt
}

// serveJWKS publishes the keys that verify X-Auth-Jwt.
func (g *Gate) serveJWKS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET, HEAD")
		return
	}
	body, etag := g.Assertion.JWKS()
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/jwk-set+json")
	_, _ = w.Write(body)
}
