package gate

import (
	"encoding/json"
	"net/http"
	"strings"

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
}

func (g *Gate) fail(w http.ResponseWriter, r *http.Request, p problem) {
	if p.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", RetryAfter)
	}
	if wantsHTML(r) {
		pages.RenderError(w, pages.Error{
			Title: g.Title, Status: p.status, Heading: p.heading, Message: p.message,
			Code: p.code, Retry: p.retry, Home: "/",
		})
		return
	}
	body := map[string]any{"error": p.code, "message": p.message}
	if p.status == http.StatusUnauthorized {
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
		heading: "Not found", message: "There is no such page.",
	}
)

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method_not_allowed"})
}
