package nangoaccess

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/internal/github"
	"github.com/gatehouse-auth/gatehouse/internal/github/directory"
	"github.com/gatehouse-auth/gatehouse/internal/githubaccess"
	"github.com/gatehouse-auth/gatehouse/internal/nango"
)

// Broker is Nango as githubaccess's broker: it holds the GitHub tokens of
// users who signed in, or connected repositories, through Nango's
// connections, and reads through them. It needs nothing of the GitHub
// access service, which is built with it.
type Broker struct {
	opts Options
}

var _ githubaccess.Broker = (*Broker)(nil)

// NewBroker returns the Broker of the Nango configured by opts.
func NewBroker(opts Options) *Broker { return &Broker{opts: opts.withDefaults()} }

// Provider implements githubaccess.Broker.
func (s *Broker) Provider() string { return Provider }

// proxy returns a GitHub client that goes through Nango's proxy with the
// login connection's token.
func (s *Broker) proxy(connectionID string) *github.Client {
	return &github.Client{
		Endpoints: github.Endpoints{APIURL: s.opts.Client.ProxyURL()},
		HTTP:      s.opts.Client.ProxyClient(connectionID, s.opts.LoginIntegration),
	}
}

// Groups implements githubaccess.Broker: the user's organizations and
// teams, read through the login connection. A token without the read:org
// scope reads none.
func (s *Broker) Groups(ctx context.Context, userID string) ([]string, error) {
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

// groups reads the user's organizations and teams through the login
// connection; a token without read:org reads none (or only the
// organizations).
func (s *Broker) groups(ctx context.Context, connectionID string) ([]string, error) {
	groups, err := s.proxy(connectionID).Groups(ctx, "")
	if err != nil && !github.IsForbidden(err) {
		return nil, fmt.Errorf("through nango: %w", err)
	}
	return groups, nil
}

// connectionError turns a failed call through a connection into
// ErrConnectionGone when the connection no longer exists or GitHub
// refuses its token.
func (s *Broker) connectionError(ctx context.Context, connectionID, integration string, err error) error {
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
func (s *Broker) RepoToken(ctx context.Context, u *directory.User) (string, bool, error) {
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
