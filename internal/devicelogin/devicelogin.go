// Package devicelogin signs in CLIs and other devices without a browser
// of their own: the OAuth 2.0 Device Authorization Grant (RFC 8628).
//
// A device asks for a code at {prefix}/device/code and shows the person
// the user code and {prefix}/device. There, signed in, the person enters
// the code (or follows verification_uri_complete), sees the device's
// name, address and time of asking, and approves or denies. Meanwhile the
// device polls {prefix}/device/token; once approved, it gets a Gatehouse
// session token of its own to send as "Authorization: Bearer". That
// session carries the approving person's identity but none of their
// provider tokens, is listed among their sessions, and ends as any other.
//
// Every record is kept through loginstate's flows, sealed and keyed by a
// hash of its code: the request under its user code (until the person
// decides), the device code's grant (until the device collects the
// answer), and the decision under a hash of the device code. Codes are
// single-use; wrong user codes are counted per person and per address.
package devicelogin

import (
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/keys"
	"github.com/gatehouse-auth/gatehouse/internal/kit"
	"github.com/gatehouse-auth/gatehouse/internal/loginstate"
	"github.com/gatehouse-auth/gatehouse/internal/session"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

const (
	// DefaultLifetime is how long a device code and its user code are
	// valid unless configured.
	DefaultLifetime = 10 * time.Minute
	// MinLifetime is the shortest lifetime that may be configured.
	MinLifetime = time.Second
	// MaxLifetime bounds the configured lifetime (as RFC 8628's own
	// example, 1800 s).
	MaxLifetime = 30 * time.Minute
	// Interval is how long a device waits between polls, at first.
	Interval = 5 * time.Second
	// SlowDownStep is what the interval grows by each time a device polls
	// too soon (RFC 8628 §3.5, slow_down).
	SlowDownStep = 5 * time.Second
	// MaxWrongCodes is how many wrong user codes a person, and an
	// address, may enter per GuessWindow; past it they get 429.
	MaxWrongCodes = 5
	// GuessWindow is the window MaxWrongCodes counts over.
	GuessWindow = 10 * time.Minute
	// GrantType is the grant_type of the token request.
	GrantType = "urn:ietf:params:oauth:grant-type:device_code"
)

// flowName is the Flow of every record of a device login.
const flowName = "device"

// Options configures a Service.
type Options struct {
	// Sessions creates the devices' sessions. Required.
	Sessions *session.Manager
	// Store and Ring keep the flows in progress, sealed, under KeyPrefix.
	// Required.
	Store     store.Store
	Ring      *keys.Ring
	KeyPrefix string
	// Lifetime is how long a device code and its user code are valid.
	// Default: DefaultLifetime.
	Lifetime time.Duration
}

// Service serves device login.
type Service struct {
	opts Options
	// requests are the devices' requests, under their user codes, until
	// the person decides.
	requests loginstate.Flows
	// grants are the device codes' records, until the device collects the
	// decision. They outlive the codes by a lifetime, so that a late poll
	// learns that its code expired rather than that it is unknown.
	grants loginstate.Flows
	// decisions are the persons' decisions, under a hash of the device
	// code, until the device collects them.
	decisions loginstate.Flows
}

// Interface guard.
var _ kit.Feature = (*Service)(nil)

// New returns the Service for opts.
func New(opts Options) *Service {
	if opts.Lifetime <= 0 {
		opts.Lifetime = DefaultLifetime
	}
	p := opts.KeyPrefix + "device:"
	return &Service{
		opts:      opts,
		requests:  loginstate.NewFlows(opts.Store, opts.Ring, p+"user:").Lasting(opts.Lifetime),
		grants:    loginstate.NewFlows(opts.Store, opts.Ring, p+"code:").Lasting(2 * opts.Lifetime),
		decisions: loginstate.NewFlows(opts.Store, opts.Ring, p+"decision:").Lasting(opts.Lifetime),
	}
}

// Routes implements kit.Feature: {prefix}/device/code and
// {prefix}/device/token for the device, {prefix}/device for the person.
func (s *Service) Routes(k kit.Kit) []kit.Route {
	e := &endpoints{s: s, k: k, m: s.opts.Sessions}
	return []kit.Route{
		{Path: "/device/code", Serve: e.serveCode},
		{Path: "/device/token", Serve: e.serveToken},
		{Path: "/device", Serve: e.serveDevice},
	}
}

// request is a device's request, recorded under its user code until the
// person decides.
type request struct {
	loginstate.Owner
	// Client is the name the device gave itself ("" for none).
	Client string `json:"n,omitempty"`
	// IP is the address the device asked from.
	IP string `json:"ip,omitempty"`
	// Device is the hash of the device code.
	Device string `json:"d"`
}

// grant is a device code's record, which the device polls.
type grant struct {
	loginstate.Owner
	// UserCode is the user code issued with it.
	UserCode string `json:"uc"`
}

// decision is what the person decided, under a hash of the device code.
type decision struct {
	// Owner's UserID is the person who decided.
	loginstate.Owner
	Approved bool `json:"a,omitempty"`
	// Token is the device's session token, when approved.
	Token string `json:"t,omitempty"`
}
