package fakegithub

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
)

// Documentation URLs of the fake's REST endpoints.
const (
	docGetUser           = "https://docs.github.com/rest/users/users#get-the-authenticated-user"
	docUserInstallations = "https://docs.github.com/rest/apps/installations#list-app-installations-accessible-to-the-user-access-token"
	docUserInstRepos     = "https://docs.github.com/rest/apps/installations#list-repositories-accessible-to-the-user-access-token"
	docInstRepos         = "https://docs.github.com/rest/apps/installations#list-repositories-accessible-to-the-app-installation"
	docRateLimits        = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"
	docDeleteGrant       = "https://docs.github.com/rest/apps/oauth-applications#delete-an-app-authorization"
)

// msgNotAccessible is GitHub's 403 for a token of the wrong kind.
const msgNotAccessible = "Resource not accessible by integration"

// bearerToken returns the token of an "Authorization: Bearer …" or
// "token …" header.
func bearerToken(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || (!strings.EqualFold(scheme, "bearer") && !strings.EqualFold(scheme, "token")) {
		return ""
	}
	return strings.TrimSpace(tok)
}

// serveAPI routes a REST request; path has no /api/v3 prefix.
func (g *GitHub) serveAPI(w http.ResponseWriter, r *http.Request, path string) {
	h := w.Header()
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	h.Set("X-GitHub-Request-Id", strings.ToUpper(authserver.RandomString("0123456789abcdef", 8)+":"+authserver.RandomString("0123456789abcdef", 8)))

	if strings.HasPrefix(path, "/app/") {
		g.serveAppAPI(w, r, path)
		return
	}
	if strings.HasPrefix(path, "/applications/") && strings.HasSuffix(path, "/grant") {
		g.serveDeleteGrant(w, r, strings.TrimSuffix(strings.TrimPrefix(path, "/applications/"), "/grant"))
		return
	}
	tokenValue := bearerToken(r)
	g.mu.Lock()
	tok := g.tokens[tokenValue]
	if tok != nil && !tok.expires.IsZero() && !g.Now().Before(tok.expires) {
		tok = nil
	}
	var tokCopy ghToken
	if tok != nil {
		tokCopy = *tok
	}
	limit := g.rateLimit
	g.mu.Unlock()

	key := "anon"
	if tok == nil {
		limit = gitHubUnauthenticatedLimit
	} else if tokCopy.kind == "ghs" {
		key = "installation:" + strconv.FormatInt(tokCopy.installationID, 10)
	} else {
		key = "user:" + strings.ToLower(tokCopy.login)
	}
	if g.rateHeaders(w, key, limit, true) {
		who := "your IP"
		if tok != nil {
			who = key
		}
		writeGitHubError(w, http.StatusForbidden, fmt.Sprintf("API rate limit exceeded for %s.", who), docRateLimits)
		return
	}
	if tok == nil {
		if tokenValue == "" {
			writeGitHubError(w, http.StatusUnauthorized, "Requires authentication", docGetUser)
			return
		}
		writeGitHubError(w, http.StatusUnauthorized, "Bad credentials", "")
		return
	}
	if tokCopy.scope != "" {
		h.Set("X-OAuth-Scopes", strings.ReplaceAll(tokCopy.scope, ",", ", "))
	}
	if r.Method != http.MethodGet {
		writeGitHubError(w, http.StatusNotFound, "Not Found", "")
		return
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case path == "/user", path == "/user/emails", path == "/user/orgs", path == "/user/teams":
		g.serveUser(w, r, &tokCopy, path)
	case path == "/user/installations":
		g.serveUserInstallations(w, r, &tokCopy)
	case len(parts) == 4 && parts[0] == "user" && parts[1] == "installations" && parts[3] == "repositories":
		id, err := strconv.ParseInt(parts[2], 10, 64)
		if err != nil {
			writeGitHubError(w, http.StatusNotFound, "Not Found", docUserInstRepos)
			return
		}
		g.serveUserInstallationRepos(w, r, &tokCopy, id)
	case path == "/installation/repositories":
		g.serveInstallationRepos(w, r, &tokCopy)
	default:
		writeGitHubError(w, http.StatusNotFound, "Not Found", "")
	}
}

// serveUser answers /user, /user/emails, /user/orgs and /user/teams.
func (g *GitHub) serveUser(w http.ResponseWriter, r *http.Request, tok *ghToken, path string) {
	if tok.kind == "ghs" {
		writeGitHubError(w, http.StatusForbidden, msgNotAccessible, docGetUser)
		return
	}
	g.mu.Lock()
	u := g.users[strings.ToLower(tok.login)]
	if u == nil {
		g.mu.Unlock()
		writeGitHubError(w, http.StatusUnauthorized, "Bad credentials", "")
		return
	}
	var list []any
	switch path {
	case "/user":
		out := g.privateUser(u)
		g.mu.Unlock()
		writeGitHubJSON(w, http.StatusOK, out)
		return
	case "/user/emails":
		for _, e := range u.Emails {
			list = append(list, ghEmail{Email: e.Email, Primary: e.Primary, Verified: e.Verified, Visibility: nullable(e.Visibility)})
		}
	case "/user/orgs":
		for _, o := range u.Orgs {
			list = append(list, g.org(o))
		}
	case "/user/teams":
		for _, t := range u.Teams {
			list = append(list, g.team(t[0], t[1]))
		}
	}
	g.mu.Unlock()
	p := g.paginate(w, r, len(list))
	page := list[p.lo:p.hi]
	if page == nil {
		page = []any{}
	}
	writeGitHubJSON(w, http.StatusOK, page)
}

// visibleInstallation returns the installation with that ID if tok's user
// may see it: granted, and of tok's GitHub App (g.mu held).
func (g *GitHub) visibleInstallation(tok *ghToken, id int64) (*GitHubInstallation, []string) {
	grants := g.grants[strings.ToLower(tok.login)]
	repos, granted := grants[id]
	inst := g.installations[id]
	if !granted || inst == nil || g.installationApp(inst) != tok.appID {
		return nil, nil
	}
	return inst, repos
}

// serveUserInstallations is GET /user/installations.
func (g *GitHub) serveUserInstallations(w http.ResponseWriter, r *http.Request, tok *ghToken) {
	if tok.kind != "ghu" {
		writeGitHubError(w, http.StatusForbidden, msgNotAccessible, docUserInstallations)
		return
	}
	g.mu.Lock()
	var ids []int64
	for id := range g.grants[strings.ToLower(tok.login)] {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var all []ghInstallation
	for _, id := range ids {
		if inst, _ := g.visibleInstallation(tok, id); inst != nil {
			all = append(all, g.installationJSON(inst))
		}
	}
	g.mu.Unlock()
	p := g.paginate(w, r, len(all))
	page := all[p.lo:p.hi]
	if page == nil {
		page = []ghInstallation{}
	}
	writeGitHubJSON(w, http.StatusOK, ghInstallationList{TotalCount: len(all), Installations: page})
}

// serveUserInstallationRepos is GET /user/installations/{id}/repositories.
func (g *GitHub) serveUserInstallationRepos(w http.ResponseWriter, r *http.Request, tok *ghToken, id int64) {
	if tok.kind != "ghu" {
		writeGitHubError(w, http.StatusForbidden, msgNotAccessible, docUserInstRepos)
		return
	}
	g.mu.Lock()
	inst, granted := g.visibleInstallation(tok, id)
	if inst == nil {
		g.mu.Unlock()
		writeGitHubError(w, http.StatusNotFound, "Not Found", docUserInstRepos)
		return
	}
	var all []ghRepo
	for _, repo := range inst.Repos {
		if granted == nil || slices.ContainsFunc(granted, func(n string) bool { return strings.EqualFold(n, repo.FullName) }) {
			all = append(all, g.repoJSON(inst, repo))
		}
	}
	selection := inst.RepositorySelection
	g.mu.Unlock()
	g.writeRepoList(w, r, selection, all)
}

// serveInstallationRepos is GET /installation/repositories.
func (g *GitHub) serveInstallationRepos(w http.ResponseWriter, r *http.Request, tok *ghToken) {
	if tok.kind != "ghs" {
		writeGitHubError(w, http.StatusForbidden, msgNotAccessible, docInstRepos)
		return
	}
	g.mu.Lock()
	inst := g.installations[tok.installationID]
	if inst == nil {
		g.mu.Unlock()
		writeGitHubError(w, http.StatusUnauthorized, "Bad credentials", "")
		return
	}
	if inst.Suspended {
		g.mu.Unlock()
		writeGitHubError(w, http.StatusForbidden, "This installation has been suspended", docInstRepos)
		return
	}
	var all []ghRepo
	for _, repo := range inst.Repos {
		all = append(all, g.repoJSON(inst, repo))
	}
	selection := inst.RepositorySelection
	g.mu.Unlock()
	g.writeRepoList(w, r, selection, all)
}

// writeRepoList sends one page of {total_count, repository_selection,
// repositories}.
func (g *GitHub) writeRepoList(w http.ResponseWriter, r *http.Request, selection string, all []ghRepo) {
	p := g.paginate(w, r, len(all))
	page := all[p.lo:p.hi]
	if page == nil {
		page = []ghRepo{}
	}
	writeGitHubJSON(w, http.StatusOK, ghRepoList{TotalCount: len(all), RepositorySelection: selection, Repositories: page})
}

// serveDeleteGrant is DELETE /applications/{client_id}/grant: with the
// app's client credentials as basic auth and {"access_token"} in the body,
// it deletes the user's whole authorization of the app (every token).
func (g *GitHub) serveDeleteGrant(w http.ResponseWriter, r *http.Request, clientID string) {
	if r.Method != http.MethodDelete {
		writeGitHubError(w, http.StatusNotFound, "Not Found", "")
		return
	}
	id, secret, ok := r.BasicAuth()
	g.mu.Lock()
	client := g.clients[clientID]
	g.mu.Unlock()
	if !ok || id != clientID || client == nil || !authserver.SecretEqual(secret, client.secret) {
		writeGitHubError(w, http.StatusNotFound, "Not Found", docDeleteGrant)
		return
	}
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&body); err != nil || body.AccessToken == "" {
		writeGitHubError(w, http.StatusUnprocessableEntity, "Invalid request.", docDeleteGrant)
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	tok := g.tokens[body.AccessToken]
	if tok == nil || tok.clientID != clientID {
		writeGitHubError(w, http.StatusUnprocessableEntity, "Validation Failed", docDeleteGrant)
		return
	}
	for k, t := range g.tokens {
		if strings.EqualFold(t.login, tok.login) && t.clientID == clientID {
			delete(g.tokens, k)
		}
	}
	g.refresh.DeleteIf(func(rt *authserver.RefreshToken[ghRefresh]) bool {
		return strings.EqualFold(rt.Grant.login, tok.login) && rt.ClientID == clientID
	})
	g.deletedGrants = append(g.deletedGrants, tok.login)
	w.WriteHeader(http.StatusNoContent)
}

// DeletedGrants lists the logins whose authorization was deleted through
// DELETE /applications/{client_id}/grant, in order.
func (g *GitHub) DeletedGrants() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.deletedGrants...)
}
