// Package integration is what the request engine (package gate) asks of
// the GitHub and Nango integrations, and the types they exchange with it,
// so that the integrations depend on this small contract and never on
// the engine itself.
package integration

import (
	"context"
	"errors"

	"github.com/gatehouse-auth/gatehouse/internal/github/directory"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// GitHub is the GitHub integration: re-checking organization, team and
// repository access, connecting repositories through the GitHub App, and
// its webhooks. githubaccess.Service implements it.
type GitHub interface {
	// OnLogin fills a new session's repositories from what is already
	// known about the user, without calling GitHub.
	OnLogin(ctx context.Context, s *session.Session)
	// Due reports whether s's groups and repositories should be confirmed
	// with GitHub again.
	Due(s *session.Session) bool
	// Recheck confirms s's groups and repositories with GitHub and updates
	// s. ErrRevoked means the user withdrew Gatehouse's access: the
	// session must end.
	Recheck(ctx context.Context, s *session.Session) error
	// AppConfigured reports whether a GitHub App is configured.
	AppConfigured() bool
	// AppAuthURL starts the App's user authorization.
	AppAuthURL(redirectURI, state, verifier string) string
	// Connect redeems the App authorization code for the signed-in user,
	// lists the installations and repositories the user can access and
	// records them.
	Connect(ctx context.Context, s *session.Session, code, redirectURI, verifier string) (*Access, error)
	// Status returns what the user has connected so far.
	Status(ctx context.Context, userID string) (*Access, error)
}

// Access is the repository access of a user.
type Access struct {
	// Repos the user can access now.
	Repos []directory.Repo
	// PendingApproval is set while an organization owner has yet to
	// approve the user's request to install the App.
	PendingApproval bool
}

// ErrRevoked is returned by GitHub.Recheck when the user's authorization
// is gone.
var ErrRevoked = errors.New("github authorization revoked")
