package nangoaccess

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/github/directory"
	"github.com/gatehouse-auth/gatehouse/internal/loginstate"
	"github.com/gatehouse-auth/gatehouse/internal/nango"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// tempPrefix starts the temporary end-user id of a login: the connect
// session is tagged with it until the real user id is known.
const tempPrefix = "login-"

// loginFlow names Nango logins among the flows in progress.
const loginFlow = "nango-login"

// loginRecord is a Nango login in progress, kept under its temporary
// end-user id.
type loginRecord struct {
	loginstate.Owner
	Login Login `json:"l"`
}

// logins is the store of Nango logins in progress.
func (s *Service) logins() loginstate.Flows {
	return loginstate.NewFlows(s.opts.Store, s.opts.Ring, s.opts.KeyPrefix+"nango-login:")
}

func (s *Service) browserKey(binding string) string {
	return s.opts.KeyPrefix + "nango-browser:" + loginstate.BindingHash(binding)
}
func (s *Service) incomingKey(connectionID string) string {
	return s.opts.KeyPrefix + "nango-incoming:" + connectionID
}

// UserID is Gatehouse's id of a GitHub account: the same whether the user
// signs in through Nango or with a github provider named "github".
func UserID(githubID int64) string { return "github:" + strconv.FormatInt(githubID, 10) }

// BeginLogin records the login under a fresh
// temporary end-user id, bound to the browser, and creates a connect
// session for the login integration tagged with that id.
func (s *Service) BeginLogin(ctx context.Context, binding string, l Login) (*nango.ConnectSession, error) {
	temp := tempPrefix + loginstate.Random(24)
	rec := loginRecord{Owner: loginstate.Owner{Flow: loginFlow}, Login: l}
	if err := s.logins().Put(ctx, temp, binding, &rec); err != nil {
		return nil, err
	}
	if err := s.opts.Store.Set(ctx, s.browserKey(binding), []byte(temp), loginstate.TTL); err != nil {
		return nil, fmt.Errorf("recording the login: %w", err)
	}
	return s.opts.Client.CreateConnectSession(ctx, nango.SessionRequest{
		Tags:                map[string]string{"end_user_id": temp},
		EndUser:             &nango.EndUser{ID: temp},
		AllowedIntegrations: []string{s.opts.LoginIntegration},
	})
}

// FinishLogin returns the login of the browser holding binding that
// produced connection connectionID. Until Nango's auth webhook has been
// processed it returns a login with neither UserID nor Error. Once it has,
// the login is consumed: a second call finds nothing
// (loginstate.ErrUnknownState, as for a login never started or expired);
// loginstate.ErrForeign when another browser started it.
func (s *Service) FinishLogin(ctx context.Context, binding, connectionID string) (*Login, error) {
	temp, err := s.opts.Store.Get(ctx, s.incomingKey(connectionID), 0)
	if errors.Is(err, store.ErrNotFound) {
		// Not reported yet — or never: only a browser with a login in
		// progress is told to keep waiting.
		if binding == "" || !loginstate.ValidBinding(binding) {
			return nil, loginstate.ErrUnknownState
		}
		if _, err := s.opts.Store.Get(ctx, s.browserKey(binding), 0); errors.Is(err, store.ErrNotFound) {
			return nil, loginstate.ErrUnknownState
		} else if err != nil {
			return nil, err
		}
		return &Login{}, nil
	}
	if err != nil {
		return nil, err
	}
	logins := s.logins()
	rec := new(loginRecord)
	if err := logins.Get(ctx, string(temp), rec); err != nil {
		return nil, err
	}
	if rec.Login.ConnectionID != connectionID {
		return nil, loginstate.ErrUnknownState
	}
	// Single use, for its own browser: of concurrent polls, one takes
	// the login.
	if err := logins.Take(ctx, string(temp), binding, loginFlow, "", rec); err != nil {
		return nil, err
	}
	_ = s.opts.Store.Delete(ctx, s.incomingKey(connectionID))
	_ = s.opts.Store.Delete(ctx, s.browserKey(binding))
	return &rec.Login, nil
}

// applyLogin processes the auth webhook of a login connection: it reads
// the GitHub user through Nango's proxy, creates or finds the user, and
// marks the login ready for the browser that started it.
func (s *Service) applyLogin(ctx context.Context, w *nango.Webhook, log *zap.Logger) error {
	endUser := w.EndUserID()
	if !strings.HasPrefix(endUser, tempPrefix) {
		// The connection already belongs to a user (re-authorization):
		// refresh what is known about them.
		if _, err := s.opts.Directory.User(ctx, endUser); err != nil {
			log.Info("nango login webhook for an unknown user ignored")
			return nil
		}
		_, _, err := s.identify(ctx, w.ConnectionID)
		return err
	}
	rec := new(loginRecord)
	err := s.logins().Get(ctx, endUser, rec)
	if errors.Is(err, loginstate.ErrUnknownState) {
		// Nobody can finish this login any more: the connection would be
		// an orphan.
		log.Info("nango login expired before its webhook; deleting the connection")
		if err := s.opts.Client.DeleteConnection(ctx, w.ConnectionID, s.opts.LoginIntegration); err != nil && !nango.IsNotFound(err) {
			return fmt.Errorf("deleting the orphaned connection: %w", err)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if !w.Success {
		rec.Login.ConnectionID, rec.Login.Error = w.ConnectionID, failureCode(w)
		return s.markReported(ctx, endUser, rec)
	}
	u, groups, err := s.identify(ctx, w.ConnectionID)
	if err != nil {
		return err
	}
	rec.Login.ConnectionID = w.ConnectionID
	rec.Login.UserID, rec.Login.Login, rec.Login.Email = u.ID, u.GitHubUsername, u.Email
	rec.Login.Name, rec.Login.Avatar, rec.Login.Groups = u.name, u.AvatarURL, groups
	log.Info("nango login connected", zap.String("user_id", u.ID))
	return s.markReported(ctx, endUser, rec)
}

func (s *Service) markReported(ctx context.Context, temp string, rec *loginRecord) error {
	if err := s.logins().Update(ctx, temp, rec); errors.Is(err, loginstate.ErrUnknownState) {
		return nil
	} else if err != nil {
		return err
	}
	if err := s.opts.Store.Set(ctx, s.incomingKey(rec.Login.ConnectionID), []byte(temp), loginstate.TTL); err != nil {
		return fmt.Errorf("recording the login: %w", err)
	}
	return nil
}

// identified is a directory user with the display name GitHub reported.
type identified struct {
	*directory.User
	name string
}

// identify reads the GitHub account behind a login connection and records
// the user: a new user keeps this connection (tagged with the real user id
// from now on); a returning user keeps theirs and this duplicate is
// deleted.
func (s *Service) identify(ctx context.Context, connectionID string) (*identified, []string, error) {
	api := s.proxy(connectionID)
	gu, err := api.User(ctx, "")
	if err != nil {
		return nil, nil, fmt.Errorf("reading the GitHub user through nango: %w", err)
	}
	email, err := api.PrimaryVerifiedEmail(ctx, "")
	if err != nil {
		// Without the user:email scope there is no verified email; never
		// fall back to the public profile email.
		email = ""
	}
	groups, err := s.groups(ctx, connectionID)
	if err != nil {
		return nil, nil, err
	}
	id := UserID(gu.ID)
	existing, err := s.opts.Directory.User(ctx, id)
	if err != nil && !errors.Is(err, directory.ErrNotFound) {
		return nil, nil, err
	}
	returning := existing != nil && existing.NangoConnectionID != "" && existing.NangoConnectionID != connectionID
	if returning {
		// Keep the user's connection if it still exists.
		if _, err := s.opts.Client.GetConnection(ctx, existing.NangoConnectionID, s.opts.LoginIntegration); nango.IsNotFound(err) {
			returning = false
		} else if err != nil {
			return nil, nil, err
		}
	}
	u, err := s.opts.Directory.UpdateUser(ctx, id, func(u *directory.User) error {
		u.GitHubID, u.GitHubUsername, u.AvatarURL = gu.ID, gu.Login, gu.AvatarURL
		u.Email = email
		u.IncomingConnectionID = connectionID
		if !returning {
			u.NangoConnectionID = connectionID
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if returning {
		if err := s.opts.Client.DeleteConnection(ctx, connectionID, s.opts.LoginIntegration); err != nil && !nango.IsNotFound(err) {
			return nil, nil, fmt.Errorf("deleting the duplicate connection: %w", err)
		}
	} else {
		tags := map[string]string{"end_user_id": id}
		end := &nango.EndUser{ID: id, DisplayName: gu.Login}
		if email != "" {
			tags["end_user_email"], end.Email = email, email
		}
		if err := s.opts.Client.PatchConnection(ctx, connectionID, s.opts.LoginIntegration, nango.Patch{Tags: tags, EndUser: end}); err != nil {
			return nil, nil, fmt.Errorf("tagging the connection with the user id: %w", err)
		}
	}
	return &identified{User: u, name: gu.Name}, groups, nil
}

// failureCode is Nango's reason for a failed connection, kept short and
// printable.
func failureCode(w *nango.Webhook) string {
	if w.Error != nil && w.Error.Type != "" {
		return w.Error.Type
	}
	return "connection_failed"
}
