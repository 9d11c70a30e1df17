package githubaccess

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/github"
	"github.com/gatehouse-auth/gatehouse/internal/github/directory"
	"github.com/gatehouse-auth/gatehouse/internal/webhook"
)

// deliveryTTL is how long a delivery id is remembered, longer than GitHub
// keeps redelivering.
const deliveryTTL = 14 * 24 * time.Hour

// Webhook receives one App webhook delivery: it verifies the signature over the raw
// body, drops repeated deliveries, and applies the event to the stored
// users, installations and sessions before acknowledging it.
func (s *Service) Webhook(ctx context.Context, r *http.Request) int {
	log := s.opts.Logger.With(zap.String("event", r.Header.Get("X-GitHub-Event")), zap.String("delivery", r.Header.Get("X-GitHub-Delivery")))
	b, status := webhook.ReadVerified(r, "github", log, func(body []byte) error {
		return github.VerifySignature(s.opts.App.WebhookSecret, body, r.Header.Get("X-Hub-Signature-256"))
	})
	if status != 0 {
		return status
	}
	defer b.Release()
	body := b.Data
	delivery := r.Header.Get("X-GitHub-Delivery")
	if delivery == "" || len(delivery) > 128 || strings.ContainsAny(delivery, " \r\n") {
		return http.StatusBadRequest
	}
	event, err := github.Parse(r.Header.Get("X-GitHub-Event"), body)
	d := webhook.Delivery{Source: "github", Type: r.Header.Get("X-GitHub-Event")}
	if errors.Is(err, github.ErrUnhandledEvent) {
		d.Count("ignored")
		return http.StatusAccepted // verified, not ours to act on
	}
	if err != nil {
		log.Warn("github webhook refused: bad payload", zap.Error(err))
		return http.StatusBadRequest
	}

	// One effect per delivery id.
	return webhook.ApplyOnce(ctx, s.opts.Store, s.opts.KeyPrefix+"github-delivery:"+delivery, deliveryTTL, d, log,
		func() error { return s.apply(ctx, event) })
}

func (s *Service) apply(ctx context.Context, event any) error {
	d := s.opts.Directory
	switch e := event.(type) {
	case *github.PingEvent:
		return nil
	case *github.InstallationEvent:
		return s.applyInstallation(ctx, e)
	case *github.InstallationRepositoriesEvent:
		id := e.Installation.ID
		if _, err := d.UpdateInstallation(ctx, id, func(in *directory.Installation) error {
			in.Repos = mergeRepos(removeRepos(in.Repos, e.RepositoriesRemoved), toRepos(e.RepositoriesAdded, id))
			return nil
		}); err != nil {
			return err
		}
		// Removed repositories go at once. Added ones go to the account
		// owner at once; other users get them once GitHub confirms at
		// their next re-check, which is brought forward.
		return s.forUsers(ctx, id, true, func(u *directory.User) {
			repos := removeRepos(u.Access[id], e.RepositoriesRemoved)
			if u.GitHubID != 0 && u.GitHubID == e.Installation.AccountID {
				repos = mergeRepos(repos, toRepos(e.RepositoriesAdded, id))
			}
			u.Access[id] = repos
		})
	case *github.InstallationTargetEvent:
		if _, err := d.UpdateInstallation(ctx, e.InstallationID, func(in *directory.Installation) error {
			in.AccountLogin = e.Account.Login
			in.Repos = renameOwner(in.Repos, e.FromLogin, e.Account.Login)
			return nil
		}); err != nil {
			return err
		}
		return s.forUsers(ctx, e.InstallationID, false, func(u *directory.User) {
			u.Access[e.InstallationID] = renameOwner(u.Access[e.InstallationID], e.FromLogin, e.Account.Login)
		})
	case *github.AppAuthorizationEvent:
		u, err := d.UserByGitHubID(ctx, e.Sender.ID)
		if errors.Is(err, directory.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.forgetAccess(ctx, u.ID); err != nil {
			return err
		}
		ended, err := s.opts.Sessions.EndAll(ctx, u.ID)
		s.opts.Logger.Info("github app authorization revoked: sessions ended", zap.String("user_id", u.ID), zap.Int("sessions", len(ended)))
		return err
	}
	return nil
}

func (s *Service) applyInstallation(ctx context.Context, e *github.InstallationEvent) error {
	d := s.opts.Directory
	id := e.Installation.ID
	switch e.Action {
	case "deleted":
		if err := d.DeleteInstallation(ctx, id); err != nil {
			return err
		}
		return s.forUsers(ctx, id, false, func(u *directory.User) { delete(u.Access, id) })
	case "suspend", "unsuspend":
		if _, err := d.UpdateInstallation(ctx, id, func(in *directory.Installation) error {
			in.Suspended = e.Action == "suspend"
			return nil
		}); err != nil {
			return err
		}
		return s.forUsers(ctx, id, false, func(*directory.User) {})
	case "new_permissions_accepted":
		return s.forUsers(ctx, id, true, func(*directory.User) {})
	case "created":
		repos := toRepos(e.Repositories, id)
		if len(e.Repositories) == 0 && s.opts.App.App != nil {
			listed, err := s.installationRepos(ctx, id)
			if err != nil {
				return err
			}
			repos = listed
		}
		installer := ""
		if u, err := d.UserByGitHubID(ctx, e.Sender.ID); err == nil {
			installer = u.ID
		}
		if _, err := d.UpdateInstallation(ctx, id, func(in *directory.Installation) error {
			in.AccountLogin, in.AccountType = e.Installation.AccountLogin, e.Installation.AccountType
			in.InstalledByID, in.Suspended, in.Repos = installer, false, repos
			return nil
		}); err != nil {
			return err
		}
		// The approval a requester was waiting for: clear the pending flag
		// and give the installation's repositories, to be confirmed with
		// GitHub at the user's next request.
		for _, who := range []*github.Account{e.Requester, &e.Sender} {
			if who == nil || who.ID == 0 {
				continue
			}
			u, err := d.UserByGitHubID(ctx, who.ID)
			if errors.Is(err, directory.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			// The flag is cleared once the sessions carry the repositories:
			// a status poll that sees no approval pending sees them too.
			if err := s.updateUser(ctx, u.ID, true, func(u *directory.User) {
				if u.Access == nil {
					u.Access = map[int64][]directory.Repo{}
				}
				u.Access[id] = withOwner(repos, u.ID)
			}); err != nil {
				return err
			}
			if _, err := d.UpdateUser(ctx, u.ID, func(u *directory.User) error {
				u.PendingInstallationRequest = false
				return nil
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

// installationRepos lists an installation's repositories with an
// installation token minted from the App's private key.
func (s *Service) installationRepos(ctx context.Context, id int64) ([]directory.Repo, error) {
	jwt, err := s.opts.App.App.JWT(s.now())
	if err != nil {
		return nil, err
	}
	tok, _, err := s.api.InstallationToken(ctx, jwt, id)
	if err != nil {
		return nil, err
	}
	list, err := s.api.InstallationRepos(ctx, tok)
	if err != nil {
		return nil, err
	}
	return toRepos(list, id), nil
}

// forUsers applies fn to every user with access through the installation
// and pushes the result to their sessions.
func (s *Service) forUsers(ctx context.Context, installation int64, recheck bool, fn func(*directory.User)) error {
	ids, err := s.opts.Directory.InstallationUsers(ctx, installation)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.updateUser(ctx, id, recheck, func(u *directory.User) {
			if u.Access == nil {
				u.Access = map[int64][]directory.Repo{}
			}
			fn(u)
		}); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) updateUser(ctx context.Context, id string, recheck bool, fn func(*directory.User)) error {
	u, err := s.opts.Directory.UpdateUser(ctx, id, func(u *directory.User) error { fn(u); return nil })
	if err != nil {
		return err
	}
	repos, err := s.opts.Directory.ReposOf(ctx, u)
	if err != nil {
		return err
	}
	return s.pushToSessions(ctx, id, repos, recheck)
}

func toRepos(list []github.Repo, installation int64) []directory.Repo {
	out := make([]directory.Repo, 0, len(list))
	for _, r := range list {
		out = append(out, directory.Repo{GitHubRepoID: r.ID, FullName: r.FullName, InstallationID: installation})
	}
	return out
}

func withOwner(repos []directory.Repo, owner string) []directory.Repo {
	out := make([]directory.Repo, len(repos))
	for i, r := range repos {
		r.OwnerID = owner
		out[i] = r
	}
	return out
}

// mergeRepos adds the repositories of more that repos lacks (by id).
func mergeRepos(repos, more []directory.Repo) []directory.Repo {
	have := make(map[int64]bool, len(repos))
	for _, r := range repos {
		have[r.GitHubRepoID] = true
	}
	for _, r := range more {
		if !have[r.GitHubRepoID] {
			have[r.GitHubRepoID] = true
			repos = append(repos, r)
		}
	}
	return repos
}

func removeRepos(repos []directory.Repo, gone []github.Repo) []directory.Repo {
	drop := map[int64]bool{}
	names := map[string]bool{}
	for _, g := range gone {
		drop[g.ID] = true
		names[strings.ToLower(g.FullName)] = true
	}
	out := repos[:0:0]
	for _, r := range repos {
		if !drop[r.GitHubRepoID] && !names[strings.ToLower(r.FullName)] {
			out = append(out, r)
		}
	}
	return out
}

func renameOwner(repos []directory.Repo, from, to string) []directory.Repo {
	if from == "" || to == "" {
		return repos
	}
	out := make([]directory.Repo, len(repos))
	for i, r := range repos {
		if owner, name, ok := strings.Cut(r.FullName, "/"); ok && strings.EqualFold(owner, from) {
			r.FullName = to + "/" + name
		}
		out[i] = r
	}
	return out
}
