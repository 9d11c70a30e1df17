package gate

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sync/singleflight"

	"github.com/gatehouse-auth/gatehouse/internal/github/directory"
	"github.com/gatehouse-auth/gatehouse/internal/integration"
	"github.com/gatehouse-auth/gatehouse/internal/loginstate"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

var recheckGroup singleflight.Group

// recheck brings s's groups and repositories up to date when they are due,
// once per session at a time. It reports false when the session must end.
func (g *Gate) recheck(r *http.Request, tok string, s *session.Session) bool {
	if g.GitHub == nil || !g.GitHub.Due(s) {
		return true
	}
	v, _, _ := recheckGroup.Do(tok, func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
		defer cancel()
		err := g.GitHub.Recheck(ctx, s)
		switch {
		case errors.Is(err, integration.ErrRevoked):
			g.log(r).Info("github authorization revoked; ending session", zap.String("user_id", s.UserID))
			_ = g.Sessions.Delete(ctx, tok)
			return false, nil
		case err != nil:
			// GitHub unreachable or rate limited: keep what the session
			// has; Recheck schedules the next try.
			g.log(r).Warn("github re-check failed; keeping the last known access", zap.String("user_id", s.UserID), zap.Error(err))
		}
		if err := g.Sessions.Update(ctx, tok, s); err != nil && !errors.Is(err, session.ErrNoSession) {
			g.log(r).Warn("cannot save re-checked session", zap.Error(err))
		}
		return true, nil
	})
	return v.(bool)
}

// serveRepos lists the repositories the current user can access.
func (g *Gate) serveRepos(w http.ResponseWriter, r *http.Request) {
	s, _, _, ok := g.requireSession(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"repos": nonNil(s.Repos), "checked_at": s.CheckedAt})
}

// requireSession loads the session of an endpoint that needs one,
// answering 401/503 itself when there is none.
func (g *Gate) requireSession(w http.ResponseWriter, r *http.Request) (*session.Session, string, bool, bool) {
	s, tok, bearer, out := g.authenticate(r)
	switch out {
	case storeDown:
		g.fail(w, r, errStoreDown)
		return nil, "", false, false
	case noSession, tooLarge:
		g.unauthenticated(w, r)
		return nil, "", false, false
	}
	return s, tok, bearer, true
}

const appProvider = "github-app" // the login.Pending provider of App authorizations

func (g *Gate) appRedirectURI(origin *url.URL) string {
	return origin.Scheme + "://" + origin.Host + g.Prefix + "/github-app/callback"
}

// appRequest admits a request to the App endpoints: an App must be
// configured and the user signed in. It answers the request otherwise.
func (g *Gate) appRequest(w http.ResponseWriter, r *http.Request) (*session.Session, string, bool) {
	if g.GitHub == nil || !g.GitHub.AppConfigured() {
		g.fail(w, r, errNotFound)
		return nil, "", false
	}
	s, tok, _, ok := g.requireSession(w, r)
	return s, tok, ok
}

// serveAppConnect sends a signed-in user to authorize the GitHub App,
// directly or through Nango's Connect UI.
func (g *Gate) serveAppConnect(w http.ResponseWriter, r *http.Request) {
	if g.nangoRepos() {
		if _, _, _, ok := g.requireSession(w, r); ok {
			g.serveNangoPage(w, r, "repos")
		}
		return
	}
	if _, _, ok := g.appRequest(w, r); !ok {
		return
	}
	origin, ok := g.origin(r)
	if !ok {
		g.fail(w, r, errUnknownHost)
		return
	}
	binding, state, verifier, ok := g.beginLogin(w, r, loginstate.Pending{
		Provider:    appProvider,
		Redirect:    g.Redirects.Target(r.URL.Query().Get("rd"), origin),
		RedirectURI: g.appRedirectURI(origin),
	})
	if !ok {
		return
	}
	http.SetCookie(w, g.bindingCookie(binding))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, g.GitHub.AppAuthURL(g.appRedirectURI(origin), state, verifier), http.StatusFound)
}

// serveAppCallback finishes the App authorization and records the user's
// repositories.
func (g *Gate) serveAppCallback(w http.ResponseWriter, r *http.Request) {
	s, tok, ok := g.appRequest(w, r)
	if !ok {
		return
	}
	origin, ok := g.origin(r)
	if !ok {
		g.fail(w, r, errUnknownHost)
		return
	}
	q := r.URL.Query()
	pending, err := g.States.Finish(r.Context(), q.Get("state"), cookieValue(r.Header["Cookie"], g.bindingName), appProvider)
	if err != nil {
		if !isStateError(err) {
			g.fail(w, r, errStoreDown)
			return
		}
		g.fail(w, r, problem{status: http.StatusBadRequest, code: "invalid_state", heading: "Connection expired",
			message: "This GitHub authorization is not valid any more: " + err.Error() + ". Please start again.",
			retry:   g.Prefix + "/github-app/connect"})
		return
	}
	if q.Get("code") == "" {
		g.fail(w, r, problem{status: http.StatusBadRequest, code: providerErrorCode(firstNonEmpty(q.Get("error"), "missing_code")),
			heading: "GitHub not connected", message: "GitHub did not authorize the app.", retry: g.Prefix + "/github-app/connect"})
		return
	}
	access, err := g.GitHub.Connect(r.Context(), s, q.Get("code"), pending.RedirectURI, pending.Verifier)
	if err != nil {
		g.providerFailed(w, r, appProvider, "GitHub", g.Prefix+"/github-app/connect", err)
		return
	}
	s.Repos = directory.Names(access.Repos)
	s.CheckedAt = time.Now()
	if err := g.Sessions.Update(r.Context(), tok, s); errors.Is(err, session.ErrNoSession) {
		// Signed out while GitHub was asked.
		g.unauthenticated(w, r)
		return
	} else if err != nil {
		g.fail(w, r, errStoreDown)
		return
	}
	g.log(r).Info("github app connected", zap.String("user_id", s.UserID), zap.Int("repos", len(access.Repos)), zap.Bool("pending_approval", access.PendingApproval))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, g.Redirects.Target(pending.Redirect, origin), http.StatusFound)
}

// serveAppStatus reports the signed-in user's App connection.
func (g *Gate) serveAppStatus(w http.ResponseWriter, r *http.Request) {
	if g.GitHub == nil || !g.GitHub.AppConfigured() && !g.nangoRepos() {
		g.fail(w, r, errNotFound)
		return
	}
	s, _, _, ok := g.requireSession(w, r)
	if !ok {
		return
	}
	access, err := g.GitHub.Status(r.Context(), s.UserID)
	if err != nil {
		g.fail(w, r, errStoreDown)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"ready":           len(access.Repos) > 0 && !access.PendingApproval,
		"repos":           nonNil(directory.Names(access.Repos)),
		"pendingApproval": access.PendingApproval,
	})
}
