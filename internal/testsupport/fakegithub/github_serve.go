package fakegithub

import (
	"net/http"
	"slices"
	"strings"
)

// serve records the request, applies FailNext, and routes it.
func (g *GitHub) serve(w http.ResponseWriter, r *http.Request) {
	req := ghRequest{path: r.URL.Path}
	isAPI := r.URL.Path == APIPrefix || strings.HasPrefix(r.URL.Path, APIPrefix+"/")
	if isAPI {
		req.apiPath = strings.TrimPrefix(r.URL.Path, APIPrefix)
		if req.apiPath == "" {
			req.apiPath = "/"
		}
	}
	g.mu.Lock()
	g.requests = append(g.requests, req)
	status := 0
	key := req.path
	if req.apiPath != "" {
		key = req.apiPath
	}
	g.mu.Unlock()
	status, _ = g.failNext.Next(key)
	if status != 0 {
		if isAPI {
			g.setRateHeaders(w, "fail")
		}
		writeGitHubFailure(w, status)
		return
	}
	switch {
	case isAPI:
		g.serveAPI(w, r, req.apiPath)
	case r.URL.Path == "/login/oauth/authorize":
		g.serveAuthorize(w, r)
	case r.URL.Path == "/login/oauth/access_token" && r.Method == http.MethodPost:
		g.serveToken(w, r)
	default:
		writeGitHubPage(w, http.StatusNotFound, "Not Found", "<p>This is not the web page you are looking for.</p>")
	}
}

// LookupClient returns the secret of a registered OAuth App or GitHub App
// and, for a GitHub App, its app ID (0 for an OAuth App). ok is false for
// an unknown client ID. Fakes that stand in front of GitHub (the fake
// Nango) use it to run the OAuth flow as the app's owner would.
func (g *GitHub) LookupClient(clientID string) (secret string, appID int64, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	c, ok := g.clients[clientID]
	if !ok {
		return "", 0, false
	}
	return c.secret, c.appID, true
}

// User returns a copy of the account with that login (compared
// case-insensitively).
func (g *GitHub) User(login string) (GitHubUser, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	u, ok := g.users[strings.ToLower(login)]
	if !ok {
		return GitHubUser{}, false
	}
	return *cloneUser(*u), true
}

// UserInstallations returns, in ascending order, the IDs of the
// installations of the GitHub App appID that login can see: those GET
// /user/installations lists for a ghu_ token of that app (granted with
// GrantInstallation, existing, of that app). It makes no request.
func (g *GitHub) UserInstallations(login string, appID int64) []int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	tok := &ghToken{kind: "ghu", login: login, appID: appID}
	var ids []int64
	for id := range g.grants[strings.ToLower(login)] {
		if inst, _ := g.visibleInstallation(tok, id); inst != nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}
