// Package kit is what Gatehouse's request engine (package gate) offers
// the features that serve their own endpoints under the prefix: the
// signed-in session, answers (an error page for browsers, JSON for
// others), the site's origin and where a redirect may go, flows bound to
// the browser, and the user's sessions (updating them; revoking the
// provider tokens of those that ended). A feature registers its Routes
// with the engine and is handed a Kit; it never imports the engine.
package kit

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/loginstate"
	"github.com/gatehouse-auth/gatehouse/internal/pages"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// Feature is a part of Gatehouse that serves endpoints under the prefix.
type Feature interface {
	// Routes returns the feature's endpoints; k serves them.
	Routes(k Kit) []Route
}

// LoginHook is implemented by a feature that adds to a new session
// before it is stored (e.g. the user's linked accounts).
type LoginHook interface {
	OnLogin(ctx context.Context, s *session.Session)
}

// SignIn is implemented by a feature that offers a way to sign in of its
// own (Nango's Connect flow): the chooser page lists it, and the feature
// serves {prefix}/login/{name} among its Routes.
type SignIn interface {
	// SignIn returns the sign-in's name and label, or "" when it is not
	// offered.
	SignIn() (name, label string)
}

// Rechecker is implemented by a feature that confirms a session's
// identity with an outside system from time to time (GitHub's
// organizations, teams and repositories). The engine calls it on the hot
// path, once per session at a time, and saves the session afterwards.
type Rechecker interface {
	// Due reports whether s should be confirmed again.
	Due(s *session.Session) bool
	// Recheck confirms s and updates it. ErrRevoked means the user
	// withdrew Gatehouse's access: the session ends. Any other error
	// keeps the session as it is.
	Recheck(ctx context.Context, s *session.Session) error
}

// ErrRevoked is returned by a Rechecker when the user's authorization is
// gone and the session must end.
var ErrRevoked = errors.New("authorization revoked")

// Route is one endpoint, or a family of them, under the prefix.
type Route struct {
	// Path is an exact path ("/connections") or, ending in "/", every
	// path below it ("/connect/").
	Path string
	// Serve answers; rest is the path below a family's Path ("" for an
	// exact path).
	Serve func(w http.ResponseWriter, r *http.Request, rest string)
}

// Problem is an error answer: a page for browsers, JSON ({"error": Code,
// "message": Message}) for others, or the site's handle_errors routes.
type Problem struct {
	Status                 int
	Code, Heading, Message string
	// Retry is where the page's button goes.
	Retry string
}

// Kit is the engine's side of a feature's endpoints.
type Kit interface {
	// Prefix is where Gatehouse's endpoints are, e.g. /.gatehouse.
	Prefix() string
	// Brand is the pages' title and logo.
	Brand() pages.Brand
	// Log is the logger of r, with its request id.
	Log(r *http.Request) *zap.Logger

	// RequireSession returns r's session and its token, or answers (a
	// login redirect or 401, 503 when the store is down) and reports
	// false.
	RequireSession(w http.ResponseWriter, r *http.Request) (s *session.Session, token string, ok bool)
	// UpdateSession saves s under its token; session.ErrNoSession when it
	// ended meanwhile.
	UpdateSession(ctx context.Context, token string, s *session.Session) error
	// StartSession ends the browser's previous session, stores s as a new
	// session (after the features' LoginHooks) and sets its cookie. On
	// failure it answers itself and reports false.
	StartSession(w http.ResponseWriter, r *http.Request, s *session.Session) (token string, ok bool)
	// Unauthenticated answers a request that needs a session and has
	// none (a login redirect for browsers, 401 otherwise).
	Unauthenticated(w http.ResponseWriter, r *http.Request)
	// UpdateSessions applies fn to every session of the user.
	UpdateSessions(ctx context.Context, userID string, fn func(*session.Session)) error
	// RequireForm holds a state-changing request to the sign-out form's
	// checks: from the site itself (Origin, Sec-Fetch-Site), with a
	// session, a form body of at most a few KiB and — unless the session
	// came as a bearer token — the CSRF token of CSRFToken in its csrf
	// field. It returns the session and its token, or answers (403
	// cross_origin or invalid_csrf, 400 bad_form, or as RequireSession
	// does) and reports false; retry is where the refusal page's button
	// goes.
	RequireForm(w http.ResponseWriter, r *http.Request, retry string) (s *session.Session, token string, ok bool)
	// CSRFToken is the token a page's form must echo to act on the
	// session of token.
	CSRFToken(token string) string
	// WantsPage reports whether r is answered with a page: a browser's
	// (accepting HTML), not a bearer-token client's, which gets JSON.
	WantsPage(r *http.Request) bool
	// Bearer reports whether r's session token came in an
	// "Authorization: Bearer" header rather than the cookie: such a
	// client is an API or CLI client, answered in JSON, and needs no CSRF
	// token (a browser never sends the header by itself).
	Bearer(r *http.Request) bool
	// RevokeTokens revokes, in the background, the provider tokens of a
	// session that has ended, where its provider can (as at sign-out).
	RevokeTokens(s *session.Session)
	// ClearSessionCookie expires the browser's session cookie, once its
	// session has ended.
	ClearSessionCookie(w http.ResponseWriter)

	// Origin is the site's origin for r; without one it answers 421 and
	// reports false.
	Origin(w http.ResponseWriter, r *http.Request) (*url.URL, bool)
	// OriginOf is the site's origin for r, without answering when there
	// is none.
	OriginOf(r *http.Request) (*url.URL, bool)
	// SameOrigin reports whether r came from the site itself.
	SameOrigin(r *http.Request) bool
	// Redirect validates rd as a post-flow target ("/" when refused).
	Redirect(rd string, origin *url.URL) string

	// BeginFlow admits a new flow for r's client (answering 429 or 503
	// itself when over the limits) and returns the browser binding to tie
	// it to; SetBinding must then send it with the answer.
	BeginFlow(w http.ResponseWriter, r *http.Request) (binding string, ok bool)
	// SetBinding sets the browser binding cookie.
	SetBinding(w http.ResponseWriter, binding string)
	// Binding is r's browser binding, "" without one.
	Binding(r *http.Request) string
	// BeginLogin admits a flow that goes through a provider's
	// authorization page, records p for this browser with a fresh PKCE
	// verifier and sets the binding cookie; it returns the state and the
	// verifier to send. On failure it answers itself and reports false.
	BeginLogin(w http.ResponseWriter, r *http.Request, p loginstate.Pending) (state, verifier string, ok bool)
	// FinishLogin takes the flow recorded under state for provider, for
	// this browser only. loginstate.Refused(err) tells a state that is
	// not valid from a store that cannot answer.
	FinishLogin(r *http.Request, state, provider string) (*loginstate.Pending, error)

	// Fail answers with p.
	Fail(w http.ResponseWriter, r *http.Request, p Problem)
	// NotFound answers 404 not_found.
	NotFound(w http.ResponseWriter, r *http.Request)
	// StoreDown answers 503 store_unavailable.
	StoreDown(w http.ResponseWriter, r *http.Request)
	// JSON answers status with v, not cached.
	JSON(w http.ResponseWriter, status int, v any)
	// MethodNotAllowed answers 405 with Allow.
	MethodNotAllowed(w http.ResponseWriter, allow string)
	// ProviderFailed answers for a provider that failed during a flow
	// (unreachable, slow, refused): 504 provider_timeout, 502
	// provider_unavailable or the provider.Error's own code; name is the
	// provider's name, label what the user knows it as, retry where a new
	// attempt starts. The cause is logged, never shown.
	ProviderFailed(w http.ResponseWriter, r *http.Request, name, label, retry string, err error)
}
