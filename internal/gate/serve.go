package gate

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/headers"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// ServeHTTP handles one request: Gatehouse's own endpoints under the
// prefix, public paths, and everything else only with a session.
//
// A panic in Gatehouse's own code is recovered and answered 500
// internal_error, never passed upstream; a panic in next is not touched
// (see recover.go for why, and for what Caddy does with it).
func (g *Gate) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) (err error) {
	downstream := false // set just before next runs: its panics are not ours
	defer func() {
		if downstream {
			return // no recover(): a panic carries on to net/http unchanged
		}
		if v := recover(); v != nil {
			err = g.recovered(w, r, v)
		}
	}()

	// Client-sent identity headers never survive, on any route: not as
	// headers, not named in Connection, not as trailers.
	g.Headers.Strip(r.Header)
	g.Headers.StripTrailers(r)

	p := r.URL.Path
	if p == g.Prefix || strings.HasPrefix(p, g.Prefix) && p[len(g.Prefix)] == '/' {
		tw := &trackingWriter{ResponseWriter: w}
		w = tw
		g.serveEndpoint(tw, r, p[len(g.Prefix):])
		return deferredError(r)
	}
	if g.Public != nil && g.Public.Match(r.URL) {
		headers.StripCookies(r.Header, g.ownCookies...)
		g.stripSessionBearer(r.Header)
		downstream = true
		return next.ServeHTTP(w, r)
	}

	s, tok, bearer, machine, out := g.identify(w, r)
	switch out {
	case answered:
		return deferredError(r)
	case tooLarge:
		writeJSON(w, http.StatusRequestHeaderFieldsTooLarge, map[string]string{"error": "cookie_too_large"})
		return nil
	case storeDown:
		g.fail(w, r, errStoreDown)
		return deferredError(r)
	case noSession, ended:
		if tok != "" && !bearer || out == ended {
			// The session is gone (expired, logged out, its provider
			// access ended): drop the cookie.
			http.SetCookie(w, g.sessionCookie("", 0))
		}
		g.unauthenticated(w, r)
		return nil
	}
	if !g.admits(w, r, s, tok, machine) {
		return deferredError(r)
	}

	headers.StripCookies(r.Header, g.ownCookies...)
	if bearer {
		r.Header.Del("Authorization")
	} else {
		g.stripSessionBearer(r.Header) // another session's token beside the cookie
	}
	id := g.project(r, tok, s)
	g.Headers.ApplyValues(r.Header, id.headers, id.jwt, g.accessToken(s))
	if repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok {
		repl.Map(id.placeholders)
	}
	downstream = true
	return next.ServeHTTP(w, r)
}

func (g *Gate) loginURL(rd string) string {
	return g.Prefix + "/login?rd=" + url.QueryEscape(rd)
}

// originalURI is the request URI as the client sent it, before any rewrite
// by earlier handlers.
func originalURI(r *http.Request) string {
	if or, ok := r.Context().Value(caddyhttp.OriginalRequestCtxKey).(http.Request); ok && or.URL != nil {
		return or.URL.RequestURI()
	}
	return r.URL.RequestURI()
}

// unauthenticated sends browsers to the login page and tells other
// clients where it is.
func (g *Gate) unauthenticated(w http.ResponseWriter, r *http.Request) {
	login := g.loginURL(originalURI(r))
	if isNavigation(r) {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, login, http.StatusFound)
		return
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
	writeJSON(w, http.StatusUnauthorized, map[string]string{
		"error":     "unauthenticated",
		"message":   "Sign in first.",
		"login_url": login,
	})
}

func (g *Gate) forbidden(w http.ResponseWriter, r *http.Request, s *session.Session) {
	g.log(r).Info("access denied by allow rules",
		zap.String("user_id", s.UserID), zap.String("provider", s.Provider))
	g.fail(w, r, problem{
		status: http.StatusForbidden, code: "access_denied",
		heading: "Access denied",
		message: "You are signed in as " + s.DisplayName() + ", but this account is not allowed here. Sign out to use another account.",
		retry:   g.Prefix + "/logout",
	})
}

// accessToken is the provider's access token for the upstream, "" unless
// pass_access_token is on.
func (g *Gate) accessToken(s *session.Session) string {
	if g.Headers.SendsAccessToken() {
		return s.AccessToken
	}
	return ""
}

// serveEndpoint dispatches the paths under the prefix. Nothing under the
// prefix is ever proxied upstream.
func (g *Gate) serveEndpoint(w http.ResponseWriter, r *http.Request, rest string) {
	if h, ok := g.endpoints[rest]; ok {
		h(w, r)
		return
	}
	for _, pr := range g.prefixRoutes {
		if tail, ok := strings.CutPrefix(rest, pr.prefix); ok {
			pr.serve(w, r, tail)
			return
		}
	}
	g.fail(w, r, errNotFound)
}

// prefixRoute serves the paths under the prefix that start with prefix,
// given what follows it.
type prefixRoute struct {
	prefix string
	serve  func(w http.ResponseWriter, r *http.Request, tail string)
}

// prefixes lists the endpoints whose path ends with a name or an id.
func (g *Gate) prefixes() []prefixRoute {
	return []prefixRoute{
		{"/login/", g.serveLoginStart},
		{"/callback/", g.serveCallback},
	}
}

// routes lists the endpoints under the prefix that have a fixed path.
func (g *Gate) routes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"/login":     g.serveChooser,
		"/logout":    g.serveLogout,
		"/userinfo":  g.serveUserinfo,
		"/auth":      g.serveForwardAuth,
		"/healthz":   g.serveHealthz,
		"/repos":     g.serveRepos,
		"/jwks.json": g.serveJWKS,
	}
}
