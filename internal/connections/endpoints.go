package connections

import (
	"cmp"
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/kit"
	"github.com/gatehouse-auth/gatehouse/internal/loginstate"
	"github.com/gatehouse-auth/gatehouse/internal/nango"
	"github.com/gatehouse-auth/gatehouse/internal/pages"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// SecretHeader carries the shared secret with which the upstream fetches
// linked-account tokens.
const SecretHeader = "X-Gatehouse-Secret"

// Interface guards.
var (
	_ kit.Feature   = (*Service)(nil)
	_ kit.LoginHook = (*Service)(nil)
)

// Routes implements kit.Feature: {prefix}/connect/{name}[/callback|
// /session|/status/{id}] and {prefix}/connections[/{name}[/unlink|/token]].
func (s *Service) Routes(k kit.Kit) []kit.Route {
	e := &endpoints{s: s, k: k}
	return []kit.Route{
		{Path: "/connect/", Serve: e.serveConnect},
		{Path: "/connections/", Serve: e.serveConnections},
		{Path: "/connections", Serve: e.serveConnections},
	}
}

// OnLogin implements kit.LoginHook: a new session carries the user's
// linked accounts (X-Auth-Connections).
func (s *Service) OnLogin(ctx context.Context, sess *session.Session) {
	if names, err := s.Linked(ctx, sess.UserID); err == nil {
		sess.Connections = names
	}
}

// endpoints serves the connections' endpoints with the engine's kit.
type endpoints struct {
	s *Service
	k kit.Kit
}

// serveConnect dispatches {prefix}/connect/{name}[/callback|/session|/status/{id}].
func (e *endpoints) serveConnect(w http.ResponseWriter, r *http.Request, rest string) {
	name, sub, _ := strings.Cut(rest, "/")
	if e.s.Kind(name) == "" {
		e.k.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		e.k.MethodNotAllowed(w, "GET, HEAD")
		return
	}
	sess, _, ok := e.k.RequireSession(w, r)
	if !ok {
		return
	}
	origin, ok := e.k.Origin(w, r)
	if !ok {
		return
	}
	switch {
	case sub == "":
		e.start(w, r, sess, name, origin)
	case sub == "callback":
		e.callback(w, r, sess, name, origin)
	case sub == "session" && e.s.Kind(name) == KindNango:
		cs, err := e.s.NangoSession(r.Context(), name, sess.UserID)
		nango.AnswerConnectSession(e.k, w, r, cs, err)
	case strings.HasPrefix(sub, "status/") && e.s.Kind(name) == KindNango:
		id := strings.TrimPrefix(sub, "status/")
		if !nango.ValidConnectionID(id) {
			e.k.NotFound(w, r)
			return
		}
		linked, err := e.s.NangoLinked(r.Context(), sess.UserID, name, id)
		if err != nil {
			e.k.StoreDown(w, r)
			return
		}
		if linked {
			e.refreshSessions(r, sess.UserID)
		}
		e.k.JSON(w, http.StatusOK, map[string]any{"ready": linked, "redirect": e.k.Redirect(r.URL.Query().Get("rd"), origin)})
	default:
		e.k.NotFound(w, r)
	}
}

func (e *endpoints) callbackURL(origin *url.URL, name string) string {
	return origin.Scheme + "://" + origin.Host + e.k.Prefix() + "/connect/" + name + "/callback"
}

// start sends the signed-in user to the provider to link an account (or,
// for Nango, shows the Connect UI page).
func (e *endpoints) start(w http.ResponseWriter, r *http.Request, sess *session.Session, name string, origin *url.URL) {
	rd := e.k.Redirect(r.URL.Query().Get("rd"), origin)
	if e.s.Kind(name) == KindNango {
		if e.s.opts.Nango == nil {
			e.k.NotFound(w, r)
			return
		}
		err := pages.RenderConnect(w, pages.Connect{
			Brand: e.k.Brand(), Heading: "Link your " + name + " account",
			Intro: "A window opens where you authorize " + name + ". This page continues by itself afterwards.",
			Retry: r.URL.RequestURI(),
			Config: pages.ConnectConfig{Kind: "connection", Session: e.k.Prefix() + "/connect/" + name + "/session",
				Status: e.k.Prefix() + "/connect/" + name + "/status", Redirect: rd,
				Connect: cmp.Or(e.s.opts.NangoConnectURL, nango.DefaultConnectURL), API: e.s.opts.Nango.APIURL()},
		})
		if err != nil {
			e.k.Log(r).Error("cannot show the Connect UI", zap.Error(err))
			e.k.NotFound(w, r)
		}
		return
	}
	binding, ok := e.k.BeginFlow(w, r)
	if !ok {
		return
	}
	target, err := e.s.Begin(r.Context(), name, sess.UserID, binding, e.callbackURL(origin, name), rd)
	if err != nil {
		e.failed(w, r, name, err)
		return
	}
	e.k.SetBinding(w, binding)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
}

// callback finishes linking and updates the user's sessions.
func (e *endpoints) callback(w http.ResponseWriter, r *http.Request, sess *session.Session, name string, origin *url.URL) {
	rd, err := e.s.Finish(r.Context(), name, sess.UserID, e.k.Binding(r), r.URL.Query())
	if err != nil {
		e.failed(w, r, name, err)
		return
	}
	e.k.Log(r).Info("account linked", zap.String("user_id", sess.UserID), zap.String("connection", name))
	e.refreshSessions(r, sess.UserID)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, e.k.Redirect(rd, origin), http.StatusFound)
}

// refreshSessions writes the user's linked accounts into all the user's
// sessions (X-Auth-Connections).
func (e *endpoints) refreshSessions(r *http.Request, userID string) {
	names, err := e.s.Linked(r.Context(), userID)
	if err != nil {
		e.k.Log(r).Warn("cannot list linked accounts", zap.Error(err))
		return
	}
	if err := e.k.UpdateSessions(r.Context(), userID, func(s *session.Session) { s.Connections = names }); err != nil {
		e.k.Log(r).Warn("cannot update sessions with linked accounts", zap.Error(err))
	}
}

func (e *endpoints) failed(w http.ResponseWriter, r *http.Request, name string, err error) {
	retry := e.k.Prefix() + "/connect/" + name
	switch {
	case errors.Is(err, loginstate.ErrForeign), errors.Is(err, loginstate.ErrNoBinding):
		e.k.Fail(w, r, kit.Problem{Status: http.StatusForbidden, Code: "foreign_link", Heading: "Link refused",
			Message: "This link was started in another browser or by another account.", Retry: retry})
	case loginstate.Refused(err):
		e.k.Fail(w, r, kit.Problem{Status: http.StatusBadRequest, Code: "link_expired", Heading: "Link expired",
			Message: "This link request expired or was already used. Please start again.", Retry: retry})
	case errors.Is(err, ErrDenied):
		e.k.Fail(w, r, kit.Problem{Status: http.StatusForbidden, Code: "access_denied", Heading: "Not linked",
			Message: "The provider did not authorize the link.", Retry: retry})
	default:
		e.k.Log(r).Warn("linking failed", zap.String("connection", name), zap.Error(err))
		e.k.Fail(w, r, kit.Problem{Status: http.StatusBadGateway, Code: "provider_unavailable", Heading: "Link failed",
			Message: "The provider could not be reached. Please try again in a moment.", Retry: retry})
	}
}

// serveConnections dispatches {prefix}/connections[/{name}[/unlink|/token]].
func (e *endpoints) serveConnections(w http.ResponseWriter, r *http.Request, rest string) {
	name, sub, _ := strings.Cut(rest, "/")
	switch {
	case name == "" && sub == "":
		e.list(w, r)
	case e.s.Kind(name) == "":
		e.k.NotFound(w, r)
	case sub == "token":
		e.token(w, r, name)
	case sub == "unlink" && r.Method == http.MethodPost, sub == "" && r.Method == http.MethodDelete:
		e.unlink(w, r, name)
	case sub == "unlink", sub == "":
		e.k.MethodNotAllowed(w, "POST")
	default:
		e.k.NotFound(w, r)
	}
}

func (e *endpoints) list(w http.ResponseWriter, r *http.Request) {
	sess, _, ok := e.k.RequireSession(w, r)
	if !ok {
		return
	}
	links, err := e.s.Links(r.Context(), sess.UserID)
	if err != nil {
		e.k.StoreDown(w, r)
		return
	}
	out := []map[string]any{}
	for _, l := range links {
		out = append(out, map[string]any{"name": l.Name, "type": l.Kind, "linked_at": l.LinkedAt})
	}
	e.k.JSON(w, http.StatusOK, map[string]any{"connections": out, "available": e.s.Names()})
}

// unlink removes a linked account of the signed-in user: a same-origin
// POST or DELETE, or a bearer client.
func (e *endpoints) unlink(w http.ResponseWriter, r *http.Request, name string) {
	if !e.k.SameOrigin(r) {
		e.k.Fail(w, r, kit.Problem{Status: http.StatusForbidden, Code: "cross_origin", Heading: "Refused",
			Message: "The request came from another site."})
		return
	}
	sess, _, ok := e.k.RequireSession(w, r)
	if !ok {
		return
	}
	if err := e.s.Unlink(r.Context(), sess.UserID, name); err != nil {
		e.k.StoreDown(w, r)
		return
	}
	e.k.Log(r).Info("account unlinked", zap.String("user_id", sess.UserID), zap.String("connection", name))
	e.refreshSessions(r, sess.UserID)
	e.k.JSON(w, http.StatusOK, map[string]any{"unlinked": name})
}

// token hands the upstream a fresh access token of a user's linked
// account. Only the upstream may call it: the request must carry the
// configured connections_secret; without one configured the endpoint does
// not exist.
func (e *endpoints) token(w http.ResponseWriter, r *http.Request, name string) {
	if r.Method != http.MethodGet {
		e.k.MethodNotAllowed(w, "GET")
		return
	}
	if len(e.s.opts.Secret) == 0 {
		e.k.NotFound(w, r)
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get(SecretHeader)), e.s.opts.Secret) != 1 {
		e.k.Log(r).Warn("connection token refused: wrong or missing secret", zap.String("connection", name))
		e.k.JSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized",
			"message": "Send the connections_secret in " + SecretHeader + "."})
		return
	}
	userID := r.URL.Query().Get("user_id")
	if userID == "" || len(userID) > 512 {
		e.k.JSON(w, http.StatusBadRequest, map[string]string{"error": "user_id_required"})
		return
	}
	t, err := e.s.Token(r.Context(), userID, name)
	switch {
	case errors.Is(err, ErrNotLinked):
		e.k.JSON(w, http.StatusNotFound, map[string]string{"error": "not_linked", "message": "The user has not linked " + name + "."})
	case errors.Is(err, ErrRevoked):
		e.refreshSessions(r, userID)
		e.k.JSON(w, http.StatusGone, map[string]string{"error": "link_revoked", "message": "The provider revoked the link; the user must link " + name + " again."})
	case errors.Is(err, ErrUnavailable):
		w.Header().Set("Retry-After", "30")
		e.k.JSON(w, http.StatusServiceUnavailable, map[string]string{"error": "provider_unavailable"})
	case err != nil:
		e.k.StoreDown(w, r)
	default:
		e.k.JSON(w, http.StatusOK, t)
	}
}
