package githubaccess

import (
	"cmp"
	"errors"
	"net/http"
	"net/url"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/github/directory"
	"github.com/gatehouse-auth/gatehouse/internal/kit"
	"github.com/gatehouse-auth/gatehouse/internal/loginstate"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
	"github.com/gatehouse-auth/gatehouse/internal/session"
	"github.com/gatehouse-auth/gatehouse/internal/webhook"
)

// appFlow names App authorizations among the flows in progress.
const appFlow = "github-app"

var (
	_ kit.Feature   = (*Service)(nil)
	_ kit.LoginHook = (*Service)(nil)
	_ kit.Rechecker = (*Service)(nil)
)

// Routes implements kit.Feature. With a GitHub App: its webhooks at
// {prefix}/webhooks/github, the user's authorization at
// {prefix}/github-app/connect and /callback (unless repositories are
// connected through the broker, whose feature serves connect), and the
// user's connection at {prefix}/github-app/status.
func (s *Service) Routes(k kit.Kit) []kit.Route {
	e := &endpoints{s: s, k: k}
	var routes []kit.Route
	if s.AppConfigured() {
		routes = append(routes,
			kit.Route{Path: "/webhooks/github", Serve: webhook.Serve(k, s.Webhook)},
			kit.Route{Path: "/github-app/callback", Serve: e.callback})
		if !s.opts.BrokerRepos {
			routes = append(routes, kit.Route{Path: "/github-app/connect", Serve: e.connect})
		}
	}
	if s.AppConfigured() || s.opts.BrokerRepos {
		routes = append(routes, kit.Route{Path: "/github-app/status", Serve: e.status})
	}
	return routes
}

// endpoints serves the App's endpoints through the engine's kit.
type endpoints struct {
	s *Service
	k kit.Kit
}

func (e *endpoints) redirectURI(origin *url.URL) string {
	return origin.Scheme + "://" + origin.Host + e.k.Prefix() + "/github-app/callback"
}

// connect sends a signed-in user to authorize the GitHub App.
func (e *endpoints) connect(w http.ResponseWriter, r *http.Request, _ string) {
	if _, _, ok := e.k.RequireSession(w, r); !ok {
		return
	}
	origin, ok := e.k.Origin(w, r)
	if !ok {
		return
	}
	state, verifier, ok := e.k.BeginLogin(w, r, loginstate.Pending{
		Owner:       loginstate.Owner{Flow: appFlow},
		Redirect:    e.k.Redirect(r.URL.Query().Get("rd"), origin),
		RedirectURI: e.redirectURI(origin),
	})
	if !ok {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, e.s.AppAuthURL(e.redirectURI(origin), state, verifier), http.StatusFound)
}

// callback finishes the App authorization and records the user's
// repositories.
func (e *endpoints) callback(w http.ResponseWriter, r *http.Request, _ string) {
	s, tok, ok := e.k.RequireSession(w, r)
	if !ok {
		return
	}
	origin, ok := e.k.Origin(w, r)
	if !ok {
		return
	}
	retry := e.k.Prefix() + "/github-app/connect"
	q := r.URL.Query()
	pending, err := e.k.FinishLogin(r, q.Get("state"), appFlow)
	if err != nil {
		if !loginstate.Refused(err) {
			e.k.StoreDown(w, r)
			return
		}
		e.k.Fail(w, r, kit.Problem{Status: http.StatusBadRequest, Code: "invalid_state", Heading: "Connection expired",
			Message: "This GitHub authorization is not valid any more: " + err.Error() + ". Please start again.", Retry: retry})
		return
	}
	if q.Get("code") == "" {
		e.k.Fail(w, r, kit.Problem{Status: http.StatusBadRequest, Code: provider.ErrorCode(cmp.Or(q.Get("error"), "missing_code")),
			Heading: "GitHub not connected", Message: "GitHub did not authorize the app.", Retry: retry})
		return
	}
	access, err := e.s.Connect(r.Context(), s, q.Get("code"), pending.RedirectURI, pending.Verifier)
	if err != nil {
		e.k.ProviderFailed(w, r, appFlow, "GitHub", retry, err)
		return
	}
	s.Repos = directory.Names(access.Repos)
	s.CheckedAt = time.Now()
	if err := e.k.UpdateSession(r.Context(), tok, s); errors.Is(err, session.ErrNoSession) {
		// Signed out while GitHub was asked.
		e.k.Unauthenticated(w, r)
		return
	} else if err != nil {
		e.k.StoreDown(w, r)
		return
	}
	e.k.Log(r).Info("github app connected", zap.String("user_id", s.UserID), zap.Int("repos", len(access.Repos)), zap.Bool("pending_approval", access.PendingApproval))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, e.k.Redirect(pending.Redirect, origin), http.StatusFound)
}

// status reports the signed-in user's repository connection.
func (e *endpoints) status(w http.ResponseWriter, r *http.Request, _ string) {
	s, _, ok := e.k.RequireSession(w, r)
	if !ok {
		return
	}
	access, err := e.s.Status(r.Context(), s.UserID)
	if err != nil {
		e.k.StoreDown(w, r)
		return
	}
	e.k.JSON(w, http.StatusOK, map[string]any{
		"ready":           len(access.Repos) > 0 && !access.PendingApproval,
		"repos":           directory.Names(access.Repos),
		"pendingApproval": access.PendingApproval,
	})
}
