package gate

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// maxCookieBytes bounds the Cookie header; larger requests are refused
// with 431 before any store call.
const maxCookieBytes = 16 << 10

// errHeadersTooLarge is returned by authenticate for oversized cookies.
var errHeadersTooLarge = errors.New("cookie header too large")

// credential finds the session token in the request: the session cookie,
// else an "Authorization: Bearer" header carrying a Gatehouse token. It
// reports whether the token came from the Authorization header.
func (g *Gate) credential(r *http.Request) (tok string, bearer bool, err error) {
	size := 0
	for _, line := range r.Header["Cookie"] {
		size += len(line)
	}
	if size > maxCookieBytes {
		return "", false, errHeadersTooLarge
	}
	if v := cookieValue(r.Header["Cookie"], g.Cookie.Name); v != "" {
		return v, false, nil
	}
	if t := g.sessionBearer(r.Header); t != "" {
		return t, true, nil
	}
	return "", false, nil
}

// sessionBearer returns the Gatehouse session token an "Authorization:
// Bearer" header carries, or "" when it carries none (another kind of
// bearer token is the upstream's business).
func (g *Gate) sessionBearer(h http.Header) string {
	for _, a := range h["Authorization"] {
		if len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
			if t := strings.TrimSpace(a[7:]); g.Sessions.Valid(t) {
				return t
			}
		}
	}
	return ""
}

// stripSessionBearer removes an Authorization header that carries a
// Gatehouse session token: the token is a credential for Gatehouse, never
// for the upstream, whatever the route.
func (g *Gate) stripSessionBearer(h http.Header) {
	if g.sessionBearer(h) != "" {
		h.Del("Authorization")
	}
}

// cookieValue returns the first value of the named cookie whose shape is
// plausible, without parsing every cookie.
func cookieValue(lines []string, name string) string {
	for _, line := range lines {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.TrimSpace(part)
			k, v, ok := strings.Cut(part, "=")
			if ok && k == name && v != "" {
				return strings.Trim(v, `"`)
			}
		}
	}
	return ""
}

// outcome of looking a request's session up.
type outcome int

const (
	noSession outcome = iota
	haveSession
	storeDown
	tooLarge
	// ended: the session's provider access is gone (keep refused it).
	ended
	// answered: the request's bearer JWT did not verify, and was answered.
	answered
)

// authenticate loads the request's session, the caller's own to modify.
// A store failure is reported as storeDown and never as a missing
// session, so an outage does not log users out.
func (g *Gate) authenticate(r *http.Request) (*session.Session, string, bool, outcome) {
	return g.loadSession(r, g.Sessions.Load)
}

// peekSession is authenticate for the request path: the session may be
// the cache's own, to read only (see mutable).
func (g *Gate) peekSession(r *http.Request) (*session.Session, string, bool, outcome) {
	return g.loadSession(r, g.Sessions.Peek)
}

func (g *Gate) loadSession(r *http.Request, load func(context.Context, string) (*session.Session, error)) (*session.Session, string, bool, outcome) {
	tok, bearer, err := g.credential(r)
	if err != nil {
		return nil, "", false, tooLarge
	}
	if tok == "" {
		return nil, "", false, noSession
	}
	s, err := load(r.Context(), tok)
	switch {
	case err == nil:
	case errors.Is(err, session.ErrMalformed), errors.Is(err, session.ErrNoSession):
		return nil, tok, bearer, noSession
	default:
		g.log(r).Warn("session store unavailable", zap.Error(err))
		return nil, tok, bearer, storeDown
	}
	if !g.sessionHostOK(r, s.Host) {
		return nil, tok, bearer, noSession
	}
	return s, tok, bearer, haveSession
}

// identify finds who a request to the upstream (or to /auth) is from: the
// session of its Gatehouse credential, brought up to date by keep (and
// the cache's own, to read only), or, without such a credential, a
// trusted issuer's JWT (machine: an identity never stored). A JWT that
// does not verify is answered here (answered).
func (g *Gate) identify(w http.ResponseWriter, r *http.Request) (s *session.Session, tok string, bearer, machine bool, out outcome) {
	s, tok, bearer, out = g.peekSession(r)
	switch {
	case out == noSession && tok == "":
		s, tok, done := g.bearerIdentity(w, r)
		switch {
		case done:
			return nil, "", false, false, answered
		case s != nil:
			return s, tok, true, true, haveSession
		}
		return nil, "", false, false, noSession
	case out != haveSession:
		return s, tok, bearer, false, out
	}
	s, ok := g.keep(r, tok, s)
	if !ok {
		return nil, tok, bearer, false, ended
	}
	return s, tok, bearer, false, haveSession
}

// admits applies the allow rules to s, answering 403 itself when they
// refuse. A machine they refuse is forgotten: anyone of its issuer's
// users may hold a valid token, and it must keep no room among the
// remembered ones.
func (g *Gate) admits(w http.ResponseWriter, r *http.Request, s *session.Session, tok string, machine bool) bool {
	if g.Policy.Allows(&s.User) {
		return true
	}
	if machine {
		g.Bearer.Forget(tok)
	}
	g.forbidden(w, r, s)
	return false
}
