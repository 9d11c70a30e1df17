package githubaccess

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"go.uber.org/zap"
	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/internal/github"
	"github.com/gatehouse-auth/gatehouse/internal/github/directory"
	"github.com/gatehouse-auth/gatehouse/internal/kit"
	"github.com/gatehouse-auth/gatehouse/internal/lock"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
	"github.com/gatehouse-auth/gatehouse/internal/session"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// DefaultRecheckInterval is how often membership and repository access
// are confirmed with GitHub unless configured.
const DefaultRecheckInterval = 10 * time.Minute

// retryAfterError is when a failed re-check is tried again.
const retryAfterError = time.Minute

// AppConfig describes the GitHub App.
type AppConfig struct {
	ClientID, ClientSecret string
	WebhookSecret          []byte
	Endpoints              github.Endpoints
	// App signs server-to-server requests; nil without a private key.
	App *github.App
}

// Options configures a Service.
type Options struct {
	// Logins maps the names of github login providers to them.
	Logins map[string]*Login
	// App is the GitHub App; nil when none is configured.
	App *AppConfig
	// RecheckInterval. Default: DefaultRecheckInterval.
	RecheckInterval time.Duration
	Directory       *directory.Directory
	Sessions        *session.Manager
	// Broker keeps GitHub tokens for users who signed in or connected
	// repositories through it (Nango); nil without one.
	Broker Broker
	// BrokerRepos is set when users connect repositories through the
	// broker (Nango's Connect UI) rather than the App's own authorization.
	BrokerRepos bool
	// BrokerEndpoints locate the GitHub that the broker's user tokens are
	// for, when no App is configured. Zero value: github.com.
	BrokerEndpoints github.Endpoints
	Store           store.Store
	KeyPrefix       string
	Logger          *zap.Logger
}

// Broker holds GitHub tokens on Gatehouse's behalf (Nango): the user
// signed in, or connected repositories, through one of its connections.
type Broker interface {
	// Provider is the session provider name of users who signed in
	// through the broker.
	Provider() string
	// Groups reads again the organizations and teams of a user who signed
	// in through the broker; ErrConnectionGone when the login connection
	// no longer exists.
	Groups(ctx context.Context, userID string) ([]string, error)
	// RepoToken returns the GitHub user token of u's repository
	// connection and whether the App's installation still awaits an
	// organization owner's approval; ErrConnectionGone when the
	// connection no longer exists.
	RepoToken(ctx context.Context, u *directory.User) (token string, pending bool, err error)
}

// ErrConnectionGone is returned by a Broker when the user's connection was
// deleted or its authorization revoked.
var ErrConnectionGone = errors.New("connection gone")

// Access is the repository access of a user.
type Access struct {
	// Repos the user can access now.
	Repos []directory.Repo
	// PendingApproval is set while an organization owner has yet to
	// approve the user's request to install the App.
	PendingApproval bool
}

// Service is GitHub's part of Gatehouse: sign-in re-checks, repository
// access through the App or a broker, and the App's endpoints and
// webhooks.
type Service struct {
	opts      Options
	appOAuth  *github.OAuth
	api       *github.Client
	refreshes lock.Flight // App user token refreshes
	now       func() time.Time
}

// New returns a Service for opts.
func New(opts Options) *Service {
	if opts.RecheckInterval <= 0 {
		opts.RecheckInterval = DefaultRecheckInterval
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	s := &Service{opts: opts, now: time.Now}
	s.refreshes = lock.Flight{Store: opts.Store, Prefix: opts.KeyPrefix + "lock:apptoken:"}
	if opts.App != nil {
		ep := opts.App.Endpoints.WithDefaults()
		s.appOAuth = &github.OAuth{ClientID: opts.App.ClientID, ClientSecret: opts.App.ClientSecret, Endpoints: ep}
		s.api = &github.Client{Endpoints: ep}
	} else if opts.Broker != nil {
		s.api = &github.Client{Endpoints: opts.BrokerEndpoints.WithDefaults()}
	}
	return s
}

// AppConfigured reports whether a GitHub App is configured.
func (s *Service) AppConfigured() bool { return s.opts.App != nil }

// AppAuthURL starts the App's user authorization. GitHub Apps take no
// scopes.
func (s *Service) AppAuthURL(redirectURI, state, verifier string) string {
	return s.appOAuth.AuthURL(redirectURI, state, oauth2.S256ChallengeFromVerifier(verifier), nil)
}

// Due implements kit.Rechecker.
func (s *Service) Due(sess *session.Session) bool {
	if s.opts.Logins[sess.Provider] == nil && s.opts.App == nil && s.opts.Broker == nil {
		return false
	}
	return s.now().Sub(sess.CheckedAt) >= s.opts.RecheckInterval
}

// OnLogin fills a new session's repositories from what is already known
// about the user, without calling GitHub.
func (s *Service) OnLogin(ctx context.Context, sess *session.Session) {
	sess.CheckedAt = s.now()
	if s.opts.App == nil && s.opts.Broker == nil {
		return
	}
	u, err := s.opts.Directory.User(ctx, sess.UserID)
	if err != nil {
		return
	}
	if repos, err := s.opts.Directory.ReposOf(ctx, u); err == nil {
		sess.Repos = directory.Names(repos)
	}
}

// Recheck implements kit.Rechecker: it confirms the groups and
// repositories of sess with GitHub.
func (s *Service) Recheck(ctx context.Context, sess *session.Session) error {
	// retryLater keeps what the session has and tries again in a minute.
	retryLater := func(err error) error {
		sess.CheckedAt = s.now().Add(retryAfterError - s.opts.RecheckInterval)
		return err
	}
	// The groups come from GitHub directly (an OAuth App login) or
	// through the Nango broker; gone is their "access revoked" answer.
	var fetch func() ([]string, error)
	var gone func(error) bool
	switch l, b := s.opts.Logins[sess.Provider], s.opts.Broker; {
	case l != nil && sess.AccessToken != "":
		fetch, gone = func() ([]string, error) { return l.Groups(ctx, sess.AccessToken) }, github.IsUnauthorized
	case b != nil && sess.Provider == b.Provider():
		fetch = func() ([]string, error) { return b.Groups(ctx, sess.UserID) }
		gone = func(err error) bool { return errors.Is(err, ErrConnectionGone) }
	}
	if fetch != nil {
		groups, err := fetch()
		switch {
		case gone(err):
			return kit.ErrRevoked
		case err != nil:
			return retryLater(err)
		}
		sort.Strings(groups)
		sess.Groups = groups
	}
	if s.opts.App != nil || s.opts.Broker != nil {
		repos, err := s.syncUser(ctx, sess.UserID)
		if err != nil {
			return retryLater(err)
		}
		sess.Repos = directory.Names(repos)
	}
	sess.CheckedAt = s.now()
	return nil
}

// Connect redeems the App authorization code for the signed-in user,
// lists the installations and repositories the user can access and
// records them.
func (s *Service) Connect(ctx context.Context, sess *session.Session, code, redirectURI, verifier string) (*Access, error) {
	tok, err := s.appOAuth.Exchange(ctx, code, redirectURI, verifier)
	if err != nil {
		return nil, exchangeError(err)
	}
	ghUser, err := s.api.User(ctx, tok.AccessToken)
	if err != nil {
		return nil, &provider.Error{Code: "provider_unavailable", Status: http.StatusBadGateway, Err: fmt.Errorf("reading the GitHub user: %w", err)}
	}
	if _, err := s.opts.Directory.UpdateUser(ctx, sess.UserID, func(u *directory.User) error {
		u.GitHubID, u.GitHubUsername, u.AvatarURL = ghUser.ID, ghUser.Login, ghUser.AvatarURL
		if sess.Email != "" {
			u.Email = sess.Email
		}
		u.AppToken, u.AppRefreshToken = tok.AccessToken, tok.RefreshToken
		u.AppTokenExpiry, u.AppRefreshExpiry = tok.Expiry, tok.RefreshExpiry
		return nil
	}); err != nil {
		return nil, err
	}
	repos, err := s.syncUser(ctx, sess.UserID)
	if err != nil {
		return nil, &provider.Error{Code: "provider_unavailable", Status: http.StatusBadGateway, Err: err}
	}
	return s.status(ctx, sess.UserID, repos)
}

// Status returns what the user has connected so far.
func (s *Service) Status(ctx context.Context, userID string) (*Access, error) {
	return s.status(ctx, userID, nil)
}

func (s *Service) status(ctx context.Context, userID string, known []directory.Repo) (*Access, error) {
	u, err := s.opts.Directory.User(ctx, userID)
	if errors.Is(err, directory.ErrNotFound) {
		return &Access{}, nil
	}
	if err != nil {
		return nil, err
	}
	repos := known
	if repos == nil {
		if repos, err = s.opts.Directory.ReposOf(ctx, u); err != nil {
			return nil, err
		}
	}
	return &Access{Repos: repos, PendingApproval: u.PendingInstallationRequest}, nil
}

// SyncRepos lists the installations and repositories the user can access
// now with the user's GitHub token (the App's, or the broker's), records
// them and updates the user's sessions. A user who never connected
// repositories has none.
func (s *Service) SyncRepos(ctx context.Context, userID string) ([]directory.Repo, error) {
	return s.syncUser(ctx, userID)
}

func (s *Service) syncUser(ctx context.Context, userID string) ([]directory.Repo, error) {
	u, err := s.opts.Directory.User(ctx, userID)
	if errors.Is(err, directory.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	switch {
	case u.RepoConnectionID != "" && s.opts.Broker != nil:
		token, pending, err := s.opts.Broker.RepoToken(ctx, u)
		if errors.Is(err, ErrConnectionGone) {
			return nil, s.forgetAccess(ctx, userID)
		}
		if err != nil {
			return nil, err
		}
		return s.SyncWithToken(ctx, userID, token, u.RepoConnectionID, pending, nil)
	case u.AppToken != "" && s.opts.App != nil:
		return s.syncAppUser(ctx, u)
	}
	return nil, nil
}

// syncAppUser lists the user's access with the GitHub App's user token,
// refreshing it when it expires or GitHub refuses it.
func (s *Service) syncAppUser(ctx context.Context, u *directory.User) ([]directory.Repo, error) {
	userID := u.ID
	token, err := s.freshToken(ctx, u, false)
	if errors.Is(err, errTokenDead) {
		return nil, s.forgetAccess(ctx, userID)
	}
	if err != nil {
		return nil, err
	}
	access, pending, err := s.listAccess(ctx, userID, token, "")
	if github.IsUnauthorized(err) {
		// Expired early or revoked: one refresh, then one more try.
		token, err = s.freshToken(ctx, u, true)
		if errors.Is(err, errTokenDead) {
			return nil, s.forgetAccess(ctx, userID)
		}
		if err != nil {
			return nil, err
		}
		access, pending, err = s.listAccess(ctx, userID, token, "")
	}
	if github.IsUnauthorized(err) {
		return nil, s.forgetAccess(ctx, userID)
	}
	if err != nil {
		return nil, err
	}
	return s.record(ctx, userID, access, pending, nil)
}

// SyncWithToken lists the user's installations and repositories with a
// GitHub user token from connection connID (recorded on each repository),
// records them together with what update sets on the user, and updates
// the user's sessions. With pending (the installation awaits an owner's
// approval) nothing is listed and the user is marked pending.
func (s *Service) SyncWithToken(ctx context.Context, userID, token, connID string, pending bool, update func(*directory.User)) ([]directory.Repo, error) {
	var access map[int64][]directory.Repo
	if !pending {
		var err error
		access, pending, err = s.listAccess(ctx, userID, token, connID)
		if github.IsUnauthorized(err) {
			return nil, s.forgetAccess(ctx, userID)
		}
		if err != nil {
			return nil, err
		}
	}
	return s.record(ctx, userID, access, pending, update)
}

// listAccess lists, with a user token, the installations and repositories
// the user can access. GitHub answers 403 while an organization owner has
// yet to approve the installation: that, or no installation at all, is
// reported as pending.
func (s *Service) listAccess(ctx context.Context, userID, token, connID string) (map[int64][]directory.Repo, bool, error) {
	installs, err := s.api.UserInstallations(ctx, token)
	pending := false
	switch {
	case github.IsForbidden(err):
		installs, pending = nil, true
	case err != nil:
		return nil, false, fmt.Errorf("listing installations: %w", err)
	}
	access := map[int64][]directory.Repo{}
	for _, in := range installs {
		if in.SuspendedAt != nil {
			continue
		}
		list, err := s.api.UserInstallationRepos(ctx, token, in.ID)
		if github.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, false, fmt.Errorf("listing repositories of installation %d: %w", in.ID, err)
		}
		repos := make([]directory.Repo, 0, len(list))
		for _, r := range list {
			repos = append(repos, directory.Repo{GitHubRepoID: r.ID, FullName: r.FullName, InstallationID: in.ID, OwnerID: userID, NangoConnectionID: connID})
		}
		access[in.ID] = repos
		if _, err := s.opts.Directory.UpdateInstallation(ctx, in.ID, func(rec *directory.Installation) error {
			rec.AccountLogin, rec.AccountType, rec.Suspended = in.AccountLogin, in.AccountType, false
			return nil
		}); err != nil {
			return nil, false, err
		}
	}
	if len(installs) == 0 {
		pending = true
	}
	return access, pending, nil
}

// record saves the user's access and pushes the repositories to the
// user's sessions. update, if any, and the end of a pending approval are
// applied last, once the sessions carry the repositories: what they mark
// (a connection in place, no approval pending: the status endpoint
// reports it ready) is never seen before a request of the user would see
// the repositories too.
func (s *Service) record(ctx context.Context, userID string, access map[int64][]directory.Repo, pending bool, update func(*directory.User)) ([]directory.Repo, error) {
	// An approval that ends (pending turning false) is, like update, only
	// marked once the sessions carry the repositories: the status
	// endpoint reports it as ready.
	stamp := s.now()
	u, err := s.opts.Directory.UpdateUser(ctx, userID, func(u *directory.User) error {
		u.Access, u.CheckedAt = access, stamp
		u.PendingInstallationRequest = u.PendingInstallationRequest || pending
		return nil
	})
	if err != nil {
		return nil, err
	}
	repos, err := s.opts.Directory.ReposOf(ctx, u)
	if err != nil {
		return nil, err
	}
	if err := s.pushToSessions(ctx, userID, repos, false); err != nil {
		return nil, err
	}
	if update != nil || u.PendingInstallationRequest != pending {
		if _, err := s.opts.Directory.UpdateUser(ctx, userID, func(u *directory.User) error {
			if u.CheckedAt.Equal(stamp) { // no newer sync meanwhile: its flag stands
				u.PendingInstallationRequest = pending
			}
			if update != nil {
				update(u)
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return repos, nil
}

// forgetAccess drops the user's App token and repositories: the user
// revoked the App's authorization.
func (s *Service) forgetAccess(ctx context.Context, userID string) error {
	_, err := s.opts.Directory.UpdateUser(ctx, userID, func(u *directory.User) error {
		u.AppToken, u.AppRefreshToken = "", ""
		u.AppTokenExpiry, u.AppRefreshExpiry = time.Time{}, time.Time{}
		u.Access, u.PendingInstallationRequest = nil, false
		return nil
	})
	if err != nil {
		return err
	}
	return s.pushToSessions(ctx, userID, nil, false)
}

// pushToSessions writes the user's repositories into all the user's
// sessions; with recheck, they are also confirmed with GitHub at their
// next request.
func (s *Service) pushToSessions(ctx context.Context, userID string, repos []directory.Repo, recheck bool) error {
	names := directory.Names(repos)
	return s.opts.Sessions.UpdateAll(ctx, userID, func(sess *session.Session) {
		sess.Repos = names
		if recheck {
			sess.CheckedAt = time.Time{}
		}
	})
}

// errTokenDead means the App token cannot be refreshed any more.
var errTokenDead = errors.New("github app token revoked or expired")

// freshToken returns a working App user token for u, refreshing it when it
// expires within a minute, or when force is set (GitHub refused it).
// Refreshes are single across instances (a store lock) and within this one
// (singleflight); after taking the lock the user is read again, since
// another instance may have refreshed meanwhile — a refresh token works
// only once.
func (s *Service) freshToken(ctx context.Context, u *directory.User, force bool) (string, error) {
	if !force && !s.expiring(u) {
		return u.AppToken, nil
	}
	stale := u.AppToken
	return lock.Do(ctx, &s.refreshes, u.ID, appTokenRefreshBudget, func(ctx context.Context) (string, error) {
		cur, err := s.opts.Directory.User(ctx, u.ID)
		if err != nil {
			return "", err
		}
		if cur.AppToken == "" || cur.AppRefreshToken == "" {
			return "", errTokenDead
		}
		if cur.AppToken != stale && !s.expiring(cur) {
			return cur.AppToken, nil // refreshed by someone else meanwhile
		}
		tok, err := s.appOAuth.Refresh(ctx, cur.AppRefreshToken)
		if github.IsInvalidGrant(err) {
			return "", errTokenDead
		}
		if err != nil {
			return "", fmt.Errorf("refreshing the GitHub App token: %w", err)
		}
		if _, err := s.opts.Directory.UpdateUser(ctx, u.ID, func(u *directory.User) error {
			u.AppToken, u.AppRefreshToken = tok.AccessToken, tok.RefreshToken
			u.AppTokenExpiry, u.AppRefreshExpiry = tok.Expiry, tok.RefreshExpiry
			return nil
		}); err != nil {
			return "", err
		}
		s.opts.Logger.Debug("github app token refreshed", zap.String("user_id", u.ID))
		return tok.AccessToken, nil
	})
}

// appTokenRefreshBudget bounds an App token refresh: the lock wait, the
// call to GitHub and the write.
const appTokenRefreshBudget = 30 * time.Second

func (s *Service) expiring(u *directory.User) bool {
	return !u.AppTokenExpiry.IsZero() && !s.now().Add(time.Minute).Before(u.AppTokenExpiry)
}
