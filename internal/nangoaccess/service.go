// Package nangoaccess signs users in and connects their repositories
// through Nango — the seed design's dual connection: the login
// integration (a GitHub OAuth App: who the user is) and the repository
// integration (a GitHub App: which repositories the user can access),
// linked by Gatehouse's user id — and applies Nango's webhooks.
package nangoaccess

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/github"
	"github.com/gatehouse-auth/gatehouse/internal/github/directory"
	"github.com/gatehouse-auth/gatehouse/internal/githubaccess"
	"github.com/gatehouse-auth/gatehouse/internal/integration"
	"github.com/gatehouse-auth/gatehouse/internal/keys"
	"github.com/gatehouse-auth/gatehouse/internal/nango"
	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/webhook/forward"
)

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
	// ConnectURL is the Connect UI's base URL. Default:
	// nango.DefaultConnectURL.
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

// Service implements integration.Nango and githubaccess.Broker.
type Service struct {
	opts   Options
	github *githubaccess.Service
	now    func() time.Time
}

var (
	_ integration.Nango   = (*Service)(nil)
	_ githubaccess.Broker = (*Service)(nil)
)

// New returns a Service; Attach must be called before it serves.
func New(opts Options) *Service {
	if opts.ConnectURL == "" {
		opts.ConnectURL = nango.DefaultConnectURL
	}
	if opts.Label == "" {
		opts.Label = DefaultLabel
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	return &Service{opts: opts, now: time.Now}
}

// SetLinks gives the Service the linked-account connections whose Nango
// webhooks it routes.
func (s *Service) SetLinks(l Links) { s.opts.Links = l }

// Attach gives the Service the GitHub access service that lists and
// records repositories (which in turn uses the Service as its broker).
func (s *Service) Attach(gh *githubaccess.Service) { s.github = gh }

// LoginEnabled implements integration.Nango.
func (s *Service) LoginEnabled() bool { return s.opts.LoginIntegration != "" }

// ReposEnabled implements integration.Nango.
func (s *Service) ReposEnabled() bool { return s.opts.RepoIntegration != "" }

// Label implements integration.Nango.
func (s *Service) Label() string { return s.opts.Label }

// ConnectUI implements integration.Nango.
func (s *Service) ConnectUI() (string, string) {
	base := s.opts.Client.BaseURL
	if base == "" {
		base = nango.DefaultBaseURL
	}
	return s.opts.ConnectURL, base
}

// Provider implements githubaccess.Broker.
func (s *Service) Provider() string { return integration.NangoProvider }

// proxy returns a GitHub client that goes through Nango's proxy with the
// login connection's token.
func (s *Service) proxy(connectionID string) *github.Client {
	return &github.Client{
		Endpoints: github.Endpoints{APIURL: s.opts.Client.ProxyURL()},
		HTTP:      s.opts.Client.ProxyClient(connectionID, s.opts.LoginIntegration),
	}
}

// Groups implements githubaccess.Broker: the user's organizations and
// teams, read through the login connection. A token without the read:org
// scope reads none.
func (s *Service) Groups(ctx context.Context, userID string) ([]string, error) {
	u, err := s.opts.Directory.User(ctx, userID)
	if errors.Is(err, directory.ErrNotFound) || err == nil && u.NangoConnectionID == "" {
		return nil, githubaccess.ErrConnectionGone
	}
	if err != nil {
		return nil, err
	}
	groups, err := s.groups(ctx, u.NangoConnectionID)
	if err != nil {
		return nil, s.connectionError(ctx, u.NangoConnectionID, s.opts.LoginIntegration, err)
	}
	return groups, nil
}

func (s *Service) groups(ctx context.Context, connectionID string) ([]string, error) {
	api := s.proxy(connectionID)
	orgs, err := api.Orgs(ctx, "")
	if github.IsForbidden(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading organizations through nango: %w", err)
	}
	groups := append([]string(nil), orgs...)
	teams, err := api.Teams(ctx, "")
	if github.IsForbidden(err) {
		return groups, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading teams through nango: %w", err)
	}
	for _, t := range teams {
		groups = append(groups, t.Org+"/"+t.Slug)
	}
	return groups, nil
}

// connectionError turns a failed call through a connection into
// ErrConnectionGone when the connection no longer exists or GitHub
// refuses its token.
func (s *Service) connectionError(ctx context.Context, connectionID, integration string, err error) error {
	if github.IsUnauthorized(err) {
		return githubaccess.ErrConnectionGone
	}
	if _, cerr := s.opts.Client.GetConnection(ctx, connectionID, integration); nango.IsNotFound(cerr) {
		return githubaccess.ErrConnectionGone
	}
	return err
}

// RepoToken implements githubaccess.Broker: the GitHub user token of the
// repository connection — connection_config.userCredentials once the App
// is installed, never the installation token Nango keeps in credentials.
func (s *Service) RepoToken(ctx context.Context, u *directory.User) (string, bool, error) {
	c, err := s.opts.Client.GetConnection(ctx, u.RepoConnectionID, s.opts.RepoIntegration)
	if nango.IsNotFound(err) {
		return "", false, githubaccess.ErrConnectionGone
	}
	if err != nil {
		return "", false, err
	}
	tok := c.UserToken()
	if tok == "" {
		return "", false, githubaccess.ErrConnectionGone
	}
	return tok, c.Pending, nil
}
