package fakegithub

import (
	"fmt"
	"strings"
	"time"
)

// The JSON objects of the fake's REST API, with GitHub's field names and
// order (a useful subset of each).

// ghSimpleUser is GitHub's "simple-user" (owner, account, sender).
type ghSimpleUser struct {
	Login             string `json:"login"`
	ID                int64  `json:"id"`
	NodeID            string `json:"node_id"`
	AvatarURL         string `json:"avatar_url"`
	GravatarID        string `json:"gravatar_id"`
	URL               string `json:"url"`
	HTMLURL           string `json:"html_url"`
	FollowersURL      string `json:"followers_url"`
	OrganizationsURL  string `json:"organizations_url"`
	ReposURL          string `json:"repos_url"`
	ReceivedEventsURL string `json:"received_events_url"`
	Type              string `json:"type"`
	UserViewType      string `json:"user_view_type"`
	SiteAdmin         bool   `json:"site_admin"`
}

// ghPrivateUser is GET /user.
type ghPrivateUser struct {
	ghSimpleUser
	Name            *string `json:"name"`
	Company         *string `json:"company"`
	Blog            string  `json:"blog"`
	Location        *string `json:"location"`
	Email           *string `json:"email"`
	Hireable        *bool   `json:"hireable"`
	Bio             *string `json:"bio"`
	TwitterUsername *string `json:"twitter_username"`
	PublicRepos     int     `json:"public_repos"`
	PublicGists     int     `json:"public_gists"`
	Followers       int     `json:"followers"`
	Following       int     `json:"following"`
	CreatedAt       string  `json:"created_at"`
	UpdatedAt       string  `json:"updated_at"`
}

// ghEmail is an item of GET /user/emails.
type ghEmail struct {
	Email      string  `json:"email"`
	Primary    bool    `json:"primary"`
	Verified   bool    `json:"verified"`
	Visibility *string `json:"visibility"`
}

// ghOrg is an item of GET /user/orgs ("organization-simple").
type ghOrg struct {
	Login            string  `json:"login"`
	ID               int64   `json:"id"`
	NodeID           string  `json:"node_id"`
	URL              string  `json:"url"`
	ReposURL         string  `json:"repos_url"`
	EventsURL        string  `json:"events_url"`
	HooksURL         string  `json:"hooks_url"`
	IssuesURL        string  `json:"issues_url"`
	MembersURL       string  `json:"members_url"`
	PublicMembersURL string  `json:"public_members_url"`
	AvatarURL        string  `json:"avatar_url"`
	Description      *string `json:"description"`
}

// ghTeam is an item of GET /user/teams ("team-full").
type ghTeam struct {
	ID                  int64   `json:"id"`
	NodeID              string  `json:"node_id"`
	URL                 string  `json:"url"`
	HTMLURL             string  `json:"html_url"`
	Name                string  `json:"name"`
	Slug                string  `json:"slug"`
	Description         *string `json:"description"`
	Privacy             string  `json:"privacy"`
	NotificationSetting string  `json:"notification_setting"`
	Permission          string  `json:"permission"`
	MembersURL          string  `json:"members_url"`
	RepositoriesURL     string  `json:"repositories_url"`
	Parent              *ghTeam `json:"parent"`
	MembersCount        int     `json:"members_count"`
	ReposCount          int     `json:"repos_count"`
	CreatedAt           string  `json:"created_at"`
	UpdatedAt           string  `json:"updated_at"`
	Organization        ghOrg   `json:"organization"`
}

// ghInstallation is an item of GET /user/installations.
type ghInstallation struct {
	ID                  int64             `json:"id"`
	Account             ghSimpleUser      `json:"account"`
	RepositorySelection string            `json:"repository_selection"`
	AccessTokensURL     string            `json:"access_tokens_url"`
	RepositoriesURL     string            `json:"repositories_url"`
	HTMLURL             string            `json:"html_url"`
	AppID               int64             `json:"app_id"`
	AppSlug             string            `json:"app_slug"`
	TargetID            int64             `json:"target_id"`
	TargetType          string            `json:"target_type"`
	Permissions         map[string]string `json:"permissions"`
	Events              []string          `json:"events"`
	CreatedAt           string            `json:"created_at"`
	UpdatedAt           string            `json:"updated_at"`
	SingleFileName      *string           `json:"single_file_name"`
	SuspendedBy         *ghSimpleUser     `json:"suspended_by"`
	SuspendedAt         *string           `json:"suspended_at"`
}

// ghRepo is a "repository" item of the installation repository lists.
type ghRepo struct {
	ID            int64        `json:"id"`
	NodeID        string       `json:"node_id"`
	Name          string       `json:"name"`
	FullName      string       `json:"full_name"`
	Private       bool         `json:"private"`
	Owner         ghSimpleUser `json:"owner"`
	HTMLURL       string       `json:"html_url"`
	Description   *string      `json:"description"`
	Fork          bool         `json:"fork"`
	URL           string       `json:"url"`
	Archived      bool         `json:"archived"`
	Disabled      bool         `json:"disabled"`
	Visibility    string       `json:"visibility"`
	DefaultBranch string       `json:"default_branch"`
	Permissions   ghRepoPerms  `json:"permissions"`
}

// ghRepoPerms are the caller's permissions on a repository.
type ghRepoPerms struct {
	Admin    bool `json:"admin"`
	Maintain bool `json:"maintain"`
	Push     bool `json:"push"`
	Triage   bool `json:"triage"`
	Pull     bool `json:"pull"`
}

// ghRepoList is the answer of the installation repository lists.
type ghRepoList struct {
	TotalCount          int      `json:"total_count"`
	RepositorySelection string   `json:"repository_selection"`
	Repositories        []ghRepo `json:"repositories"`
}

// ghInstallationList is the answer of GET /user/installations.
type ghInstallationList struct {
	TotalCount    int              `json:"total_count"`
	Installations []ghInstallation `json:"installations"`
}

// ghInstallationToken is the answer of POST
// /app/installations/{id}/access_tokens.
type ghInstallationToken struct {
	Token               string            `json:"token"`
	ExpiresAt           string            `json:"expires_at"`
	Permissions         map[string]string `json:"permissions"`
	RepositorySelection string            `json:"repository_selection"`
}

// ghCreatedAt is the creation time the fake reports for everything.
var ghCreatedAt = FormatTime(time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC))

// nullable returns nil for "" and &s otherwise.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// apiBase is the REST API's base URL.
func (g *GitHub) apiBase() string { return g.URL + APIPrefix }

// simpleUser renders an account.
func (g *GitHub) simpleUser(login string, id int64, typ string) ghSimpleUser {
	api := g.apiBase() + "/users/" + login
	return ghSimpleUser{
		Login: login, ID: id, NodeID: nodeID(typ, id),
		AvatarURL:    fmt.Sprintf("%s/avatars/u/%d?v=4", g.URL, id),
		URL:          api,
		HTMLURL:      g.URL + "/" + login,
		FollowersURL: api + "/followers", OrganizationsURL: api + "/orgs", ReposURL: api + "/repos",
		Type: typ, UserViewType: "public", ReceivedEventsURL: api + "/received_events",
	}
}

// privateUser renders GET /user.
func (g *GitHub) privateUser(u *GitHubUser) ghPrivateUser {
	su := g.simpleUser(u.Login, u.ID, "User")
	if u.AvatarURL != "" {
		su.AvatarURL = u.AvatarURL
	}
	return ghPrivateUser{
		ghSimpleUser: su,
		Name:         nullable(u.Name),
		Email:        nullable(u.PublicEmail),
		CreatedAt:    ghCreatedAt,
		UpdatedAt:    ghCreatedAt,
	}
}

// org renders an organization (g.mu held).
func (g *GitHub) org(login string) ghOrg {
	id := g.orgID(login)
	api := g.apiBase() + "/orgs/" + login
	return ghOrg{
		Login: login, ID: id, NodeID: nodeID("Organization", id), URL: api,
		ReposURL: api + "/repos", EventsURL: api + "/events", HooksURL: api + "/hooks",
		IssuesURL: api + "/issues", MembersURL: api + "/members{/member}",
		PublicMembersURL: api + "/public_members{/member}",
		AvatarURL:        fmt.Sprintf("%s/avatars/u/%d?v=4", g.URL, id),
	}
}

// team renders a team (g.mu held).
func (g *GitHub) team(org, slug string) ghTeam {
	key := [2]string{strings.ToLower(org), strings.ToLower(slug)}
	id, ok := g.teamIDs[key]
	if !ok {
		id = g.newID()
		g.teamIDs[key] = id
	}
	api := fmt.Sprintf("%s/organizations/%d/team/%d", g.apiBase(), g.orgID(org), id)
	return ghTeam{
		ID: id, NodeID: nodeID("Team", id), URL: api,
		HTMLURL: g.URL + "/orgs/" + org + "/teams/" + slug,
		Name:    slug, Slug: slug, Privacy: "closed", NotificationSetting: "notifications_enabled",
		Permission: "pull", MembersURL: api + "/members{/member}", RepositoriesURL: api + "/repos",
		CreatedAt: ghCreatedAt, UpdatedAt: ghCreatedAt, Organization: g.org(org),
	}
}

// installationJSON renders an installation (g.mu held).
func (g *GitHub) installationJSON(inst *GitHubInstallation) ghInstallation {
	appID := g.installationApp(inst)
	out := ghInstallation{
		ID:                  inst.ID,
		Account:             g.simpleUser(inst.AccountLogin, inst.AccountID, inst.AccountType),
		RepositorySelection: inst.RepositorySelection,
		AccessTokensURL:     fmt.Sprintf("%s/app/installations/%d/access_tokens", g.apiBase(), inst.ID),
		RepositoriesURL:     g.apiBase() + "/installation/repositories",
		HTMLURL:             fmt.Sprintf("%s/settings/installations/%d", g.URL, inst.ID),
		AppID:               appID,
		AppSlug:             fmt.Sprintf("app-%d", appID),
		TargetID:            inst.AccountID,
		TargetType:          inst.AccountType,
		Permissions:         map[string]string{"members": "read", "metadata": "read"},
		Events:              []string{},
		CreatedAt:           ghCreatedAt,
		UpdatedAt:           ghCreatedAt,
	}
	if inst.Suspended {
		by := g.simpleUser(inst.AccountLogin, inst.AccountID, inst.AccountType)
		out.SuspendedBy = &by
		out.SuspendedAt = &ghCreatedAt
	}
	return out
}

// repoJSON renders a repository of inst (g.mu held).
func (g *GitHub) repoJSON(inst *GitHubInstallation, r GitHubRepo) ghRepo {
	owner, name, _ := strings.Cut(r.FullName, "/")
	ownerID, ownerType := inst.AccountID, inst.AccountType
	if !strings.EqualFold(owner, inst.AccountLogin) {
		ownerID, ownerType = g.accountID(owner), "Organization"
	}
	vis := "public"
	if r.Private {
		vis = "private"
	}
	return ghRepo{
		ID: r.ID, NodeID: nodeID("Repository", r.ID), Name: name, FullName: r.FullName, Private: r.Private,
		Owner:   g.simpleUser(owner, ownerID, ownerType),
		HTMLURL: g.URL + "/" + r.FullName, URL: g.apiBase() + "/repos/" + r.FullName,
		Visibility: vis, DefaultBranch: "main",
		Permissions: ghRepoPerms{Pull: true},
	}
}
