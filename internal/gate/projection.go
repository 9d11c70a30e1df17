package gate

import (
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/assertion"
	"github.com/gatehouse-auth/gatehouse/internal/headers"
	"github.com/gatehouse-auth/gatehouse/internal/identity"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// projection is what a session's identity shows the upstream: its header
// values, its placeholders and its signed assertion. It is built once per
// cached session (kept in the session's Memo) and never modified; a new
// assertion makes a new projection.
type projection struct {
	headers *headers.Values
	// placeholders serves {http.auth.user.*}: Caddy's own authentication
	// handler's names, so they reach the access log and header_up.
	placeholders caddy.ReplacerFunc
	// jwt is the assertion for requests from jwtFor, until jwtExpires
	// comes within assertion.ReuseMargin.
	jwt        string
	jwtFor     site
	jwtExpires time.Time
}

// site is what an assertion depends on besides the identity: the
// request's host (its audience) and what the issuer, the site's origin,
// is derived from (scheme and listening port).
type site struct {
	host string
	tls  bool
	port int
}

func siteOf(r *http.Request) site {
	st := site{host: r.Host, tls: r.TLS != nil}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr); ok {
		st.port = a.Port
	}
	return st
}

// project returns the projection of s for r, building it (or signing a
// new assertion) only when s's Memo has none that fits.
func (g *Gate) project(r *http.Request, tok string, s *session.Session) *projection {
	m := s.Memo()
	p, _ := m.Load().(*projection)
	var st site
	if g.signs {
		st = siteOf(r)
	}
	if p == nil {
		p = &projection{headers: g.Headers.Values(&s.User), placeholders: placeholders(&s.User, s.Claims)}
	} else if !g.signs || p.jwtFor == st && time.Until(p.jwtExpires) > assertion.ReuseMargin {
		return p
	}
	if g.signs {
		next := *p
		next.jwt, next.jwtExpires = g.assertionFor(r, tok, s)
		next.jwtFor = st
		p = &next
	}
	m.Store(p)
	return p
}

// placeholders returns the {http.auth.user.*} values of u, each made
// once.
//
// A trusted issuer's claims passed on ("name=value") are served as
// {http.auth.user.claim.<name>}, and as {http.auth.user.<name>} where
// name is not a field's.
func placeholders(u *identity.User, claims []string) caddy.ReplacerFunc {
	vals := make([]any, len(identity.Fields))
	for i := range identity.Fields {
		if f := &identity.Fields[i]; f.Value != nil {
			vals[i] = f.Value(u)
		} else {
			vals[i] = strings.Join(f.List(u), ",")
		}
	}
	return func(key string) (any, bool) {
		name, ok := strings.CutPrefix(key, "http.auth.user.")
		if !ok {
			return nil, false
		}
		if i, ok := identity.ByPlaceholder(name); ok {
			return vals[i], true
		}
		name = strings.TrimPrefix(name, "claim.")
		for _, kv := range claims {
			if k, v, _ := strings.Cut(kv, "="); k == name {
				return v, true
			}
		}
		return nil, false
	}
}

// assertionFor signs the identity assertion of s for r: iss is the
// site's origin, aud the request's host, sub the user id. The signer
// reuses an assertion for a minute.
func (g *Gate) assertionFor(r *http.Request, tok string, s *session.Session) (string, time.Time) {
	issuer := "gatehouse"
	if origin, ok := g.origin(r); ok {
		issuer = origin.Scheme + "://" + origin.Host
	}
	jwt, exp, err := g.Assertion.Token(tok, issuer, strings.ToLower(r.Host), &s.User, s.Claims...)
	if err != nil {
		g.log(r).Error("cannot sign the identity assertion", zap.Error(err))
		return "", time.Time{}
	}
	return jwt, exp
}
