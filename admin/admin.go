// Package admin adds Gatehouse's endpoints to Caddy's admin API (module
// admin.api.gatehouse), so an operator can see and end a person's
// sessions — at offboarding, say — with Caddy's own admin access control
// (localhost by default; remote admin with its mTLS rules), and the
// "gatehouse sessions" command that calls them.
//
//	GET    /gatehouse/users/{user_id}/sessions
//	DELETE /gatehouse/users/{user_id}/sessions
//
// Both act on every Gatehouse handler of the running configuration.
package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/internal/registry"
)

func init() {
	caddy.RegisterModule(API{})
}

// API is the admin.api.gatehouse module. It has no configuration: Caddy
// loads every admin.api module with its admin endpoint.
type API struct{}

// Interface guard.
var _ caddy.AdminRouter = API{}

// CaddyModule returns the Caddy module information.
func (API) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "admin.api.gatehouse", New: func() caddy.Module { return API{} }}
}

// usersPath is where the endpoints are.
const usersPath = "/gatehouse/users/"

// maxUserID bounds a user id in the path, in bytes.
const maxUserID = 512

// Routes returns the admin routes.
func (API) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{{Pattern: usersPath, Handler: caddy.AdminHandlerFunc(serveUserSessions)}}
}

// SessionInfo is one session as the admin API shows it.
type SessionInfo struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	IP         string    `json:"ip,omitempty"`
	UserAgent  string    `json:"user_agent,omitempty"`
	Provider   string    `json:"provider"`
	Host       string    `json:"host"`
}

// Sessions is the answer to GET.
type Sessions struct {
	UserID   string        `json:"user_id"`
	Sessions []SessionInfo `json:"sessions"`
}

// Ended is the answer to DELETE.
type Ended struct {
	UserID string `json:"user_id"`
	// Ended is how many sessions ended.
	Ended int `json:"ended"`
	// TokensRevoked is how many of them had their provider tokens revoked.
	TokensRevoked int `json:"tokens_revoked"`
}

func serveUserSessions(w http.ResponseWriter, r *http.Request) error {
	userID, err := userOf(r.URL)
	if err != nil {
		return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: err}
	}
	if r.Method != http.MethodGet && r.Method != http.MethodDelete {
		w.Header().Set("Allow", "GET, DELETE")
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method %s not allowed; use GET or DELETE", r.Method)}
	}
	handlers := registry.All()
	if len(handlers) == 0 {
		return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("the running configuration has no gatehouse handler")}
	}
	noSession := caddy.APIError{HTTPStatus: http.StatusNotFound,
		Err: fmt.Errorf("user %q has no live session (an unknown user id, or every session has ended); "+
			"user ids are <provider>:<subject>, as in X-Auth-User-Id", userID)}
	if r.Method == http.MethodDelete {
		out := Ended{UserID: userID}
		for _, h := range handlers {
			ended, revoked, err := h.EndUserSessions(r.Context(), userID)
			out.Ended += ended
			out.TokensRevoked += revoked
			if err != nil {
				return caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: fmt.Errorf("ending sessions (%d ended so far): %w", out.Ended, err)}
			}
		}
		if out.Ended == 0 {
			return noSession
		}
		return writeJSON(w, out)
	}
	out := Sessions{UserID: userID, Sessions: []SessionInfo{}}
	seen := map[string]bool{}
	for _, h := range handlers {
		list, err := h.UserSessions(r.Context(), userID)
		if err != nil {
			return caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: fmt.Errorf("listing sessions: %w", err)}
		}
		for _, l := range list {
			if seen[l.Handle] { // handlers sharing a store see the same sessions
				continue
			}
			seen[l.Handle] = true
			out.Sessions = append(out.Sessions, SessionInfo{
				ID: l.Handle, CreatedAt: l.CreatedAt, LastSeenAt: l.LastSeenAt, ExpiresAt: l.ExpiresAt,
				IP: l.IP, UserAgent: l.UserAgent, Provider: l.Provider, Host: l.Host,
			})
		}
	}
	if len(out.Sessions) == 0 {
		return noSession
	}
	return writeJSON(w, out)
}

// userOf reads the user id of /gatehouse/users/{user_id}/sessions; the
// id is path-escaped ("corp%3A42" or "corp:42").
func userOf(u *url.URL) (string, error) {
	rest, ok := strings.CutPrefix(u.EscapedPath(), usersPath)
	if ok {
		rest, ok = strings.CutSuffix(rest, "/sessions")
	}
	if !ok || rest == "" || strings.Contains(rest, "/") {
		return "", fmt.Errorf("not found: use %s{user_id}/sessions", usersPath)
	}
	id, err := url.PathUnescape(rest)
	if err != nil || id == "" || len(id) > maxUserID || strings.ContainsAny(id, "\x00\r\n") {
		return "", fmt.Errorf("the user id in the path is not valid (path-escape it; at most %d bytes)", maxUserID)
	}
	return id, nil
}

func writeJSON(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	return json.NewEncoder(w).Encode(v)
}
