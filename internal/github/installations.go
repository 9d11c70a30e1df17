package github

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Installation is a GitHub App installation on a user or organization
// account, as listed by the REST API and carried by webhooks.
type Installation struct {
	// ID is the installation ID.
	ID int64
	// AccountLogin is the login of the account the app is installed on (an
	// enterprise's slug for enterprise installations).
	AccountLogin string
	// AccountID is that account's numeric ID.
	AccountID int64
	// AccountType is "User" or "Organization" ("Enterprise" for enterprise
	// installations).
	AccountType string
	// AppID is the GitHub App's ID.
	AppID int64
	// RepositorySelection is "all" or "selected".
	RepositorySelection string
	// SuspendedAt is when the installation was suspended; nil when it is
	// not suspended.
	SuspendedAt *time.Time
	// CreatedAt is when the app was installed (zero when not sent). GitHub
	// sends it as epoch seconds in some webhooks and as an ISO 8601 string
	// elsewhere; both are accepted.
	CreatedAt time.Time
}

// Repo is a repository an installation can access.
type Repo struct {
	// ID is the repository's numeric ID (stable across renames).
	ID int64 `json:"id"`
	// FullName is "owner/name".
	FullName string `json:"full_name"`
	// Private is true for private and internal repositories.
	Private bool `json:"private"`
}

// account is the account object of webhooks and REST answers.
type account struct {
	ID    int64  `json:"id"`
	Login string `json:"login"`
	Slug  string `json:"slug"` // enterprises have a slug, not a login
	Type  string `json:"type"`
}

// installationJSON is an installation object as GitHub sends it.
type installationJSON struct {
	ID                  int64    `json:"id"`
	Account             *account `json:"account"`
	AppID               int64    `json:"app_id"`
	TargetType          string   `json:"target_type"`
	RepositorySelection string   `json:"repository_selection"`
	CreatedAt           flexTime `json:"created_at"`
	SuspendedAt         flexTime `json:"suspended_at"`
}

// installation converts the wire form.
func (j *installationJSON) installation() Installation {
	in := Installation{
		ID:                  j.ID,
		AppID:               j.AppID,
		AccountType:         j.TargetType,
		RepositorySelection: j.RepositorySelection,
		SuspendedAt:         j.SuspendedAt.ptr(),
		CreatedAt:           j.CreatedAt.Time,
	}
	if a := j.Account; a != nil {
		in.AccountID = a.ID
		in.AccountLogin = a.Login
		if in.AccountLogin == "" {
			in.AccountLogin = a.Slug
		}
		if a.Type != "" {
			in.AccountType = a.Type
		}
	}
	return in
}

// UserInstallations returns the installations of the token's GitHub App
// that the user can access (GET /user/installations, all pages). It needs
// a GitHub App user token (ghu_…): GitHub answers 403 to OAuth App and
// installation tokens. An installation still pending an org owner's
// approval is not listed.
func (c *Client) UserInstallations(ctx context.Context, token string) ([]Installation, error) {
	return paginate(ctx, c, "/user/installations", token, func(body []byte) ([]Installation, error) {
		var page struct {
			Installations []installationJSON `json:"installations"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return nil, err
		}
		out := make([]Installation, 0, len(page.Installations))
		for i := range page.Installations {
			out = append(out, page.Installations[i].installation())
		}
		return out, nil
	})
}

// UserInstallationRepos returns the repositories of an installation that
// the user can access (GET /user/installations/{id}/repositories, all
// pages). GitHub answers 404 ([IsNotFound]) when the user cannot access
// the installation.
func (c *Client) UserInstallationRepos(ctx context.Context, token string, installationID int64) ([]Repo, error) {
	if installationID <= 0 {
		return nil, errorf("installation ID %d is not positive", installationID)
	}
	return paginate(ctx, c, fmt.Sprintf("/user/installations/%d/repositories", installationID), token, decodeRepos)
}

// decodeRepos decodes a page of {total_count, repositories: […]}.
func decodeRepos(body []byte) ([]Repo, error) {
	var page struct {
		Repositories []Repo `json:"repositories"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, err
	}
	return page.Repositories, nil
}
