package gate

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/github/directory"
	"github.com/gatehouse-auth/gatehouse/internal/identity"
	"github.com/gatehouse-auth/gatehouse/internal/integration"
	"github.com/gatehouse-auth/gatehouse/internal/nango"
	"github.com/gatehouse-auth/gatehouse/internal/pages"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// nangoLogin reports whether Nango is the sign-in named name.
func (g *Gate) nangoLogin(name string) bool {
	return name == integration.NangoProvider && g.Nango != nil && g.Nango.LoginEnabled()
}

func (g *Gate) nangoRepos() bool { return g.Nango != nil && g.Nango.ReposEnabled() }

// serveNangoPage shows the page that opens Nango's Connect UI, for a
// login or for connecting repositories.
func (g *Gate) serveNangoPage(w http.ResponseWriter, r *http.Request, kind string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET, HEAD")
		return
	}
	page := pages.Connect{
		Brand:   g.Brand,
		Heading: "Sign in with " + g.Nango.Label(),
		Intro:   "A window opens where you authorize " + g.Nango.Label() + ". This page continues by itself afterwards.",
		Retry:   r.URL.RequestURI(),
		Config: pages.ConnectConfig{
			Kind: kind, Session: g.Prefix + "/nango/session", Status: g.Prefix + "/nango/status",
			Redirect: r.URL.Query().Get("rd"),
		},
	}
	if kind == "repos" {
		page.Heading = "Connect your repositories"
		page.Intro = "A window opens where you install the GitHub App and choose repositories. This page continues by itself afterwards."
		page.Config.Session = g.Prefix + "/github-app/session"
		page.Config.Status = g.Prefix + "/github-app/status"
	}
	g.renderConnect(w, r, page)
}

// renderConnect shows page with Nango's Connect UI and API addresses filled
// in, under a CSP that lets it frame the Connect UI's origin only.
func (g *Gate) renderConnect(w http.ResponseWriter, r *http.Request, page pages.Connect) {
	connectURL, apiURL := g.Nango.ConnectUI()
	cu, err := url.Parse(connectURL)
	if err != nil {
		g.fail(w, r, errNotFound)
		return
	}
	page.Config.Connect, page.Config.API = connectURL, apiURL
	pages.RenderConnect(w, page, cu.Scheme+"://"+cu.Host)
}

// serveNangoSession creates the connect session of a login and binds it to
// this browser.
func (g *Gate) serveNangoSession(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, "GET")
		return
	}
	if g.Nango == nil || !g.Nango.LoginEnabled() {
		g.fail(w, r, errNotFound)
		return
	}
	origin, ok := g.origin(r)
	if !ok {
		g.fail(w, r, errUnknownHost)
		return
	}
	binding, ok := g.flowBinding(w, r)
	if !ok {
		return
	}
	cs, err := g.Nango.BeginLogin(r.Context(), binding, integration.NangoLogin{
		Redirect: g.Redirects.Target(r.URL.Query().Get("rd"), origin),
		Host:     strings.ToLower(r.Host),
	})
	if err != nil {
		g.nangoFailed(w, r, "cannot create a Nango connect session", err)
		return
	}
	http.SetCookie(w, g.bindingCookie(binding))
	writeJSON(w, http.StatusOK, map[string]any{"token": cs.Token, "expires_at": cs.ExpiresAt})
}

// serveNangoStatus answers a login's poll; once Nango's webhook has been
// processed it starts the session, for the browser that began the login
// only.
func (g *Gate) serveNangoStatus(w http.ResponseWriter, r *http.Request, connectionID string) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, "GET")
		return
	}
	if g.Nango == nil || !g.Nango.LoginEnabled() || !nango.ValidConnectionID(connectionID) {
		g.fail(w, r, errNotFound)
		return
	}
	l, err := g.Nango.FinishLogin(r.Context(), cookieValue(r.Header["Cookie"], g.bindingName), connectionID)
	switch {
	case errors.Is(err, integration.ErrLoginForeign):
		g.log(r).Warn("nango login polled from another browser", zap.String("connection_id", connectionID))
		g.fail(w, r, problem{status: http.StatusForbidden, code: "foreign_login", heading: "Sign-in refused",
			message: "This sign-in was started in another browser.", retry: g.Prefix + "/login"})
		return
	case errors.Is(err, integration.ErrLoginUnknown):
		g.fail(w, r, problem{status: http.StatusNotFound, code: "unknown_login", heading: "Sign-in expired",
			message: "This sign-in is not in progress any more. Please start again.", retry: g.Prefix + "/login"})
		return
	case err != nil:
		g.log(r).Warn("cannot read nango login", zap.Error(err))
		g.fail(w, r, errStoreDown)
		return
	}
	if l.Error != "" {
		g.fail(w, r, problem{status: http.StatusBadGateway, code: providerErrorCode(l.Error), heading: "Sign-in failed",
			message: "Nango could not connect your account (" + providerErrorCode(l.Error) + "). Please try again.", retry: g.Prefix + "/login"})
		return
	}
	if l.UserID == "" {
		writeJSON(w, http.StatusOK, map[string]any{"ready": false})
		return
	}
	if !strings.EqualFold(l.Host, r.Host) {
		g.fail(w, r, problem{status: http.StatusForbidden, code: "foreign_login", heading: "Sign-in refused",
			message: "This sign-in was started on another site.", retry: g.Prefix + "/login"})
		return
	}
	s := &session.Session{
		User: identity.User{UserID: l.UserID, Login: firstNonEmpty(l.Login, l.Email, l.UserID), Email: l.Email, Name: l.Name, Avatar: l.Avatar, Provider: integration.NangoProvider, Groups: sortedCopy(l.Groups)},
	}
	tok, ok := g.startSession(w, r, s)
	if !ok {
		return
	}
	http.SetCookie(w, g.bindingCookie(""))
	body := map[string]any{"ready": true, "redirect": l.Redirect}
	// A browser gets the HttpOnly cookie only; a script on the page has no
	// use for the token. Other clients (a CLI) get it as a bearer token.
	if r.Header.Get("Sec-Fetch-Site") == "" {
		body["token"] = tok
	}
	writeJSON(w, http.StatusOK, body)
}

// serveRepoSession creates the connect session through which a signed-in
// user connects repositories.
func (g *Gate) serveRepoSession(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, "GET")
		return
	}
	if !g.nangoRepos() {
		g.fail(w, r, errNotFound)
		return
	}
	s, _, _, ok := g.requireSession(w, r)
	if !ok {
		return
	}
	cs, err := g.Nango.BeginRepos(r.Context(), s)
	if err != nil {
		g.nangoFailed(w, r, "cannot create a Nango connect session", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"token": cs.Token, "expires_at": cs.ExpiresAt})
}

// serveRepoStatus answers the poll of a repository connection.
func (g *Gate) serveRepoStatus(w http.ResponseWriter, r *http.Request, connectionID string) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, "GET")
		return
	}
	if !g.nangoRepos() || !nango.ValidConnectionID(connectionID) {
		g.fail(w, r, errNotFound)
		return
	}
	s, _, _, ok := g.requireSession(w, r)
	if !ok {
		return
	}
	st, err := g.Nango.RepoStatus(r.Context(), s.UserID, connectionID)
	if err != nil {
		g.fail(w, r, errStoreDown)
		return
	}
	rd := "/"
	if origin, ok := g.origin(r); ok {
		rd = g.Redirects.Target(r.URL.Query().Get("rd"), origin)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"ready":           st.Ready,
		"repos":           nonNil(directory.Names(st.Repos)),
		"pendingApproval": st.PendingApproval,
		"redirect":        rd,
	})
}

func (g *Gate) nangoFailed(w http.ResponseWriter, r *http.Request, msg string, err error) {
	g.log(r).Warn(msg, zap.Error(err))
	g.fail(w, r, problem{status: http.StatusBadGateway, code: "nango_unavailable", heading: "Nango unavailable",
		message: "Nango could not be reached. Please try again in a moment.", retry: g.Prefix + "/login"})
}
