package fakegithub

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
)

// SetInstallationRepos replaces the repositories an installation can
// access.
func (g *GitHub) SetInstallationRepos(installationID int64, repos ...GitHubRepo) {
	g.mu.Lock()
	defer g.mu.Unlock()
	inst, ok := g.installations[installationID]
	if !ok {
		panic(fmt.Sprintf("fakegithub: no GitHub installation %d", installationID))
	}
	inst.Repos = slices.Clone(repos)
}

// SetInstallationSuspended suspends or unsuspends an installation.
func (g *GitHub) SetInstallationSuspended(installationID int64, suspended bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	inst, ok := g.installations[installationID]
	if !ok {
		panic(fmt.Sprintf("fakegithub: no GitHub installation %d", installationID))
	}
	inst.Suspended = suspended
}

// GrantInstallation lets a user see an installation in
// /user/installations, and those of its repositories named (by full name)
// in /user/installations/{id}/repositories; naming none grants all of
// them. Granting again replaces the repository list.
func (g *GitHub) GrantInstallation(login string, installationID int64, repoFullNames ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	key := strings.ToLower(login)
	if g.grants[key] == nil {
		g.grants[key] = map[int64][]string{}
	}
	var repos []string
	if len(repoFullNames) > 0 {
		repos = slices.Clone(repoFullNames)
	}
	g.grants[key][installationID] = repos
}

// RevokeInstallation takes away a user's access to an installation.
func (g *GitHub) RevokeInstallation(login string, installationID int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.grants[strings.ToLower(login)], installationID)
}

// ExpireUserTokens makes the user's access tokens (gho_ and ghu_) stop
// working now (401 Bad credentials); their refresh tokens still work.
func (g *GitHub) ExpireUserTokens(login string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.Now()
	for _, t := range g.tokens {
		if strings.EqualFold(t.login, login) {
			t.expires = now
		}
	}
}

// RevokeAuthorization kills every token and code of the user, as when
// they revoke the app in their settings: access tokens answer 401 and
// refresh tokens bad_refresh_token.
func (g *GitHub) RevokeAuthorization(login string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for k, t := range g.tokens {
		if strings.EqualFold(t.login, login) {
			delete(g.tokens, k)
		}
	}
	g.refresh.DeleteIf(func(r *authserver.RefreshToken[ghRefresh]) bool { return strings.EqualFold(r.Grant.login, login) })
	g.codes.DeleteIf(func(c *authserver.Code[ghCode]) bool { return strings.EqualFold(c.Grant.login, login) })
}

// match reports whether a request matches a path or prefix: the path
// as received, or for API requests also the path without "/api/v3" (so
// "/user/installations" matches "/api/v3/user/installations").
func (r ghRequest) match(prefix string, exact bool) bool {
	if exact {
		return r.path == prefix || (r.apiPath != "" && r.apiPath == prefix)
	}
	return strings.HasPrefix(r.path, prefix) || (r.apiPath != "" && strings.HasPrefix(r.apiPath, prefix))
}

// Requests counts the requests whose path starts with pathPrefix, e.g.
// "/login/oauth/access_token". API paths match with or without the
// "/api/v3" prefix.
func (g *GitHub) Requests(pathPrefix string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, r := range g.requests {
		if r.match(pathPrefix, false) {
			n++
		}
	}
	return n
}

// LastAuthorize returns the query of the last GET /login/oauth/authorize
// (nil before the first).
func (g *GitHub) LastAuthorize() url.Values {
	g.mu.Lock()
	defer g.mu.Unlock()
	return authserver.CloneValues(g.lastAuthorize)
}

// FailNext makes the next request to path (exact; API paths with or
// without "/api/v3") answer status with GitHub's error JSON
// {"message","documentation_url"}: 401 "Bad credentials", 403 "Resource
// not accessible by integration", 404 "Not Found", 429 a secondary rate
// limit with Retry-After: 60, others the status text. Calls queue up.
func (g *GitHub) FailNext(path string, status int) {
	// One queue per request: "/api/v3/user" and "/user" are the same API
	// path, so queued failures keep their order whichever form was used.
	key := strings.TrimPrefix(path, APIPrefix)
	if key == "" {
		key = "/"
	}
	g.failNext.Add(key, status)
}

// SetTokenDelay makes POST /login/oauth/access_token wait d before
// answering (for concurrency tests). 0 turns it off.
func (g *GitHub) SetTokenDelay(d time.Duration) { authserver.Set(&g.mu, &g.tokenDelay, d) }

// SetRateLimit sets how many API requests each token owner (user,
// installation or app) may make per hour of the fake clock before the API
// answers 403 "API rate limit exceeded" with x-ratelimit-remaining: 0.
// Default 5000. Counts restart when the hour passes (see Advance).
func (g *GitHub) SetRateLimit(perHour int) { authserver.Set(&g.mu, &g.rateLimit, perHour) }
