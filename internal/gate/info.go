package gate

import (
	"context"
	"net/http"
	"time"
)

// serveUserinfo answers with the current session's identity as JSON.
func (g *Gate) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET, HEAD")
		return
	}
	s, _, _, out := g.authenticate(r)
	switch out {
	case storeDown:
		g.fail(w, r, errStoreDown)
		return
	case noSession, tooLarge:
		writeJSON(w, http.StatusUnauthorized, map[string]string{
			"error": "unauthenticated", "login_url": g.Prefix + "/login",
		})
		return
	}
	body := s.User.JSON()
	body["created_at"] = s.CreatedAt
	body["expires_at"] = s.ExpiresAt
	writeJSON(w, http.StatusOK, body)
}

// serveHealthz reports whether the store answers.
func (g *Gate) serveHealthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := g.Store.Ping(ctx); err != nil {
		w.Header().Set("Retry-After", RetryAfter)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "store": "unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}
