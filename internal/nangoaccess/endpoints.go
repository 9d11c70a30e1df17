package nangoaccess

import (
	"cmp"
	"errors"
	"net/http"
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/github/directory"
	"github.com/gatehouse-auth/gatehouse/internal/identity"
	"github.com/gatehouse-auth/gatehouse/internal/kit"
	"github.com/gatehouse-auth/gatehouse/internal/loginstate"
	"github.com/gatehouse-auth/gatehouse/internal/nango"
	"github.com/gatehouse-auth/gatehouse/internal/pages"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
	"github.com/gatehouse-auth/gatehouse/internal/session"
	"github.com/gatehouse-auth/gatehouse/internal/webhook"
)

var (
	_ kit.Feature = (*Service)(nil)
	_ kit.SignIn  = (*Service)(nil)
)

// SignIn implements kit.SignIn: the chooser page lists the Nango login
// when it is on.
func (s *Service) SignIn() (name, label string) {
	if !s.LoginEnabled() {
		return "", ""
	}
	return Provider, s.opts.Label
}

// Routes implements kit.Feature: Nango's webhooks at
// {prefix}/webhooks/nango; with the login, {prefix}/login/nango (the page
// that opens the Connect UI), /nango/session and /nango/status/{id}; with
// repositories, {prefix}/github-app/connect, /github-app/session and
// /github-app/status/{id}.
func (s *Service) Routes(k kit.Kit) []kit.Route {
	e := &endpoints{s: s, k: k}
	routes := []kit.Route{{Path: "/webhooks/nango", Serve: webhook.Serve(k, s.Webhook)}}
	if s.LoginEnabled() {
		routes = append(routes,
			kit.Route{Path: "/login/" + Provider, Serve: e.loginPage},
			kit.Route{Path: "/nango/session", Serve: e.loginSession},
			kit.Route{Path: "/nango/status/", Serve: e.loginStatus})
	}
	if s.ReposEnabled() {
		routes = append(routes,
			kit.Route{Path: "/github-app/connect", Serve: e.reposPage},
			kit.Route{Path: "/github-app/session", Serve: e.reposSession},
			kit.Route{Path: "/github-app/status/", Serve: e.reposStatus})
	}
	return routes
}

// endpoints serves Nango's endpoints through the engine's kit.
type endpoints struct {
	s *Service
	k kit.Kit
}

// allowed answers 405 unless r's method is one of methods.
func (e *endpoints) allowed(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	if slices.Contains(methods, r.Method) {
		return true
	}
	e.k.MethodNotAllowed(w, strings.Join(methods, ", "))
	return false
}

func (e *endpoints) loginPage(w http.ResponseWriter, r *http.Request, _ string) {
	e.page(w, r, pages.Connect{
		Heading: "Sign in with " + e.s.opts.Label,
		Intro:   "A window opens where you authorize " + e.s.opts.Label + ". This page continues by itself afterwards.",
		Config: pages.ConnectConfig{Kind: "login",
			Session: e.k.Prefix() + "/nango/session", Status: e.k.Prefix() + "/nango/status"},
	})
}

func (e *endpoints) reposPage(w http.ResponseWriter, r *http.Request, _ string) {
	if _, _, ok := e.k.RequireSession(w, r); !ok {
		return
	}
	e.page(w, r, pages.Connect{
		Heading: "Connect your repositories",
		Intro:   "A window opens where you install the GitHub App and choose repositories. This page continues by itself afterwards.",
		Config: pages.ConnectConfig{Kind: "repos",
			Session: e.k.Prefix() + "/github-app/session", Status: e.k.Prefix() + "/github-app/status"},
	})
}

// page shows the page that opens Nango's Connect UI, with the Connect
// UI's and the API's addresses filled in.
func (e *endpoints) page(w http.ResponseWriter, r *http.Request, page pages.Connect) {
	if !e.allowed(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	page.Brand, page.Retry = e.k.Brand(), r.URL.RequestURI()
	page.Config.Redirect = r.URL.Query().Get("rd")
	page.Config.Connect, page.Config.API = e.s.opts.ConnectURL, e.s.opts.Client.APIURL()
	if err := pages.RenderConnect(w, page); err != nil {
		e.k.Log(r).Error("cannot show the Connect UI", zap.Error(err))
		e.k.NotFound(w, r)
	}
}

// loginSession creates the connect session of a login and binds it to
// this browser.
func (e *endpoints) loginSession(w http.ResponseWriter, r *http.Request, _ string) {
	if !e.allowed(w, r, http.MethodGet) {
		return
	}
	origin, ok := e.k.Origin(w, r)
	if !ok {
		return
	}
	binding, ok := e.k.BeginFlow(w, r)
	if !ok {
		return
	}
	cs, err := e.s.BeginLogin(r.Context(), binding, Login{
		Redirect: e.k.Redirect(r.URL.Query().Get("rd"), origin),
		Host:     strings.ToLower(r.Host),
	})
	if err == nil {
		e.k.SetBinding(w, binding)
	}
	nango.AnswerConnectSession(e.k, w, r, cs, err)
}

// loginStatus answers a login's poll; once Nango's webhook has been
// processed it starts the session, for the browser that began the login
// only.
func (e *endpoints) loginStatus(w http.ResponseWriter, r *http.Request, connectionID string) {
	if !e.poll(w, r, connectionID) {
		return
	}
	retry := e.k.Prefix() + "/login"
	l, err := e.s.FinishLogin(r.Context(), e.k.Binding(r), connectionID)
	switch {
	case errors.Is(err, loginstate.ErrForeign), errors.Is(err, loginstate.ErrNoBinding):
		e.k.Log(r).Warn("nango login polled from another browser", zap.String("connection_id", connectionID))
		e.k.Fail(w, r, kit.Problem{Status: http.StatusForbidden, Code: "foreign_login", Heading: "Sign-in refused",
			Message: "This sign-in was started in another browser.", Retry: retry})
		return
	case loginstate.Refused(err):
		e.k.Fail(w, r, kit.Problem{Status: http.StatusNotFound, Code: "unknown_login", Heading: "Sign-in expired",
			Message: "This sign-in is not in progress any more. Please start again.", Retry: retry})
		return
	case err != nil:
		e.k.Log(r).Warn("cannot read nango login", zap.Error(err))
		e.k.StoreDown(w, r)
		return
	}
	if l.Error != "" {
		code := provider.ErrorCode(l.Error)
		e.k.Fail(w, r, kit.Problem{Status: http.StatusBadGateway, Code: code, Heading: "Sign-in failed",
			Message: "Nango could not connect your account (" + code + "). Please try again.", Retry: retry})
		return
	}
	if l.UserID == "" {
		e.k.JSON(w, http.StatusOK, map[string]any{"ready": false})
		return
	}
	if !strings.EqualFold(l.Host, r.Host) {
		e.k.Fail(w, r, kit.Problem{Status: http.StatusForbidden, Code: "foreign_login", Heading: "Sign-in refused",
			Message: "This sign-in was started on another site.", Retry: retry})
		return
	}
	s := &session.Session{User: identity.User{
		UserID: l.UserID, Login: cmp.Or(l.Login, l.Email, l.UserID), Email: l.Email, Name: l.Name, Avatar: l.Avatar,
		Provider: Provider, Groups: slices.Sorted(slices.Values(l.Groups)),
	}}
	tok, ok := e.k.StartSession(w, r, s)
	if !ok {
		return
	}
	e.k.SetBinding(w, "")
	body := map[string]any{"ready": true, "redirect": l.Redirect}
	// A browser gets the HttpOnly cookie only; a script on the page has no
	// use for the token. Other clients (a CLI) get it as a bearer token.
	if r.Header.Get("Sec-Fetch-Site") == "" {
		body["token"] = tok
	}
	e.k.JSON(w, http.StatusOK, body)
}

// reposSession creates the connect session through which a signed-in
// user connects repositories.
func (e *endpoints) reposSession(w http.ResponseWriter, r *http.Request, _ string) {
	if !e.allowed(w, r, http.MethodGet) {
		return
	}
	s, _, ok := e.k.RequireSession(w, r)
	if !ok {
		return
	}
	cs, err := e.s.BeginRepos(r.Context(), s)
	nango.AnswerConnectSession(e.k, w, r, cs, err)
}

// reposStatus answers the poll of a repository connection.
func (e *endpoints) reposStatus(w http.ResponseWriter, r *http.Request, connectionID string) {
	if !e.poll(w, r, connectionID) {
		return
	}
	s, _, ok := e.k.RequireSession(w, r)
	if !ok {
		return
	}
	st, err := e.s.RepoStatus(r.Context(), s.UserID, connectionID)
	if err != nil {
		e.k.StoreDown(w, r)
		return
	}
	rd := "/"
	if origin, ok := e.k.OriginOf(r); ok {
		rd = e.k.Redirect(r.URL.Query().Get("rd"), origin)
	}
	e.k.JSON(w, http.StatusOK, map[string]any{
		"ready":           st.Ready,
		"repos":           directory.Names(st.Repos),
		"pendingApproval": st.PendingApproval,
		"redirect":        rd,
	})
}

// poll admits the poll of connection connectionID: a GET of a valid id.
func (e *endpoints) poll(w http.ResponseWriter, r *http.Request, connectionID string) bool {
	if !e.allowed(w, r, http.MethodGet) {
		return false
	}
	if !nango.ValidConnectionID(connectionID) {
		e.k.NotFound(w, r)
		return false
	}
	return true
}
