package fakegithub

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const (
	// gitHubMaxJWTLifetime is how far in the future GitHub accepts an app
	// JWT's exp.
	gitHubMaxJWTLifetime = 10 * time.Minute
	// gitHubJWTLeeway is the clock drift the fake tolerates on iat and exp.
	gitHubJWTLeeway    = 30 * time.Second
	docCreateInstToken = "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app"
)

// serveAppAPI answers /app/… (authenticated with the app's JWT). The only
// endpoint is POST /app/installations/{id}/access_tokens.
func (g *GitHub) serveAppAPI(w http.ResponseWriter, r *http.Request, path string) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) != 4 || parts[1] != "installations" || parts[3] != "access_tokens" || r.Method != http.MethodPost {
		g.setRateHeaders(w, "anon")
		writeGitHubError(w, http.StatusNotFound, "Not Found", "")
		return
	}
	installationID, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		g.setRateHeaders(w, "anon")
		writeGitHubError(w, http.StatusNotFound, "Not Found", docCreateInstToken)
		return
	}
	raw := bearerToken(r)
	if raw == "" {
		g.setRateHeaders(w, "anon")
		writeGitHubError(w, http.StatusUnauthorized, "Requires authentication", docCreateInstToken)
		return
	}
	app, msg := g.verifyAppJWT(raw)
	if app == nil {
		g.setRateHeaders(w, "anon")
		writeGitHubError(w, http.StatusUnauthorized, msg, gitHubDocsURL)
		return
	}
	g.mu.Lock()
	limit := g.rateLimit
	g.mu.Unlock()
	if g.rateHeaders(w, "app:"+strconv.FormatInt(app.appID, 10), limit, true) {
		writeGitHubError(w, http.StatusForbidden, "API rate limit exceeded for app.", docRateLimits)
		return
	}

	g.mu.Lock()
	defer g.mu.Unlock()
	inst := g.installations[installationID]
	if inst == nil || g.installationApp(inst) != app.appID {
		writeGitHubError(w, http.StatusNotFound, "Not Found", docCreateInstToken)
		return
	}
	if inst.Suspended {
		writeGitHubError(w, http.StatusForbidden, "This installation has been suspended", docCreateInstToken)
		return
	}
	writeGitHubJSON(w, http.StatusCreated, g.issueInstallationToken(app.appID, inst))
}

// issueInstallationToken creates an installation token (g.mu held).
func (g *GitHub) issueInstallationToken(appID int64, inst *GitHubInstallation) ghInstallationToken {
	tok := newGitHubToken("ghs")
	expires := g.Now().Add(GitHubInstallationTokenLifetime).Truncate(time.Second)
	g.tokens[tok] = &ghToken{kind: "ghs", appID: appID, installationID: inst.ID, expires: expires}
	return ghInstallationToken{
		Token:               tok,
		ExpiresAt:           FormatTime(expires),
		Permissions:         map[string]string{"members": "read", "metadata": "read"},
		RepositorySelection: inst.RepositorySelection,
	}
}

// GitHubInstallationToken is an installation token (ghs_…) as POST
// /app/installations/{id}/access_tokens returns it.
type GitHubInstallationToken struct {
	Token               string
	ExpiresAt           time.Time
	Permissions         map[string]string
	RepositorySelection string
}

// MintInstallationToken issues an installation token of the GitHub App
// appID for an installation, as POST /app/installations/{id}/access_tokens
// does for that app's JWT, without a JWT and without counting a request.
// It fails as GitHub does when the installation is unknown or of another
// app (404) or suspended (403).
func (g *GitHub) MintInstallationToken(appID, installationID int64) (GitHubInstallationToken, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	inst := g.installations[installationID]
	if inst == nil || g.appByID(appID) == nil || g.installationApp(inst) != appID {
		return GitHubInstallationToken{}, fmt.Errorf("fake GitHub: 404 Not Found: no installation %d of app %d", installationID, appID)
	}
	if inst.Suspended {
		return GitHubInstallationToken{}, fmt.Errorf("fake GitHub: 403 This installation has been suspended (installation %d)", installationID)
	}
	t := g.issueInstallationToken(appID, inst)
	expires, _ := time.Parse(time.RFC3339, t.ExpiresAt)
	return GitHubInstallationToken{Token: t.Token, ExpiresAt: expires, Permissions: t.Permissions,
		RepositorySelection: t.RepositorySelection}, nil
}

// verifyAppJWT checks an app JWT as GitHub does: RS256, iss = a registered
// app's ID or client ID, signed by that app's key, exp in the future but
// at most 10 minutes away, iat not in the future. It returns the app, or
// nil and GitHub's message.
func (g *GitHub) verifyAppJWT(raw string) (*ghClient, string) {
	const undecodable = "A JSON web token could not be decoded"
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, undecodable
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return nil, undecodable
	}
	g.mu.Lock()
	var app *ghClient
	for _, a := range g.apps {
		if unverified.Issuer == strconv.FormatInt(a.appID, 10) || unverified.Issuer == a.clientID {
			app = a
			break
		}
	}
	now := g.Now()
	g.mu.Unlock()
	if app == nil {
		return nil, "Integration not found"
	}
	if app.pub == nil {
		return nil, undecodable
	}
	var claims jwt.Claims
	if err := tok.Claims(app.pub, &claims); err != nil {
		return nil, undecodable
	}
	if claims.Expiry == nil || !now.Before(claims.Expiry.Time().Add(gitHubJWTLeeway)) {
		return nil, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
	}
	if claims.Expiry.Time().After(now.Add(gitHubMaxJWTLifetime + gitHubJWTLeeway)) {
		return nil, "'Expiration time' claim ('exp') is too far in the future"
	}
	if claims.IssuedAt == nil || claims.IssuedAt.Time().After(now.Add(gitHubJWTLeeway)) {
		return nil, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
	}
	return app, ""
}
