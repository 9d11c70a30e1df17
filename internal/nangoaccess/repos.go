package nangoaccess

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/github/directory"
	"github.com/gatehouse-auth/gatehouse/internal/nango"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// BeginRepos creates a connect session for the repository
// integration, tagged with the signed-in user's id.
func (s *Service) BeginRepos(ctx context.Context, sess *session.Session) (*nango.ConnectSession, error) {
	tags := map[string]string{"end_user_id": sess.UserID}
	end := &nango.EndUser{ID: sess.UserID, DisplayName: sess.Login}
	if sess.Email != "" {
		tags["end_user_email"], end.Email = sess.Email, sess.Email
	}
	return s.opts.Client.CreateConnectSession(ctx, nango.SessionRequest{
		Tags: tags, EndUser: end, AllowedIntegrations: []string{s.opts.RepoIntegration},
	})
}

// RepoStatus reports whether connection connectionID of the user has been
// processed, and the user's repositories.
func (s *Service) RepoStatus(ctx context.Context, userID, connectionID string) (*RepoStatus, error) {
	u, err := s.opts.Directory.User(ctx, userID)
	if errors.Is(err, directory.ErrNotFound) {
		return &RepoStatus{}, nil
	}
	if err != nil {
		return nil, err
	}
	if u.RepoConnectionID != connectionID {
		return &RepoStatus{}, nil
	}
	repos, err := s.opts.Directory.ReposOf(ctx, u)
	if err != nil {
		return nil, err
	}
	// Not ready while an owner's approval is pending: the seed's front end
	// polls until ready or pendingApproval.
	return &RepoStatus{Ready: !u.PendingInstallationRequest, Repos: repos, PendingApproval: u.PendingInstallationRequest}, nil
}

// applyRepos processes the auth webhook of a repository connection (its
// creation, and the override Nango sends once the App is installed): it
// lists the installations and repositories with the user's token — not
// the installation token the proxy would use — records them, triggers
// the configured syncs, and deletes the user's previous repository
// connection.
func (s *Service) applyRepos(ctx context.Context, w *nango.Webhook, log *zap.Logger) error {
	userID := w.EndUserID()
	u, err := s.opts.Directory.User(ctx, userID)
	if errors.Is(err, directory.ErrNotFound) {
		log.Warn("nango repository connection for an unknown user ignored")
		return nil
	}
	if err != nil {
		return err
	}
	if !w.Success {
		return s.recordFailure(ctx, userID, failureCode(w))
	}
	c, err := s.opts.Client.GetConnection(ctx, w.ConnectionID, s.opts.RepoIntegration)
	if nango.IsNotFound(err) {
		log.Info("nango repository connection already deleted")
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the connection: %w", err)
	}
	token := c.UserToken()
	if token == "" {
		return fmt.Errorf("the connection holds no GitHub user token (credentials type %q)", c.Credentials.Type)
	}
	previous := u.RepoConnectionID
	repos, err := s.github.SyncWithToken(ctx, userID, token, w.ConnectionID, c.Pending, func(u *directory.User) {
		u.RepoConnectionID, u.NangoError = w.ConnectionID, ""
	})
	if err != nil {
		return err
	}
	u, err = s.opts.Directory.User(ctx, userID)
	if err != nil {
		return err
	}
	log.Info("nango repositories connected", zap.String("user_id", userID), zap.Int("repos", len(repos)),
		zap.Bool("pending_approval", u.PendingInstallationRequest))
	if len(s.opts.Syncs) > 0 && !u.PendingInstallationRequest {
		if err := s.opts.Client.TriggerSync(ctx, s.opts.RepoIntegration, w.ConnectionID, s.opts.Syncs); err != nil {
			// The repositories are recorded; the syncs are Nango's to run.
			log.Warn("cannot trigger nango syncs", zap.Strings("syncs", s.opts.Syncs), zap.Error(err))
		}
	}
	if previous != "" && previous != w.ConnectionID {
		if err := s.opts.Client.DeleteConnection(ctx, previous, s.opts.RepoIntegration); err != nil && !nango.IsNotFound(err) {
			log.Warn("cannot delete the previous repository connection", zap.String("previous_connection_id", previous), zap.Error(err))
		}
	}
	return nil
}

// recordFailure keeps the last failure Nango reported for a user's
// connection.
func (s *Service) recordFailure(ctx context.Context, userID, code string) error {
	_, err := s.opts.Directory.UpdateUser(ctx, userID, func(u *directory.User) error {
		u.NangoError, u.NangoErrorAt = code, s.now().UTC()
		return nil
	})
	return err
}
