package fakegithub

import (
	"crypto/rsa"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
	"github.com/gatehouse-auth/gatehouse/internal/github"
)

// APIPrefix is where the fake serves the REST API, as GitHub
// Enterprise Server does.
const APIPrefix = "/api/v3"

// Defaults of the fake GitHub.
const (
	// GitHubCodeLifetime is how long an authorization code can be redeemed.
	GitHubCodeLifetime = 10 * time.Minute
	// GitHubUserTokenLifetime is the lifetime of a GitHub App user token
	// (ghu_…); GitHub sends it as expires_in 28800.
	GitHubUserTokenLifetime = 8 * time.Hour
	// GitHubRefreshTokenLifetime is the lifetime of a refresh token
	// (ghr_…); GitHub sends it as refresh_token_expires_in 15811200.
	GitHubRefreshTokenLifetime = 15811200 * time.Second
	// GitHubInstallationTokenLifetime is the lifetime of an installation
	// token (ghs_…).
	GitHubInstallationTokenLifetime = time.Hour
	// GitHubDefaultRateLimit is the requests per hour each token's owner
	// gets before the API answers 403 with x-ratelimit-remaining: 0.
	GitHubDefaultRateLimit = 5000
)

// GitHubUser is an account of the fake GitHub.
type GitHubUser struct {
	// ID is the numeric account ID; 0 assigns one.
	ID int64
	// Login is the username (unique, compared case-insensitively).
	Login string
	// Name is the display name ("" is sent as null).
	Name string
	// AvatarURL is the profile picture URL; "" makes one up.
	AvatarURL string
	// PublicEmail is the profile email of GET /user ("" is sent as null).
	PublicEmail string
	// Emails are the addresses of GET /user/emails.
	Emails []GitHubEmail
	// Orgs are the logins of the user's organizations.
	Orgs []string
	// Teams are the user's teams as {org login, team slug}.
	Teams [][2]string
}

// GitHubEmail is one address of GET /user/emails.
type GitHubEmail struct {
	Email             string
	Primary, Verified bool
	// Visibility is "public", "private" or "" (sent as null).
	Visibility string
}

// GitHubRepo is a repository of an installation.
type GitHubRepo struct {
	ID       int64
	FullName string // "owner/name"
	Private  bool
}

// GitHubInstallation is a GitHub App installation of the fake.
type GitHubInstallation struct {
	// ID is the installation ID (required).
	ID int64
	// AppID is the installed GitHub App; 0 means the first app registered
	// with AddGitHubApp.
	AppID int64
	// AccountLogin, AccountID and AccountType ("User" or "Organization",
	// default "Organization") describe the account it is installed on.
	AccountLogin string
	AccountID    int64
	AccountType  string
	// RepositorySelection is "all" (default) or "selected".
	RepositorySelection string
	// Repos are the repositories the installation can access.
	Repos []GitHubRepo
	// Suspended makes suspended_at non-null and installation tokens
	// unavailable (403).
	Suspended bool
}

// ghClient is a registered OAuth App or GitHub App.
type ghClient struct {
	clientID, secret string
	appID            int64 // 0 for OAuth Apps
	pub              *rsa.PublicKey
}

// isGitHubApp reports whether the client is a GitHub App (user tokens
// expire and refresh).
func (c *ghClient) isGitHubApp() bool { return c.appID != 0 }

// ghCode is an authorization code.
type ghCode struct {
	login, scope string
}

// ghToken is an access token (gho_, ghu_ or ghs_).
type ghToken struct {
	kind           string // "gho", "ghu", "ghs"
	login          string // gho_, ghu_
	clientID       string // gho_, ghu_
	appID          int64  // ghu_, ghs_
	installationID int64  // ghs_
	scope          string
	expires        time.Time // zero: never
}

// ghRefresh is a refresh token (ghr_).
type ghRefresh struct {
	login  string
	access string // the access token issued with it
}

// ghRequest is one request the fake received.
type ghRequest struct {
	path    string // as received
	apiPath string // without /api/v3 for API requests, else ""
}

// rateWindow counts one identity's requests in the current hour.
type rateWindow struct {
	reset time.Time
	used  int
}

// GitHub is a fake GitHub on 127.0.0.1 that behaves like GitHub Enterprise
// Server: the web endpoints (/login/oauth/…) at URL and the REST API at
// URL + "/api/v3", so github.Endpoints{WebURL: URL} reaches both. It
// follows section C of shared/reference/external-apis.md: OAuth errors are
// HTTP 200 with {"error","error_description","error_uri"}, the token
// endpoint answers form-encoded unless Accept asks for JSON, REST errors
// are {"message","documentation_url"}, lists paginate with per_page (≤ 100,
// default 30), page and a Link header, and every API response carries
// x-ratelimit-* headers. Its methods are safe for concurrent use.
type GitHub struct {
	// URL is the web origin, e.g. http://127.0.0.1:12345.
	URL string

	srv     *httptest.Server
	hookCli *http.Client

	mu sync.Mutex
	authserver.Clock
	nextID        int64
	users         map[string]*GitHubUser // by lower-case login
	orgIDs        map[string]int64       // by lower-case org login
	teamIDs       map[[2]string]int64
	clients       map[string]*ghClient // by client ID
	apps          []*ghClient          // GitHub Apps in registration order
	installations map[int64]*GitHubInstallation
	grants        map[string]map[int64][]string // login → installation → repos (nil: all)
	codes         authserver.Codes[ghCode]
	tokens        map[string]*ghToken
	refresh       authserver.RefreshTokens[ghRefresh]
	autoLogin     string
	lastAuthorize url.Values
	requests      []ghRequest
	failNext      authserver.Failures
	tokenDelay    time.Duration
	rateLimit     int
	rates         map[string]*rateWindow
	hookID        int64
	deletedGrants []string
}

// NewGitHub starts a fake GitHub with no users, apps or installations.
// Close it when done.
func NewGitHub() *GitHub {
	g := &GitHub{
		nextID:        1000,
		users:         map[string]*GitHubUser{},
		orgIDs:        map[string]int64{},
		teamIDs:       map[[2]string]int64{},
		clients:       map[string]*ghClient{},
		installations: map[int64]*GitHubInstallation{},
		grants:        map[string]map[int64][]string{},
		tokens:        map[string]*ghToken{},
		rateLimit:     GitHubDefaultRateLimit,
		rates:         map[string]*rateWindow{},
		hookID:        109948940,
		hookCli: &http.Client{
			Timeout:       10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	g.codes.RedirectOptional = true // GitHub's token endpoint takes no redirect_uri
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	g.URL = g.srv.URL
	return g
}

// Close shuts the server down.
func (g *GitHub) Close() { g.srv.Close() }

// Endpoints returns the endpoints that reach the fake: WebURL = URL and
// APIURL = URL + "/api/v3".
func (g *GitHub) Endpoints() github.Endpoints {
	return github.Endpoints{WebURL: g.URL, APIURL: g.URL + APIPrefix}
}

// newID returns a fresh numeric ID (g.mu held).
func (g *GitHub) newID() int64 {
	g.nextID++
	return g.nextID
}

// cloneUser deep-copies u.
func cloneUser(u GitHubUser) *GitHubUser {
	u.Emails = slices.Clone(u.Emails)
	u.Orgs = slices.Clone(u.Orgs)
	u.Teams = slices.Clone(u.Teams)
	return &u
}

// AddUser adds an account. It panics if the login is taken (use SetUser
// to replace one). An ID of 0 is assigned.
func (g *GitHub) AddUser(u GitHubUser) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.users[strings.ToLower(u.Login)]; ok {
		panic(fmt.Sprintf("fakegithub: GitHub user %q already exists", u.Login))
	}
	g.putUser(u)
}

// SetUser adds an account or replaces the one with the same login (e.g.
// to remove an org later). Tokens already issued stay valid and see the
// new data. An ID of 0 keeps the replaced account's ID.
func (g *GitHub) SetUser(u GitHubUser) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if old, ok := g.users[strings.ToLower(u.Login)]; ok && u.ID == 0 {
		u.ID = old.ID
	}
	g.putUser(u)
}

// putUser stores u (g.mu held).
func (g *GitHub) putUser(u GitHubUser) {
	if u.Login == "" {
		panic("fakegithub: GitHub user without a login")
	}
	if u.ID == 0 {
		u.ID = g.newID()
	}
	g.users[strings.ToLower(u.Login)] = cloneUser(u)
}

// AddOAuthApp registers an OAuth App. Its user tokens are gho_… and do
// not expire; it has no refresh tokens.
func (g *GitHub) AddOAuthApp(clientID, secret string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.clients[clientID] = &ghClient{clientID: clientID, secret: secret}
}

// AddGitHubApp registers a GitHub App. Its user tokens are ghu_… and
// expire in 8 h, with ghr_… refresh tokens that rotate: each refresh
// invalidates the refresh token used and the access token issued with it,
// and reusing an old refresh token gives 200 {"error":"bad_refresh_token"}.
// publicKey verifies the app's JWTs (POST
// /app/installations/{id}/access_tokens); it may be nil when the test does
// not use them.
func (g *GitHub) AddGitHubApp(appID int64, clientID, secret string, publicKey *rsa.PublicKey) {
	g.mu.Lock()
	defer g.mu.Unlock()
	c := &ghClient{clientID: clientID, secret: secret, appID: appID, pub: publicKey}
	g.clients[clientID] = c
	g.apps = append(g.apps, c)
}

// appByID returns the GitHub App with that ID, or nil (g.mu held).
func (g *GitHub) appByID(appID int64) *ghClient {
	for _, a := range g.apps {
		if a.appID == appID {
			return a
		}
	}
	return nil
}

// installationApp resolves inst's app ID (0: the first GitHub App).
func (g *GitHub) installationApp(inst *GitHubInstallation) int64 {
	if inst.AppID != 0 || len(g.apps) == 0 {
		return inst.AppID
	}
	return g.apps[0].appID
}

// SetAutoLogin makes GET /login/oauth/authorize redirect straight back to
// redirect_uri with a code for that user, as GitHub does for a user who
// already authorized the app. "" turns it off: the authorize page is then
// a small HTML form to pick a user (or cancel), enough for a browser test.
func (g *GitHub) SetAutoLogin(login string) { authserver.Set(&g.mu, &g.autoLogin, login) }

// AddInstallation adds a GitHub App installation (replacing one with the
// same ID).
func (g *GitHub) AddInstallation(inst GitHubInstallation) {
	if inst.ID == 0 {
		panic("fakegithub: GitHub installation without an ID")
	}
	if inst.AccountType == "" {
		inst.AccountType = "Organization"
	}
	if inst.RepositorySelection == "" {
		inst.RepositorySelection = "all"
	}
	inst.Repos = slices.Clone(inst.Repos)
	g.mu.Lock()
	defer g.mu.Unlock()
	if inst.AccountID == 0 {
		inst.AccountID = g.accountID(inst.AccountLogin)
	}
	g.installations[inst.ID] = &inst
}

// accountID is the ID of a user or org login, made up if unknown (g.mu
// held).
func (g *GitHub) accountID(login string) int64 {
	if u, ok := g.users[strings.ToLower(login)]; ok {
		return u.ID
	}
	return g.orgID(login)
}

// orgID returns a stable ID for an org login (g.mu held).
func (g *GitHub) orgID(login string) int64 {
	key := strings.ToLower(login)
	if id, ok := g.orgIDs[key]; ok {
		return id
	}
	for _, inst := range g.installations {
		if strings.EqualFold(inst.AccountLogin, login) && inst.AccountID != 0 {
			g.orgIDs[key] = inst.AccountID
			return inst.AccountID
		}
	}
	id := g.newID()
	g.orgIDs[key] = id
	return id
}
