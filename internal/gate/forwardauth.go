package gate

import (
	"net/http"
	"net/url"
	"strings"
)

// serveForwardAuth is the check endpoint for other proxies (Caddy
// forward_auth, nginx auth_request, Traefik ForwardAuth). It answers 200
// with the identity headers, 403 when an allow rule denies, 503 when the
// store is down, and otherwise 401 — or, for browser navigations, 302 to
// the login page with the original URL (taken from X-Forwarded-Proto,
// -Host and -Uri, and validated like any rd) as the return target. Add
// ?redirect=false for proxies that only understand 401 (nginx).
func (g *Gate) serveForwardAuth(w http.ResponseWriter, r *http.Request) {
	s, tok, _, machine, out := g.identify(w, r)
	switch out {
	case answered:
		return
	case ended:
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthenticated", "login_url": g.Prefix + "/login"})
		return
	case storeDown:
		g.fail(w, r, errStoreDown)
		return
	case tooLarge:
		writeJSON(w, http.StatusRequestHeaderFieldsTooLarge, map[string]string{"error": "cookie_too_large"})
		return
	case noSession:
		login := g.Prefix + "/login"
		if origin, ok := g.origin(r); ok {
			login = origin.Scheme + "://" + origin.Host + login
		}
		if rd := forwardedURL(r); rd != "" {
			login = g.loginURLAt(login, rd)
		}
		method := r.Header.Get("X-Forwarded-Method")
		if method == "" {
			method = r.Method
		}
		if r.URL.Query().Get("redirect") != "false" && (method == http.MethodGet || method == http.MethodHead) && wantsHTML(r) {
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, login, http.StatusFound)
			return
		}
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthenticated", "login_url": login})
		return
	}
	if !g.admits(w, r, s, tok, machine) {
		return
	}
	p := g.project(r, tok, s)
	g.Headers.ApplyValues(w.Header(), p.headers, p.jwt, g.accessToken(s))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

func (g *Gate) loginURLAt(base, rd string) string {
	return base + "?rd=" + url.QueryEscape(rd)
}

// forwardedURL rebuilds the original URL from the X-Forwarded-* headers a
// proxy sends with a forward-auth check. The result is only ever used as
// an rd value, which is validated before use.
func forwardedURL(r *http.Request) string {
	proto := r.Header.Get("X-Forwarded-Proto")
	host := r.Header.Get("X-Forwarded-Host")
	uri := r.Header.Get("X-Forwarded-Uri")
	if host == "" || (proto != "http" && proto != "https") || !strings.HasPrefix(uri, "/") {
		return ""
	}
	return proto + "://" + host + uri
}
