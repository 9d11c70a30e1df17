package gate

import (
	"context"
	"net/http"
	"net/url"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/kit"
	"github.com/gatehouse-auth/gatehouse/internal/pages"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// gateKit is the engine's side of the features' endpoints (kit.Kit).
type gateKit struct{ g *Gate }

var _ kit.Kit = gateKit{}

func (k gateKit) Prefix() string                                   { return k.g.Prefix }
func (k gateKit) Brand() pages.Brand                               { return k.g.Brand }
func (k gateKit) Log(r *http.Request) *zap.Logger                  { return k.g.log(r) }
func (k gateKit) SameOrigin(r *http.Request) bool                  { return k.g.sameOrigin(r) }
func (k gateKit) NotFound(w http.ResponseWriter, r *http.Request)  { k.g.fail(w, r, errNotFound) }
func (k gateKit) StoreDown(w http.ResponseWriter, r *http.Request) { k.g.fail(w, r, errStoreDown) }
func (k gateKit) JSON(w http.ResponseWriter, status int, v any)    { writeJSON(w, status, v) }
func (k gateKit) MethodNotAllowed(w http.ResponseWriter, allow string) {
	methodNotAllowed(w, allow)
}

func (k gateKit) RequireSession(w http.ResponseWriter, r *http.Request) (*session.Session, bool) {
	s, _, _, ok := k.g.requireSession(w, r)
	return s, ok
}

func (k gateKit) UpdateSessions(ctx context.Context, userID string, fn func(*session.Session)) error {
	return k.g.Sessions.UpdateAll(ctx, userID, fn)
}

func (k gateKit) Origin(w http.ResponseWriter, r *http.Request) (*url.URL, bool) {
	origin, ok := k.g.origin(r)
	if !ok {
		k.g.fail(w, r, errUnknownHost)
	}
	return origin, ok
}

func (k gateKit) Redirect(rd string, origin *url.URL) string { return k.g.Redirects.Target(rd, origin) }

func (k gateKit) BeginFlow(w http.ResponseWriter, r *http.Request) (string, bool) {
	return k.g.flowBinding(w, r)
}

func (k gateKit) SetBinding(w http.ResponseWriter, binding string) {
	http.SetCookie(w, k.g.bindingCookie(binding))
}

func (k gateKit) Binding(r *http.Request) string {
	return cookieValue(r.Header["Cookie"], k.g.bindingName)
}

func (k gateKit) Fail(w http.ResponseWriter, r *http.Request, p kit.Problem) {
	k.g.fail(w, r, problem{status: p.Status, code: p.Code, heading: p.Heading, message: p.Message, retry: p.Retry})
}

func (k gateKit) RenderConnect(w http.ResponseWriter, r *http.Request, page pages.Connect) {
	k.g.renderConnect(w, r, page)
}

// register adds the features' routes to the engine's: an exact path to
// the endpoints, a family (a path ending in "/") after the engine's own.
func (g *Gate) register(features []kit.Feature) {
	k := gateKit{g}
	for _, f := range features {
		for _, rt := range f.Routes(k) {
			if rt.Path[len(rt.Path)-1] == '/' {
				g.prefixRoutes = append(g.prefixRoutes, prefixRoute{rt.Path, rt.Serve})
				continue
			}
			serve := rt.Serve
			g.endpoints[rt.Path] = func(w http.ResponseWriter, r *http.Request) { serve(w, r, "") }
		}
		if h, ok := f.(kit.LoginHook); ok {
			g.loginHooks = append(g.loginHooks, h)
		}
	}
}
