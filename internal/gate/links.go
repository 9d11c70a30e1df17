package gate

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/connections"
	"github.com/gatehouse-auth/gatehouse/internal/pages"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// ConnectionSecretHeader carries the shared secret with which the upstream
// fetches linked-account tokens.
const ConnectionSecretHeader = "X-Gatehouse-Secret"

// serveConnect dispatches {prefix}/connect/{name}[/callback|/session|/status/{id}].
func (g *Gate) serveConnect(w http.ResponseWriter, r *http.Request, rest string) {
	name, sub, _ := strings.Cut(rest, "/")
	if g.Links == nil || g.Links.Kind(name) == "" {
		g.fail(w, r, errNotFound)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET, HEAD")
		return
	}
	s, _, _, ok := g.requireSession(w, r)
	if !ok {
		return
	}
	origin, ok := g.origin(r)
	if !ok {
		g.fail(w, r, errUnknownHost)
		return
	}
	switch {
	case sub == "":
		g.serveLinkStart(w, r, s, name, origin)
	case sub == "callback":
		g.serveLinkCallback(w, r, s, name, origin)
	case sub == "session" && g.Links.Kind(name) == connections.KindNango:
		cs, err := g.Links.NangoSession(r.Context(), name, s.UserID)
		if err != nil {
			g.nangoFailed(w, r, "cannot create a Nango connect session", err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"token": cs.Token, "expires_at": cs.ExpiresAt})
	case strings.HasPrefix(sub, "status/") && g.Links.Kind(name) == connections.KindNango:
		id := strings.TrimPrefix(sub, "status/")
		if !validConnectionID(id) {
			g.fail(w, r, errNotFound)
			return
		}
		linked, err := g.Links.NangoLinked(r.Context(), s.UserID, name, id)
		if err != nil {
			g.fail(w, r, errStoreDown)
			return
		}
		if linked {
			g.refreshLinked(r, s.UserID)
		}
		writeJSON(w, http.StatusOK, map[string]any{"ready": linked, "redirect": g.Redirects.Target(r.URL.Query().Get("rd"), origin)})
	default:
		g.fail(w, r, errNotFound)
	}
}

func (g *Gate) linkCallbackURL(origin *url.URL, name string) string {
	return origin.Scheme + "://" + origin.Host + g.Prefix + "/connect/" + name + "/callback"
}

// serveLinkStart sends the signed-in user to the provider to link an
// account (or, for Nango, shows the Connect UI page).
func (g *Gate) serveLinkStart(w http.ResponseWriter, r *http.Request, s *session.Session, name string, origin *url.URL) {
	rd := g.Redirects.Target(r.URL.Query().Get("rd"), origin)
	if g.Links.Kind(name) == connections.KindNango {
		if g.Nango == nil {
			g.fail(w, r, errNotFound)
			return
		}
		g.renderConnect(w, r, pages.Connect{
			Brand: g.Brand, Heading: "Link your " + name + " account",
			Intro: "A window opens where you authorize " + name + ". This page continues by itself afterwards.",
			Retry: r.URL.RequestURI(),
			Config: pages.ConnectConfig{Kind: "connection", Session: g.Prefix + "/connect/" + name + "/session",
				Status: g.Prefix + "/connect/" + name + "/status", Redirect: rd},
		})
		return
	}
	binding, ok := g.flowBinding(w, r)
	if !ok {
		return
	}
	target, err := g.Links.Begin(r.Context(), name, s.UserID, binding, g.linkCallbackURL(origin, name), rd)
	if err != nil {
		g.linkFailed(w, r, name, err)
		return
	}
	http.SetCookie(w, g.bindingCookie(binding))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
}

// serveLinkCallback finishes linking and updates the user's sessions.
func (g *Gate) serveLinkCallback(w http.ResponseWriter, r *http.Request, s *session.Session, name string, origin *url.URL) {
	rd, err := g.Links.Finish(r.Context(), name, s.UserID, cookieValue(r.Header["Cookie"], g.bindingName), r.URL.Query())
	if err != nil {
		g.linkFailed(w, r, name, err)
		return
	}
	g.log(r).Info("account linked", zap.String("user_id", s.UserID), zap.String("connection", name))
	g.refreshLinked(r, s.UserID)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, g.Redirects.Target(rd, origin), http.StatusFound)
}

// refreshLinked writes the user's linked accounts into all the user's
// sessions (X-Auth-Connections).
func (g *Gate) refreshLinked(r *http.Request, userID string) {
	names, err := g.Links.Linked(r.Context(), userID)
	if err != nil {
		g.log(r).Warn("cannot list linked accounts", zap.Error(err))
		return
	}
	if err := g.Sessions.UpdateAll(r.Context(), userID, func(s *session.Session) { s.Connections = names }); err != nil {
		g.log(r).Warn("cannot update sessions with linked accounts", zap.Error(err))
	}
}

func (g *Gate) linkFailed(w http.ResponseWriter, r *http.Request, name string, err error) {
	retry := g.Prefix + "/connect/" + name
	switch {
	case errors.Is(err, connections.ErrExpired):
		g.fail(w, r, problem{status: http.StatusBadRequest, code: "link_expired", heading: "Link expired",
			message: "This link request expired or was already used. Please start again.", retry: retry})
	case errors.Is(err, connections.ErrForeign):
		g.fail(w, r, problem{status: http.StatusForbidden, code: "foreign_link", heading: "Link refused",
			message: "This link was started in another browser or by another account.", retry: retry})
	case errors.Is(err, connections.ErrDenied):
		g.fail(w, r, problem{status: http.StatusForbidden, code: "access_denied", heading: "Not linked",
			message: "The provider did not authorize the link.", retry: retry})
	default:
		g.log(r).Warn("linking failed", zap.String("connection", name), zap.Error(err))
		g.fail(w, r, problem{status: http.StatusBadGateway, code: "provider_unavailable", heading: "Link failed",
			message: "The provider could not be reached. Please try again in a moment.", retry: retry})
	}
}

// serveConnections dispatches {prefix}/connections[/{name}[/unlink|/token]].
func (g *Gate) serveConnections(w http.ResponseWriter, r *http.Request, rest string) {
	if g.Links == nil {
		g.fail(w, r, errNotFound)
		return
	}
	name, sub, _ := strings.Cut(rest, "/")
	switch {
	case name == "" && sub == "":
		g.serveConnectionList(w, r)
	case g.Links.Kind(name) == "":
		g.fail(w, r, errNotFound)
	case sub == "token":
		g.serveConnectionToken(w, r, name)
	case sub == "unlink" && r.Method == http.MethodPost, sub == "" && r.Method == http.MethodDelete:
		g.serveUnlink(w, r, name)
	case sub == "unlink", sub == "":
		methodNotAllowed(w, "POST")
	default:
		g.fail(w, r, errNotFound)
	}
}

func (g *Gate) serveConnectionList(w http.ResponseWriter, r *http.Request) {
	s, _, _, ok := g.requireSession(w, r)
	if !ok {
		return
	}
	links, err := g.Links.Links(r.Context(), s.UserID)
	if err != nil {
		g.fail(w, r, errStoreDown)
		return
	}
	out := []map[string]any{}
	for _, l := range links {
		out = append(out, map[string]any{"name": l.Name, "type": l.Kind, "linked_at": l.LinkedAt})
	}
	writeJSON(w, http.StatusOK, map[string]any{"connections": out, "available": g.Links.Names()})
}

// serveUnlink removes a linked account of the signed-in user: a
// same-origin POST or DELETE, or a bearer client.
func (g *Gate) serveUnlink(w http.ResponseWriter, r *http.Request, name string) {
	if !g.sameOrigin(r) {
		g.fail(w, r, problem{status: http.StatusForbidden, code: "cross_origin", heading: "Refused",
			message: "The request came from another site."})
		return
	}
	s, _, _, ok := g.requireSession(w, r)
	if !ok {
		return
	}
	if err := g.Links.Unlink(r.Context(), s.UserID, name); err != nil {
		g.fail(w, r, errStoreDown)
		return
	}
	g.log(r).Info("account unlinked", zap.String("user_id", s.UserID), zap.String("connection", name))
	g.refreshLinked(r, s.UserID)
	writeJSON(w, http.StatusOK, map[string]any{"unlinked": name})
}

// serveConnectionToken hands the upstream a fresh access token of a
// user's linked account. Only the upstream may call it: the request must
// carry the configured connections_secret; without one configured the
// endpoint does not exist.
func (g *Gate) serveConnectionToken(w http.ResponseWriter, r *http.Request, name string) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, "GET")
		return
	}
	if len(g.ConnectionsSecret) == 0 {
		g.fail(w, r, errNotFound)
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get(ConnectionSecretHeader)), g.ConnectionsSecret) != 1 {
		g.log(r).Warn("connection token refused: wrong or missing secret", zap.String("connection", name))
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized",
			"message": "Send the connections_secret in " + ConnectionSecretHeader + "."})
		return
	}
	userID := r.URL.Query().Get("user_id")
	if userID == "" || len(userID) > 512 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "user_id_required"})
		return
	}
	t, err := g.Links.Token(r.Context(), userID, name)
	switch {
	case errors.Is(err, connections.ErrNotLinked):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_linked", "message": "The user has not linked " + name + "."})
	case errors.Is(err, connections.ErrRevoked):
		g.refreshLinked(r, userID)
		writeJSON(w, http.StatusGone, map[string]string{"error": "link_revoked", "message": "The provider revoked the link; the user must link " + name + " again."})
	case errors.Is(err, connections.ErrUnavailable):
		w.Header().Set("Retry-After", "30")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "provider_unavailable"})
	case err != nil:
		g.fail(w, r, errStoreDown)
	default:
		writeJSON(w, http.StatusOK, t)
	}
}
