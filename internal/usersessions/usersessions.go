// Package usersessions lets a signed-in person see and end their own
// sessions: {prefix}/sessions lists them (a page for browsers, JSON for
// other clients), {prefix}/sessions/{id}/end ends one and
// {prefix}/sessions/end-others every one but the current.
//
// A session is named by its public handle (session.Manager.Handle), never
// by its token or store key. Ending a session removes it from the store
// and from every instance's session cache at once, and revokes its
// provider tokens where the provider can, as signing out does. The
// requests that end sessions are held to the sign-out form's checks: a
// same-origin request, and the form's CSRF token unless the client sent
// its session as a bearer token.
package usersessions

import (
	"github.com/gatehouse-auth/gatehouse/internal/kit"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// Options configures a Service.
type Options struct {
	// Sessions holds the sessions to list and end. Required.
	Sessions *session.Manager
}

// Service serves a person's own sessions. It is always on.
type Service struct {
	opts Options
}

// Interface guard.
var _ kit.Feature = (*Service)(nil)

// New returns the Service for opts.
func New(opts Options) *Service {
	return &Service{opts: opts}
}

// Routes implements kit.Feature: {prefix}/sessions and
// {prefix}/sessions/{id}/end, {prefix}/sessions/end-others.
func (s *Service) Routes(k kit.Kit) []kit.Route {
	e := &endpoints{s: s, k: k, m: s.opts.Sessions}
	return []kit.Route{
		{Path: "/sessions", Serve: e.serveList},
		{Path: "/sessions/", Serve: e.serveEnd},
	}
}
