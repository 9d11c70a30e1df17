package integration

import (
	"context"
	"errors"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/github/directory"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// NangoProvider is the provider name of users who signed in through
// Nango: it appears in {prefix}/login/nango and X-Auth-Provider.
const NangoProvider = "nango"

// Nango is signing in and connecting repositories through Nango's Connect
// flow, and Nango's webhooks. nangoaccess.Service implements it.
type Nango interface {
	// LoginEnabled reports whether users can sign in through Nango.
	LoginEnabled() bool
	// ReposEnabled reports whether users connect repositories through
	// Nango.
	ReposEnabled() bool
	// Label names the Nango login on the chooser page.
	Label() string
	// ConnectUI returns the Connect UI's base URL and the API URL it is
	// given.
	ConnectUI() (connectURL, apiURL string)
	// BeginLogin creates a connect session for a login from the browser
	// holding binding.
	BeginLogin(ctx context.Context, binding string, l NangoLogin) (*ConnectSession, error)
	// FinishLogin returns the login of the browser holding binding that
	// produced connection connectionID. Until Nango's auth webhook has
	// been processed it returns a login with neither UserID nor Error.
	// Once it has, the login is consumed: a second call finds nothing.
	// ErrLoginUnknown: no such login (never started, expired, finished);
	// ErrLoginForeign: another browser started it.
	FinishLogin(ctx context.Context, binding, connectionID string) (*NangoLogin, error)
	// BeginRepos creates a connect session through which the signed-in
	// user grants access to repositories.
	BeginRepos(ctx context.Context, s *session.Session) (*ConnectSession, error)
	// RepoStatus reports whether connection connectionID of the user has
	// been processed, and the user's repositories.
	RepoStatus(ctx context.Context, userID, connectionID string) (*RepoStatus, error)
}

// Errors of Nango.FinishLogin.
var (
	ErrLoginUnknown = errors.New("no such login in progress: it expired, finished, or was never started")
	ErrLoginForeign = errors.New("the login was started in another browser")
)

// ConnectSession is a Nango connect session for the Connect UI.
type ConnectSession struct {
	Token     string
	ExpiresAt time.Time
}

// NangoLogin is a login through Nango: where it goes afterwards and, once
// Nango reported the connection, who signed in or why it failed.
type NangoLogin struct {
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
