// Package nangoaccess signs users in and connects their repositories
// through Nango — the seed design's dual connection: the login
// integration (a GitHub OAuth App: who the user is) and the repository
// integration (a GitHub App: which repositories the user can access),
// linked by Gatehouse's user id — and applies Nango's webhooks.
package nangoaccess

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/github/directory"
	"github.com/gatehouse-auth/gatehouse/internal/githubaccess"
	"github.com/gatehouse-auth/gatehouse/internal/keys"
	"github.com/gatehouse-auth/gatehouse/internal/nango"
	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/webhook/forward"
)

// Provider is the provider name of users who signed in through Nango: it
// appears in {prefix}/login/nango and X-Auth-Provider.
const Provider = "nango"

// Login is a login through Nango: where it goes afterwards and, once
// Nango reported the connection, who signed in or why it failed.
type Login struct {
	// Redirect is the validated post-login target.
	Redirect string `json:"rd"`
	// Host is the host the login was started on.
	Host string `json:"host"`

	// ConnectionID is the connection Nango reported for this login.
	ConnectionID string `json:"conn,omitempty"`
	// Error is Nango's reason when the connection failed.
	Error string `json:"err,omitempty"`
	// The identity, once known.
	UserID string   `json:"uid,omitempty"`
	Login  string   `json:"login,omitempty"`
	Email  string   `json:"email,omitempty"`
	Name   string   `json:"name,omitempty"`
	Avatar string   `json:"avatar,omitempty"`
	Groups []string `json:"groups,omitempty"`
}

// RepoStatus is the state of a repository connection.
type RepoStatus struct {
	// Ready is set once the connection has been processed.
	Ready bool
	// Repos the user can access now.
	Repos []directory.Repo
	// PendingApproval is set while an organization owner has yet to
	// approve the installation.
	PendingApproval bool
}

// Defaults of Options.
const (
	DefaultLoginIntegration = "github"
	DefaultRepoIntegration  = "github-app-oauth"
	DefaultLabel            = "GitHub"
)

// Options configures a Service.
type Options struct {
	// Client calls Nango's API.
	Client *nango.Client
	// ConnectURL is the Connect UI's base URL, where the browser opens it.
	// Default: nango.DefaultConnectURL.
	ConnectURL string
	// WebhookKeys verify webhooks: the current signing key and, during a
	// rotation, the previous one.
	WebhookKeys [][]byte
	// LoginIntegration is the integration users sign in with; "" turns
	// the Nango login off.
	LoginIntegration string
	// RepoIntegration is the integration through which users connect
	// repositories; "" turns that off.
	RepoIntegration string
	// Syncs are triggered on a new repository connection.
	Syncs []string
	// Label names the login on the chooser page. Default: DefaultLabel.
	Label string
	// Forward receives sync and forward webhooks; nil drops them.
	Forward Forwarder
	// Links records accounts linked through Nango integrations (the
	// connection blocks of type nango); nil without any.
	Links Links

	Directory *directory.Directory
	Store     store.Store
	Ring      *keys.Ring
	KeyPrefix string
	Logger    *zap.Logger
}

// Forwarder persists a webhook for delivery to the application.
type Forwarder interface {
	Enqueue(ctx context.Context, d forward.Delivery) error
}

// Links records linked accounts whose connections live in Nango.
type Links interface {
	// ForIntegration returns the connection linked through integration.
	ForIntegration(integration string) (name string, ok bool)
	// OnNangoConnection records that connectionID of integration belongs
	// to userID.
	OnNangoConnection(ctx context.Context, integration, userID, connectionID string) error
}

// Service signs users in and connects their repositories through Nango,
// and applies Nango's webhooks.
type Service struct {
	*Broker
	github *githubaccess.Service
	now    func() time.Time
}

// New returns a Service for opts; github lists and records the
// repositories of the connections users make (it has the Service's
// Broker as its own: see NewBroker).
func New(opts Options, github *githubaccess.Service) *Service {
	b := NewBroker(opts)
	return &Service{Broker: b, github: github, now: time.Now}
}

// withDefaults is opts with the defaults applied.
func (opts Options) withDefaults() Options {
	if opts.ConnectURL == "" {
		opts.ConnectURL = nango.DefaultConnectURL
	}
	if opts.Label == "" {
		opts.Label = DefaultLabel
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	return opts
}

// LoginEnabled reports whether users can sign in through Nango.
func (s *Broker) LoginEnabled() bool { return s.opts.LoginIntegration != "" }

// ReposEnabled reports whether users connect repositories through Nango.
func (s *Broker) ReposEnabled() bool { return s.opts.RepoIntegration != "" }
