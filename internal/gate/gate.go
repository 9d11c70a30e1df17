// Package gate is Gatehouse's request engine: it decides for each request
// whether it goes upstream with an identity, is sent to log in, or is one of
// Gatehouse's own endpoints, and serves those endpoints.
package gate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/allow"
	"github.com/gatehouse-auth/gatehouse/internal/assertion"
	"github.com/gatehouse-auth/gatehouse/internal/headers"
	"github.com/gatehouse-auth/gatehouse/internal/kit"
	"github.com/gatehouse-auth/gatehouse/internal/lock"
	"github.com/gatehouse-auth/gatehouse/internal/loginstate"
	"github.com/gatehouse-auth/gatehouse/internal/pages"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
	"github.com/gatehouse-auth/gatehouse/internal/publicpath"
	"github.com/gatehouse-auth/gatehouse/internal/redirect"
	"github.com/gatehouse-auth/gatehouse/internal/session"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Provider is one identity provider offered at login.
type Provider struct {
	// Name appears in URLs and in X-Auth-Provider.
	Name string
	// Label is shown on the chooser page.
	Label string
	// RedirectURL overrides the redirect_uri; empty derives it.
	RedirectURL string
	// Auth performs the login.
	Auth provider.Provider
	// Timeout is what Auth allows each call to the provider (for logs and
	// for bounding work that makes several calls); zero means
	// provider.DefaultTimeout.
	Timeout time.Duration
}

// callTimeout is what p allows each call to its provider.
func (p *Provider) callTimeout() time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return provider.DefaultTimeout
}

// Cookie describes the session cookie.
type Cookie struct {
	// Name of the session cookie.
	Name string
	// Domain, or "" for a host-only cookie.
	Domain string
	// SameSite mode of the session cookie.
	SameSite http.SameSite
}

// Options holds everything a Gate needs; module.Handler builds it from the
// Caddy configuration.
type Options struct {
	Prefix string
	// KeyPrefix starts every store key Gatehouse writes.
	KeyPrefix string
	Store     store.Store
	Sessions  *session.Manager
	States    *loginstate.States
	Providers []Provider
	Policy    *allow.Policy
	Public    *publicpath.Matcher
	Redirects *redirect.Validator
	Headers   *headers.Set
	Cookie    Cookie
	// ExternalURL is the site's public origin when configured.
	ExternalURL *url.URL
	// SiteHosts returns the host patterns of the site the request arrived
	// on (from Caddy's host matchers); nil when the site matches any host.
	SiteHosts func(r *http.Request) []string
	Logger    *zap.Logger
	// Assertion signs X-Auth-Jwt and serves the JWKS.
	Assertion *assertion.Signer
	// Features serve endpoints of their own under the prefix and hook
	// into sessions (GitHub, Nango, linked accounts), through the kit.
	Features []kit.Feature
	// Brand is the title and logo of Gatehouse's pages.
	Brand pages.Brand
	// FlowsPerMinute bounds the flows (logins, links, App connects)
	// started per minute over every instance sharing Store; 0 means
	// DefaultFlowsPerMinute.
	FlowsPerMinute int
	// Bearer verifies the bearer tokens of trusted issuers (JWTs of CI
	// jobs and other machines); nil when none is configured.
	Bearer BearerAuthenticator
}

// BearerAuthenticator verifies bearer tokens Gatehouse did not issue.
type BearerAuthenticator interface {
	// Authenticate returns the identity raw proves, as a session that is
	// never stored and must not be modified; ok is false when raw is not
	// for it (another kind of token, the upstream's business), err set
	// when it is and does not verify (a *provider.Error from
	// provider.Unavailable when its issuer could not be reached).
	Authenticate(ctx context.Context, raw string) (s *session.Session, ok bool, err error)
	// Forget drops what Authenticate remembered of raw: a token the allow
	// rules refuse (anyone may hold a valid one) keeps no room.
	Forget(raw string)
}

// Gate serves one configured Gatehouse handler. It is safe for concurrent
// use and never modified after New.
type Gate struct {
	Options
	providers map[string]*Provider
	endpoints map[string]http.HandlerFunc
	// prefixRoutes are tried in order after endpoints.
	prefixRoutes []prefixRoute
	bindingName  string
	ownCookies   []string
	// loginHooks add to a new session (the features' kit.LoginHook).
	loginHooks []kit.LoginHook
	// recheckers confirm sessions from time to time (kit.Rechecker).
	recheckers []kit.Rechecker
	// signIns are the features' own ways to sign in (kit.SignIn), listed
	// on the chooser page.
	signIns []pages.Provider
	// refreshes refreshes session tokens once across instances.
	refreshes *lock.Flight
	// seens writes a session's LastSeenAt under the same store lock as
	// refreshes, so that neither overwrites the other's write.
	seens *lock.Flight
	// seeing holds the sessions whose LastSeenAt is being written.
	seeing sync.Map
	// background counts work that outlives its request (token
	// revocation); Wait lets Cleanup and tests wait for it.
	background sync.WaitGroup
	// flows limits flows started per client.
	flows flowLimiter
	// signs is set when requests carry X-Auth-Jwt.
	signs bool
}

// Wait blocks until background work started by requests (token
// revocation at sign-out) has finished.
func (g *Gate) Wait() { g.background.Wait() }

// RetryAfter is sent with 503 answers while the store is unreachable.
const RetryAfter = "5"

// New returns a Gate for opts.
func New(opts Options) (*Gate, error) {
	if opts.Sessions == nil || opts.States == nil || opts.Store == nil {
		return nil, errors.New("gate: store, sessions and states are required")
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	g := &Gate{Options: opts, providers: map[string]*Provider{}}
	g.signs = opts.Assertion != nil && opts.Headers.Names().JWT != ""
	g.refreshes = &lock.Flight{Store: opts.Store, Prefix: opts.KeyPrefix + "lock:refresh:"}
	g.seens = &lock.Flight{Store: opts.Store, Prefix: opts.KeyPrefix + "lock:refresh:"}
	g.endpoints = g.routes()
	g.prefixRoutes = g.prefixes()
	if err := g.register(opts.Features); err != nil {
		return nil, fmt.Errorf("gate: %w", err)
	}
	for i := range opts.Providers {
		g.providers[opts.Providers[i].Name] = &opts.Providers[i]
	}
	base := strings.TrimPrefix(strings.TrimPrefix(opts.Cookie.Name, "__Host-"), "__Secure-")
	g.bindingName = "__Host-" + base + "_login"
	g.ownCookies = []string{opts.Cookie.Name, g.bindingName}
	return g, nil
}

// BindingCookieName is the name of the cookie that binds a login in
// progress to the browser that started it.
func (g *Gate) BindingCookieName() string { return g.bindingName }

// sessionCookie returns a session cookie carrying tok (or deleting it when
// tok is "").
func (g *Gate) sessionCookie(tok string, lifetime time.Duration) *http.Cookie {
	c := &http.Cookie{
		Name:     g.Cookie.Name,
		Value:    tok,
		Path:     "/",
		Domain:   g.Cookie.Domain,
		HttpOnly: true,
		Secure:   true,
		SameSite: g.Cookie.SameSite,
		MaxAge:   int(lifetime / time.Second),
	}
	if tok == "" {
		c.MaxAge = -1
	}
	return c
}

func (g *Gate) bindingCookie(v string) *http.Cookie {
	c := &http.Cookie{
		Name:     g.bindingName,
		Value:    v,
		Path:     "/",
		HttpOnly: true,
		Secure:   true,
		SameSite: http.SameSiteLaxMode,
		MaxAge:   int(loginstate.TTL / time.Second),
	}
	if v == "" {
		c.MaxAge = -1
	}
	return c
}
