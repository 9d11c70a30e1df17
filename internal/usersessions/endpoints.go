package usersessions

import (
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/kit"
	"github.com/gatehouse-auth/gatehouse/internal/pages"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// endpoints serves the sessions' endpoints with the engine's kit.
type endpoints struct {
	s *Service
	k kit.Kit
	m *session.Manager
}

// Listed is one session as GET {prefix}/sessions answers it in JSON.
type Listed struct {
	// ID is the session's public handle: what {prefix}/sessions/{id}/end
	// takes. It is neither the token nor its store key.
	ID string `json:"id"`
	// CreatedAt is when the session signed in (RFC 3339, UTC).
	CreatedAt string `json:"created_at"`
	// LastSeenAt is when it was last used, to within session.SeenEvery.
	LastSeenAt string `json:"last_seen_at"`
	// IP and UserAgent are the client's when it signed in.
	IP        string `json:"ip"`
	UserAgent string `json:"user_agent"`
	// Provider is the name of the provider signed in with.
	Provider string `json:"provider"`
	// Current marks the session the request was made with.
	Current bool `json:"current"`
}

// serveList answers GET {prefix}/sessions: the signed-in user's sessions,
// the most recently used first.
func (e *endpoints) serveList(w http.ResponseWriter, r *http.Request, _ string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		e.k.MethodNotAllowed(w, "GET, HEAD")
		return
	}
	sess, tok, ok := e.k.RequireSession(w, r)
	if !ok {
		return
	}
	list, err := e.m.List(r.Context(), sess.UserID)
	if err != nil {
		e.k.Log(r).Warn("cannot list the user's sessions", zap.Error(err))
		e.k.StoreDown(w, r)
		return
	}
	current := e.m.Handle(tok)
	if e.k.WantsPage(r) {
		page := pages.Sessions{
			Brand: e.k.Brand(), User: sess.DisplayName(), Base: e.k.Prefix() + "/sessions",
			CSRF: e.k.CSRFToken(tok), Logout: e.k.Prefix() + "/logout", Home: "/",
		}
		for _, l := range list {
			page.Sessions = append(page.Sessions, pages.Session{
				ID: l.Handle, Current: l.Handle == current, Provider: l.Provider,
				IP: l.IP, UserAgent: l.UserAgent, Created: l.CreatedAt, LastSeen: lastSeen(l.Session),
			})
			page.Others = page.Others || l.Handle != current
		}
		pages.RenderSessions(w, page)
		return
	}
	out := make([]Listed, 0, len(list))
	for _, l := range list {
		out = append(out, Listed{
			ID: l.Handle, CreatedAt: rfc3339(l.CreatedAt), LastSeenAt: rfc3339(lastSeen(l.Session)),
			IP: l.IP, UserAgent: l.UserAgent, Provider: l.Provider, Current: l.Handle == current,
		})
	}
	e.k.JSON(w, http.StatusOK, map[string]any{"sessions": out})
}

// serveEnd dispatches POST {prefix}/sessions/{id}/end and POST
// {prefix}/sessions/end-others.
func (e *endpoints) serveEnd(w http.ResponseWriter, r *http.Request, rest string) {
	id, sub, _ := strings.Cut(rest, "/")
	switch {
	case rest == "end-others":
	case sub == "end" && id != "":
	default:
		e.k.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		e.k.MethodNotAllowed(w, "POST")
		return
	}
	sess, tok, ok := e.authorize(w, r)
	if !ok {
		return
	}
	if rest == "end-others" {
		e.endOthers(w, r, sess, tok)
		return
	}
	e.endOne(w, r, sess, tok, id)
}

// authorize holds a request that ends sessions to the sign-out form's
// checks (kit.RequireForm).
func (e *endpoints) authorize(w http.ResponseWriter, r *http.Request) (*session.Session, string, bool) {
	return e.k.RequireForm(w, r, e.k.Prefix()+"/sessions")
}

// endOne ends the user's session id: 404 when the user has no such
// session (another user's, an ended one, a malformed id), and nothing
// changes.
func (e *endpoints) endOne(w http.ResponseWriter, r *http.Request, sess *session.Session, tok, id string) {
	current := id == e.m.Handle(tok)
	ended, err := e.m.End(r.Context(), sess.UserID, id)
	if err != nil {
		e.k.Log(r).Warn("cannot end a session", zap.Error(err))
		e.k.StoreDown(w, r)
		return
	}
	if ended == nil {
		e.k.Fail(w, r, kit.Problem{Status: http.StatusNotFound, Code: "no_such_session", Heading: "No such session",
			Message: "You have no session with this id; it may have ended already.", Retry: e.k.Prefix() + "/sessions"})
		return
	}
	e.k.Log(r).Info("session ended by its user", zap.String("user_id", sess.UserID), zap.Bool("current", current))
	e.k.RevokeTokens(ended)
	if current {
		e.k.ClearSessionCookie(w)
	}
	e.done(w, r, 1, current)
}

// endOthers ends every session of the user but the current one.
func (e *endpoints) endOthers(w http.ResponseWriter, r *http.Request, sess *session.Session, tok string) {
	ended, err := e.m.EndOthers(r.Context(), sess.UserID, tok)
	for _, s := range ended {
		e.k.RevokeTokens(s)
	}
	if err != nil {
		e.k.Log(r).Warn("cannot end the other sessions", zap.Int("ended", len(ended)), zap.Error(err))
		e.k.StoreDown(w, r)
		return
	}
	e.k.Log(r).Info("other sessions ended by their user", zap.String("user_id", sess.UserID), zap.Int("ended", len(ended)))
	e.done(w, r, len(ended), false)
}

// done answers a request that ended n sessions: for a browser's form, a
// redirect back to the sessions page, or to the signed-out page when the
// browser's own session ended; JSON {"ended": n} for other clients.
func (e *endpoints) done(w http.ResponseWriter, r *http.Request, n int, signedOut bool) {
	if !e.k.WantsPage(r) {
		e.k.JSON(w, http.StatusOK, map[string]int{"ended": n})
		return
	}
	target := e.k.Prefix() + "/sessions"
	if signedOut {
		target = e.k.Prefix() + "/logout"
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// lastSeen is when s was last used: LastSeenAt, or its sign-in for a
// session stored before LastSeenAt was kept.
func lastSeen(s *session.Session) time.Time {
	if s.LastSeenAt.After(s.CreatedAt) {
		return s.LastSeenAt
	}
	return s.CreatedAt
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }
