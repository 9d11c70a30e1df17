// Package kit is what Gatehouse's request engine (package gate) offers
// the features that serve their own endpoints under the prefix: the
// signed-in session, answers (an error page for browsers, JSON for
// others), the site's origin and where a redirect may go, flows bound to
// the browser, and the user's sessions. A feature registers its Routes
// with the engine and is handed a Kit; it never imports the engine.
package kit

import (
	"context"
	"net/http"
	"net/url"

	"go.uber.org/zap"

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

	// RequireSession returns r's session, or answers (a login redirect
	// or 401, 503 when the store is down) and reports false.
	RequireSession(w http.ResponseWriter, r *http.Request) (*session.Session, bool)
	// UpdateSessions applies fn to every session of the user.
	UpdateSessions(ctx context.Context, userID string, fn func(*session.Session)) error

	// Origin is the site's origin for r; without one it answers 421 and
	// reports false.
	Origin(w http.ResponseWriter, r *http.Request) (*url.URL, bool)
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
	// RenderConnect shows the page that opens Nango's Connect UI.
	RenderConnect(w http.ResponseWriter, r *http.Request, page pages.Connect)
}
