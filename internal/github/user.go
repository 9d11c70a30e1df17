package github

import (
	"context"
	"fmt"
)

// User is the account a user token belongs to (GET /user).
type User struct {
	// ID is the stable numeric account ID (logins can be renamed).
	ID int64 `json:"id"`
	// Login is the username.
	Login string `json:"login"`
	// Name is the display name ("" when unset).
	Name string `json:"name"`
	// AvatarURL is the profile picture URL.
	AvatarURL string `json:"avatar_url"`
	// Email is the public profile email ("" when unset). It is not
	// necessarily verified: use [Client.PrimaryVerifiedEmail] for
	// decisions.
	Email string `json:"email"`
}

// Team is a team the user belongs to.
type Team struct {
	// Org is the login of the team's organization.
	Org string
	// Slug is the team's URL slug.
	Slug string
}

// User returns the authenticated user (GET /user).
func (c *Client) User(ctx context.Context, token string) (*User, error) {
	var u User
	if err := c.getJSON(ctx, "/user", token, &u); err != nil {
		return nil, err
	}
	if u.ID == 0 || u.Login == "" {
		return nil, errorf("GET /user: response has no id or login")
	}
	return &u, nil
}

// email is one entry of GET /user/emails.
type email struct {
	Email    string `json:"email"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
}

// PrimaryVerifiedEmail returns the user's address that is both primary and
// verified (GET /user/emails, all pages), or "" when the primary address
// is unverified or there is none. It never returns a secondary or an
// unverified address. The token needs the user:email scope (OAuth App) or
// the "Email addresses" read permission (GitHub App).
func (c *Client) PrimaryVerifiedEmail(ctx context.Context, token string) (string, error) {
	emails, err := paginate(ctx, c, "/user/emails", token, decodeList[email])
	if err != nil {
		return "", err
	}
	for _, e := range emails {
		if e.Primary && e.Verified && e.Email != "" {
			return e.Email, nil
		}
	}
	return "", nil
}

// Orgs returns the logins of the organizations the user belongs to
// (GET /user/orgs, all pages). OAuth App tokens need the read:org or user
// scope.
func (c *Client) Orgs(ctx context.Context, token string) ([]string, error) {
	type org struct {
		Login string `json:"login"`
	}
	orgs, err := paginate(ctx, c, "/user/orgs", token, decodeList[org])
	if err != nil {
		return nil, err
	}
	logins := make([]string, 0, len(orgs))
	for _, o := range orgs {
		if o.Login != "" {
			logins = append(logins, o.Login)
		}
	}
	return logins, nil
}

// Teams returns the teams the user belongs to, across organizations
// (GET /user/teams, all pages). OAuth App tokens need the read:org, user or
// repo scope.
func (c *Client) Teams(ctx context.Context, token string) ([]Team, error) {
	type team struct {
		Slug         string `json:"slug"`
		Organization struct {
			Login string `json:"login"`
		} `json:"organization"`
	}
	teams, err := paginate(ctx, c, "/user/teams", token, decodeList[team])
	if err != nil {
		return nil, err
	}
	out := make([]Team, 0, len(teams))
	for _, t := range teams {
		if t.Slug != "" && t.Organization.Login != "" {
			out = append(out, Team{Org: t.Organization.Login, Slug: t.Slug})
		}
	}
	return out, nil
}

// Groups returns the user's organizations and teams as "org" and
// "org/team" (Orgs, then Teams). On an error it returns the groups read
// so far with it, so a caller that accepts a token without read:org
// (IsForbidden) can keep them.
func (c *Client) Groups(ctx context.Context, token string) ([]string, error) {
	orgs, err := c.Orgs(ctx, token)
	if err != nil {
		return nil, fmt.Errorf("reading the user's organizations: %w", err)
	}
	teams, err := c.Teams(ctx, token)
	if err != nil {
		return orgs, fmt.Errorf("reading the user's teams: %w", err)
	}
	for _, t := range teams {
		orgs = append(orgs, t.Org+"/"+t.Slug)
	}
	return orgs, nil
}
