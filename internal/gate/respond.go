package gate

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/pages"
)

// wantsHTML reports whether the client is a browser expecting a page.
func wantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// isNavigation reports whether the request is a browser navigation that
// can be redirected to a login page.
func isNavigation(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && wantsHTML(r)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// problem is an error answer: a page for browsers, JSON for others.
type problem struct {
	status  int
	code    string
	heading string
	message string
	retry   string
	// relogin: retry starts a new login; API clients get it as login_url.
	relogin bool
}

func (g *Gate) fail(w http.ResponseWriter, r *http.Request, p problem) {
	if p.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", RetryAfter)
	}
	if repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok && hasErrorRoutes(r) {
		// The site restyles errors with handle_errors: hand the error to
		// Caddy (ServeHTTP returns it) with the details as placeholders.
		repl.Set(errorStatusKey, p.status)
		repl.Set("http.auth.error.code", p.code)
		repl.Set("http.auth.error.heading", p.heading)
		repl.Set("http.auth.error.message", p.message)
		repl.Set("http.auth.error.retry", p.retry)
		return
	}
	if wantsHTML(r) {
		pages.RenderError(w, pages.Error{
			Brand: g.Brand, Status: p.status, Heading: p.heading, Message: p.message,
			Code: p.code, Retry: p.retry, Home: "/",
		})
		return
	}
	body := map[string]any{"error": p.code, "message": p.message}
	if p.status == http.StatusUnauthorized || p.relogin && p.retry != "" {
		body["login_url"] = p.retry
	}
	writeJSON(w, p.status, body)
}

var (
	errStoreDown = problem{
		status: http.StatusServiceUnavailable, code: "store_unavailable",
		heading: "Temporarily unavailable",
		message: "Sign-in is briefly unavailable. Please try again in a few seconds.",
	}
	errUnknownHost = problem{
		status: http.StatusMisdirectedRequest, code: "unknown_host",
		heading: "Unknown site",
		message: "This site's address is not configured for sign-in. The operator must give the site a host name or set external_url.",
	}
	errNotFound = problem{
		status: http.StatusNotFound, code: "not_found",
		heading: "Page not found", message: "There is no such page.",
	}
)

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method_not_allowed"})
}

// errorStatusKey marks, in the request's replacer, an error that fail left
// for the site's handle_errors routes.
const errorStatusKey = "http.auth.error.status_code"

// hasErrorRoutes reports whether the server has handle_errors routes that
// would handle this request (a site's handle_errors matches its hosts).
func hasErrorRoutes(r *http.Request) bool {
	srv, ok := r.Context().Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	if !ok || srv.Errors == nil {
		return false
	}
	for _, rt := range srv.Errors.Routes {
		if len(rt.MatcherSets) == 0 || rt.MatcherSets.AnyMatch(r) {
			return true
		}
	}
	return false
}

// deferredError returns the error fail left for handle_errors, if any.
func deferredError(r *http.Request) error {
	repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	if !ok {
		return nil
	}
	v, ok := repl.Get(errorStatusKey)
	if !ok {
		return nil
	}
	status, _ := v.(int)
	msg, _ := repl.GetString("http.auth.error.message")
	return caddyhttp.Error(status, errors.New(msg))
}

// log is the gate's logger with the request's id (Caddy's
// {http.request.uuid}), so a line can be matched to its request.
func (g *Gate) log(r *http.Request) *zap.Logger {
	if repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok {
		if id, ok := repl.GetString("http.request.uuid"); ok && id != "" {
			return g.Logger.With(zap.String("request_id", id))
		}
	}
	return g.Logger
}
