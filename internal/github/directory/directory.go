// Package directory keeps the GitHub users, App installations and
// repositories Gatehouse knows about — the seed design's users, repos and
// installations tables — in the store, sealed like every other value.
package directory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/keys"
	"github.com/gatehouse-auth/gatehouse/internal/lock"
	"github.com/gatehouse-auth/gatehouse/internal/sealed"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// ErrNotFound is returned for a user or installation Gatehouse does not know.
var ErrNotFound = errors.New("directory: not found")

// retention is how long directory records live without being written.
const retention = 180 * 24 * time.Hour

// User is a person known to Gatehouse through GitHub (the seed's users
// table, plus the GitHub App's user token).
type User struct {
	// ID is Gatehouse's user id (X-Auth-User-Id).
	ID                         string `json:"id"`
	GitHubID                   int64  `json:"githubId,omitempty"`
	GitHubUsername             string `json:"githubUsername,omitempty"`
	Email                      string `json:"email,omitempty"`
	AvatarURL                  string `json:"avatarUrl,omitempty"`
	NangoConnectionID          string `json:"nangoConnectionId,omitempty"`
	IncomingConnectionID       string `json:"incomingConnectionId,omitempty"`
	PendingInstallationRequest bool   `json:"pendingInstallationRequest"`

	// RepoConnectionID is the user's Nango connection of the repository
	// integration (github-app-oauth), whose user token lists the
	// installations and repositories the user can access.
	RepoConnectionID string `json:"repoConnectionId,omitempty"`
	// NangoError is the last failure Nango reported for one of the user's
	// connections (e.g. a refresh that failed), with when it was reported.
	NangoError   string    `json:"nangoError,omitempty"`
	NangoErrorAt time.Time `json:"nangoErrorAt,omitzero"`

	// The GitHub App user-to-server token (8 h) and its refresh token.
	AppToken         string    `json:"appToken,omitempty"`
	AppRefreshToken  string    `json:"appRefreshToken,omitempty"`
	AppTokenExpiry   time.Time `json:"appTokenExpiry,omitzero"`
	AppRefreshExpiry time.Time `json:"appRefreshExpiry,omitzero"`

	// Access lists, per installation id, the repositories of that
	// installation the user can access, as GitHub last reported them.
	Access map[int64][]Repo `json:"access,omitempty"`
	// CheckedAt is when Access was last listed from GitHub.
	CheckedAt time.Time `json:"checkedAt,omitzero"`
}

// Repo is a repository reached through an installation (the seed's repos
// table).
type Repo struct {
	GitHubRepoID      int64  `json:"githubRepoId"`
	FullName          string `json:"fullName"`
	InstallationID    int64  `json:"installationId"`
	OwnerID           string `json:"ownerId,omitempty"`
	NangoConnectionID string `json:"nangoConnectionId,omitempty"`
}

// Installation is a GitHub App installation (the seed's installations
// table).
type Installation struct {
	InstallationID int64  `json:"installationId"`
	AccountType    string `json:"accountType"`
	AccountLogin   string `json:"accountLogin"`
	InstalledByID  string `json:"installedById,omitempty"`
	Suspended      bool   `json:"suspended,omitempty"`
	// Repos of the installation as the webhooks last described them.
	Repos []Repo `json:"repos,omitempty"`
}

// Directory reads and writes the records. Writers serialise through a
// lock per record, so concurrent webhooks and re-checks on several
// instances do not lose updates.
type Directory struct {
	st     store.Store
	ring   *keys.Ring
	prefix string
}

// New returns a Directory over st, with keys under prefix.
func New(st store.Store, ring *keys.Ring, prefix string) *Directory {
	return &Directory{st: st, ring: ring, prefix: prefix}
}

func (d *Directory) userKey(id string) string { return d.prefix + "user:" + id }
func (d *Directory) ghKey(ghid int64) string {
	return d.prefix + "ghuser:" + strconv.FormatInt(ghid, 10)
}
func (d *Directory) instKey(id int64) string {
	return d.prefix + "installation:" + strconv.FormatInt(id, 10)
}
func (d *Directory) instUsersKey(id int64) string {
	return d.prefix + "installation-users:" + strconv.FormatInt(id, 10)
}

func (d *Directory) get(ctx context.Context, key string, v any) error {
	err := sealed.Store{Store: d.st, Ring: d.ring}.Get(ctx, key, 0, v)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("directory: %w", err)
	}
	return nil
}

func (d *Directory) put(ctx context.Context, key string, v any) error {
	if err := (sealed.Store{Store: d.st, Ring: d.ring}).Put(ctx, key, v, retention); err != nil {
		return fmt.Errorf("directory: %w", err)
	}
	return nil
}

// locked runs fn while holding the lock for key.
func (d *Directory) locked(ctx context.Context, key string, fn func() error) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	l, err := lock.Acquire(ctx, d.st, d.prefix+"lock:"+key, 10*time.Second)
	if err != nil {
		return fmt.Errorf("directory: locking: %w", err)
	}
	defer l.Release(context.WithoutCancel(ctx))
	return fn()
}

// User returns the user with Gatehouse id id.
func (d *Directory) User(ctx context.Context, id string) (*User, error) {
	u := new(User)
	if err := d.get(ctx, d.userKey(id), u); err != nil {
		return nil, err
	}
	return u, nil
}

// UserByGitHubID returns the user linked to a GitHub account.
func (d *Directory) UserByGitHubID(ctx context.Context, ghid int64) (*User, error) {
	id, err := d.st.Get(ctx, d.ghKey(ghid), 0)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("directory: reading: %w", err)
	}
	return d.User(ctx, string(id))
}

// UpdateUser applies fn to the user with id (a new User{ID: id} when
// unknown) under the user's lock and saves the result.
func (d *Directory) UpdateUser(ctx context.Context, id string, fn func(*User) error) (*User, error) {
	return update(ctx, d, d.userKey(id), &User{ID: id}, fn, func(u *User) error {
		if u.GitHubID != 0 {
			if err := d.st.Set(ctx, d.ghKey(u.GitHubID), []byte(id), retention); err != nil {
				return fmt.Errorf("directory: indexing: %w", err)
			}
		}
		for inst := range u.Access {
			if err := d.st.SetAdd(ctx, d.instUsersKey(inst), retention, id); err != nil {
				return fmt.Errorf("directory: indexing: %w", err)
			}
		}
		return nil
	})
}

// Installation returns the installation with id.
func (d *Directory) Installation(ctx context.Context, id int64) (*Installation, error) {
	in := new(Installation)
	if err := d.get(ctx, d.instKey(id), in); err != nil {
		return nil, err
	}
	return in, nil
}

// UpdateInstallation applies fn to the installation with id (a new one
// when unknown) under its lock and saves the result.
func (d *Directory) UpdateInstallation(ctx context.Context, id int64, fn func(*Installation) error) (*Installation, error) {
	return update(ctx, d, d.instKey(id), &Installation{InstallationID: id}, fn, nil)
}

// update applies fn to the record at key (fresh when there is none) under
// the key's lock, saves it and then runs index, when non-nil, on it. It
// returns the saved record, or nil with the error.
func update[T any](ctx context.Context, d *Directory, key string, fresh *T, fn, index func(*T) error) (*T, error) {
	var out *T
	err := d.locked(ctx, key, func() error {
		v := new(T)
		err := d.get(ctx, key, v)
		if errors.Is(err, ErrNotFound) {
			v, err = fresh, nil
		}
		if err != nil {
			return err
		}
		if err := fn(v); err != nil {
			return err
		}
		if err := d.put(ctx, key, v); err != nil {
			return err
		}
		if index != nil {
			if err := index(v); err != nil {
				return err
			}
		}
		out = v
		return nil
	})
	return out, err
}

// DeleteInstallation forgets an installation.
func (d *Directory) DeleteInstallation(ctx context.Context, id int64) error {
	return d.locked(ctx, d.instKey(id), func() error {
		if err := d.st.Delete(ctx, d.instKey(id)); err != nil {
			return fmt.Errorf("directory: deleting: %w", err)
		}
		return nil
	})
}

// InstallationUsers returns the ids of users who had access through the
// installation.
func (d *Directory) InstallationUsers(ctx context.Context, id int64) ([]string, error) {
	ids, err := d.st.SetMembers(ctx, d.instUsersKey(id))
	if err != nil {
		return nil, fmt.Errorf("directory: reading: %w", err)
	}
	return ids, nil
}

// ReposOf computes the repositories the user can access now: those of
// every installation the user reached, except suspended or deleted ones.
// The result is sorted by full name, without duplicates.
func (d *Directory) ReposOf(ctx context.Context, u *User) ([]Repo, error) {
	var out []Repo
	for inst, repos := range u.Access {
		in, err := d.Installation(ctx, inst)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		if in != nil && in.Suspended {
			continue
		}
		out = append(out, repos...)
	}
	slices.SortFunc(out, func(a, b Repo) int {
		if a.FullName < b.FullName {
			return -1
		}
		if a.FullName > b.FullName {
			return 1
		}
		return 0
	})
	return slices.CompactFunc(out, func(a, b Repo) bool { return a.FullName == b.FullName }), nil
}

// Names returns the full names of repos.
func Names(repos []Repo) []string {
	out := make([]string, len(repos))
	for i, r := range repos {
		out[i] = r.FullName
	}
	return out
}
