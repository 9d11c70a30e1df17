package gate

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/kit"
	"github.com/gatehouse-auth/gatehouse/internal/loginstate"
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

func (k gateKit) RequireSession(w http.ResponseWriter, r *http.Request) (*session.Session, string, bool) {
	s, tok, _, ok := k.g.requireSession(w, r)
	return s, tok, ok
}

func (k gateKit) UpdateSession(ctx context.Context, tok string, s *session.Session) error {
	return k.g.Sessions.Update(ctx, tok, s)
}

func (k gateKit) StartSession(w http.ResponseWriter, r *http.Request, s *session.Session) (string, bool) {
	return k.g.startSession(w, r, s)
}

func (k gateKit) Unauthenticated(w http.ResponseWriter, r *http.Request) { k.g.unauthenticated(w, r) }

func (k gateKit) UpdateSessions(ctx context.Context, userID string, fn func(*session.Session)) error {
	return k.g.Sessions.UpdateAll(ctx, userID, fn)
}

func (k gateKit) RequireForm(w http.ResponseWriter, r *http.Request, retry string) (*session.Session, string, bool) {
	return k.g.requireForm(w, r, retry)
}

func (k gateKit) CSRFToken(tok string) string { return k.g.Sessions.CSRFToken(tok) }

func (k gateKit) WantsPage(r *http.Request) bool { return wantsHTML(r) && !k.Bearer(r) }

func (k gateKit) Bearer(r *http.Request) bool {
	_, bearer, _ := k.g.credential(r)
	return bearer
}

func (k gateKit) RevokeTokens(s *session.Session) { k.g.revokeTokens(s) }

func (k gateKit) ClearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, k.g.sessionCookie("", 0))
}

func (k gateKit) Origin(w http.ResponseWriter, r *http.Request) (*url.URL, bool) {
	origin, ok := k.g.origin(r)
	if !ok {
		k.g.fail(w, r, errUnknownHost)
	}
	return origin, ok
}

func (k gateKit) OriginOf(r *http.Request) (*url.URL, bool) { return k.g.origin(r) }

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

func (k gateKit) BeginLogin(w http.ResponseWriter, r *http.Request, p loginstate.Pending) (string, string, bool) {
	binding, state, verifier, ok := k.g.beginLogin(w, r, p)
	if ok {
		http.SetCookie(w, k.g.bindingCookie(binding))
	}
	return state, verifier, ok
}

func (k gateKit) FinishLogin(r *http.Request, state, provider string) (*loginstate.Pending, error) {
	return k.g.States.Finish(r.Context(), state, cookieValue(r.Header["Cookie"], k.g.bindingName), provider)
}

func (k gateKit) ProviderFailed(w http.ResponseWriter, r *http.Request, name, label, retry string, err error) {
	k.g.providerFailed(w, r, name, label, retry, err)
}

func (k gateKit) Fail(w http.ResponseWriter, r *http.Request, p kit.Problem) {
	k.g.fail(w, r, problem{status: p.Status, code: p.Code, heading: p.Heading, message: p.Message, retry: p.Retry})
}

// register adds the features' routes to the engine's (an exact path, such
// as a feature's own /login/{name}, is tried before any family, a path
// ending in "/") and their hooks. Two routes for one path are a wiring
// mistake and an error.
func (g *Gate) register(features []kit.Feature) error {
	k := gateKit{g}
	for _, f := range features {
		for _, rt := range f.Routes(k) {
			if rt.Path[len(rt.Path)-1] == '/' {
				for _, p := range g.prefixRoutes {
					if p.prefix == rt.Path {
						return fmt.Errorf("two features serve %s%s", g.Prefix, rt.Path)
					}
				}
				g.prefixRoutes = append(g.prefixRoutes, prefixRoute{rt.Path, rt.Serve})
				continue
			}
			if _, dup := g.endpoints[rt.Path]; dup {
				return fmt.Errorf("two features serve %s%s", g.Prefix, rt.Path)
			}
			serve := rt.Serve
			g.endpoints[rt.Path] = func(w http.ResponseWriter, r *http.Request) { serve(w, r, "") }
		}
		if h, ok := f.(kit.LoginHook); ok {
			g.loginHooks = append(g.loginHooks, h)
		}
		if h, ok := f.(kit.Rechecker); ok {
			g.recheckers = append(g.recheckers, h)
		}
		if s, ok := f.(kit.SignIn); ok {
			if name, label := s.SignIn(); name != "" {
				g.signIns = append(g.signIns, pages.Provider{Label: label, URL: g.Prefix + "/login/" + name})
			}
		}
	}
	return nil
}
