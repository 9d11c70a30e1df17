package fakenango

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/fakegithub"
)

// Connect does what a user finishing the Connect UI does: it checks the
// connect session token (known, not expired, integration allowed), runs
// the OAuth flow with the fake GitHub for the login set with SetLogin
// (POST /login/oauth/authorize as the user picking their account, then
// the code exchange at /login/oauth/access_token with the client secret),
// creates the connection (a UUID; tags from the session; end_user kept)
// and queues the auth webhooks. For github-app-oauth, when the user can
// see an installation of the app in the fake GitHub (GrantInstallation),
// the connection is installed and the webhooks are "creation" then
// "override"; otherwise it is pending and only "creation" is sent. A
// reconnect session overrides its connection and sends "override". Errors
// are *NangoConnectError.
func (n *Nango) Connect(sessionToken, integration string) (NangoConnectResult, error) {
	n.mu.Lock()
	s := n.byToken[sessionToken]
	login := n.login
	n.mu.Unlock()
	now := n.now()
	if s == nil {
		return NangoConnectResult{}, &NangoConnectError{"missing_connect_session_token", "unknown connect session token"}
	}
	if !now.Before(s.expires) {
		return NangoConnectResult{}, &NangoConnectError{"missing_connect_session_token", "the connect session expired"}
	}
	in, ok := n.integrations[integration]
	if !ok {
		return NangoConnectResult{}, &NangoConnectError{"unknown_error", fmt.Sprintf("integration %q does not exist", integration)}
	}
	if s.allowed != nil && !slices.Contains(s.allowed, integration) {
		return NangoConnectResult{}, &NangoConnectError{"unknown_error", fmt.Sprintf("integration %q is not allowed by the connect session", integration)}
	}
	if login == "" {
		return NangoConnectResult{}, &NangoConnectError{"unknown_error", "no GitHub user: call SetLogin first"}
	}
	u, ok := n.gh.User(login)
	if !ok {
		return NangoConnectResult{}, &NangoConnectError{"unknown_error", fmt.Sprintf("the fake GitHub has no user %q", login)}
	}
	user, err := n.githubAuthorize(in, u.Login)
	if err != nil {
		return NangoConnectResult{}, &NangoConnectError{"unknown_error", err.Error()}
	}
	var (
		appID, installationID int64
		inst                  nangoInstToken
		installed             bool
	)
	if in.Provider == "github-app-oauth" {
		_, appID, _ = n.gh.LookupClient(in.ClientID)
		if ids := n.gh.UserInstallations(u.Login, appID); len(ids) > 0 {
			if inst, err = n.mintInstallation(appID, ids[0]); err == nil {
				installed, installationID = true, ids[0]
			}
		}
	}

	n.mu.Lock()
	defer n.mu.Unlock()
	now = n.now()
	var c *nangoConn
	op := "creation"
	if s.reconnect != "" {
		c = n.byConnID[s.reconnect]
		if c == nil {
			return NangoConnectResult{}, &NangoConnectError{"unknown_error", "the connection to reconnect no longer exists"}
		}
		if c.integration != integration {
			return NangoConnectResult{}, &NangoConnectError{"unknown_error", "a reconnect session only allows " + c.integration}
		}
		op = "override"
		if len(s.tags) > 0 {
			c.tags = cloneTags(s.tags)
		}
		if s.endUser != nil {
			c.endUser = s.endUser.clone()
		}
		if s.webhookOverride != "" {
			c.webhookOverride = s.webhookOverride
		}
	} else {
		tags := cloneTags(s.tags)
		if tags == nil {
			tags = map[string]string{}
		}
		c = &nangoConn{
			numID:           n.nextNumID,
			id:              newUUID(),
			integration:     integration,
			provider:        in.Provider,
			endUser:         s.endUser.clone(),
			tags:            tags,
			webhookOverride: s.webhookOverride,
			created:         now,
		}
		n.nextNumID++
		n.conns = append(n.conns, c)
		n.byConnID[c.id] = c
	}
	c.login = u.Login
	c.user = user
	c.updated = now
	c.appID = appID
	c.refreshFailed, c.errorLogs = time.Time{}, nil
	c.pending = in.Provider == "github-app-oauth" && !installed
	c.installed, c.installationID, c.inst, c.jwt = installed, installationID, inst, ""
	if installed {
		c.jwt = fakeAppJWT(appID, now)
	}
	n.queueLocked(n.authPayload(c, op, true, nil, true))
	if installed && op == "creation" {
		n.queueLocked(n.authPayload(c, "override", true, nil, true))
	}
	return NangoConnectResult{ConnectionID: c.id, IsPending: c.pending}, nil
}

// Approve completes a pending github-app-oauth connection once the test
// has granted the user an installation of the app in the fake GitHub
// (the org owner approved the request): the credentials become the
// installation token (type APP), connection_config gets installation_id,
// app_id, jwtToken and pending false, and an auth "override" webhook is
// queued, as when GitHub's installation.created event reaches Nango.
func (n *Nango) Approve(connectionID string) error {
	n.mu.Lock()
	c := n.byConnID[connectionID]
	var login string
	var appID int64
	if c != nil {
		login, appID = c.login, c.appID
	}
	pending := c != nil && c.pending
	n.mu.Unlock()
	switch {
	case c == nil:
		return fmt.Errorf("fake Nango: no connection %q", connectionID)
	case c.provider != "github-app-oauth":
		return fmt.Errorf("fake Nango: connection %q is not a github-app-oauth connection", connectionID)
	case !pending:
		return fmt.Errorf("fake Nango: connection %q is not pending", connectionID)
	}
	ids := n.gh.UserInstallations(login, appID)
	if len(ids) == 0 {
		return fmt.Errorf("fake Nango: %s has no installation of app %d in the fake GitHub (GrantInstallation first)", login, appID)
	}
	inst, err := n.mintInstallation(appID, ids[0])
	if err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if c.deleted || !c.pending {
		return fmt.Errorf("fake Nango: connection %q changed while approving", connectionID)
	}
	now := n.now()
	c.pending, c.installed, c.installationID, c.inst = false, true, ids[0], inst
	c.jwt = fakeAppJWT(appID, now)
	c.updated = now
	n.queueLocked(n.authPayload(c, "override", true, nil, true))
	return nil
}

// authPayload builds an auth webhook (n.mu held). withEndUser adds endUser
// when the connection has one (not on refresh failures).
func (n *Nango) authPayload(c *nangoConn, operation string, success bool, errObj map[string]any, withEndUser bool) map[string]any {
	p := map[string]any{
		"authMode":          c.authMode(),
		"connectionId":      c.id,
		"environment":       n.env,
		"from":              "nango",
		"operation":         operation,
		"provider":          c.provider,
		"providerConfigKey": c.integration,
		"success":           success,
		"type":              "auth",
	}
	if len(c.tags) > 0 {
		tags := map[string]any{}
		for k, v := range c.tags {
			tags[k] = v
		}
		p["tags"] = tags
	}
	if withEndUser && c.endUser != nil {
		eu := map[string]any{"endUserId": c.endUser.id, "tags": map[string]any{}}
		if c.endUser.email != "" {
			eu["endUserEmail"] = c.endUser.email
		}
		if c.endUser.org != nil && c.endUser.org.id != "" {
			eu["organizationId"] = c.endUser.org.id
		}
		for k, v := range c.endUser.tags {
			eu["tags"].(map[string]any)[k] = v
		}
		p["endUser"] = eu
	}
	if !success {
		p["error"] = errObj
	}
	return p
}

// githubAuthorize runs the OAuth web flow for login: the user approves on
// GitHub's authorize page, GitHub redirects to Nango's callback with a
// code, and Nango exchanges it.
func (n *Nango) githubAuthorize(in NangoIntegration, login string) (nangoUserToken, error) {
	secret, _, ok := n.gh.LookupClient(in.ClientID)
	if !ok {
		return nangoUserToken{}, fmt.Errorf("the fake GitHub has no client %q", in.ClientID)
	}
	redirectURI := n.URL + "/oauth/callback"
	state := randomHex(16)
	form := url.Values{"client_id": {in.ClientID}, "redirect_uri": {redirectURI}, "state": {state}, "login": {login}}
	if in.Provider == "github" && len(in.Scopes) > 0 {
		form.Set("scope", strings.Join(in.Scopes, ","))
	}
	resp, err := n.ghCli.PostForm(n.gh.URL+"/login/oauth/authorize", form)
	if err != nil {
		return nangoUserToken{}, fmt.Errorf("GitHub authorize: %w", err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return nangoUserToken{}, fmt.Errorf("GitHub authorize: status %d: %s", resp.StatusCode, body)
	}
	loc, err := resp.Location()
	if err != nil {
		return nangoUserToken{}, fmt.Errorf("GitHub authorize: %w", err)
	}
	q := loc.Query()
	if e := q.Get("error"); e != "" {
		return nangoUserToken{}, fmt.Errorf("GitHub authorize: %s: %s", e, q.Get("error_description"))
	}
	if q.Get("state") != state || q.Get("code") == "" {
		return nangoUserToken{}, fmt.Errorf("GitHub authorize: bad callback %s", loc)
	}
	return n.githubToken(url.Values{
		"grant_type":    {"authorization_code"},
		"client_id":     {in.ClientID},
		"client_secret": {secret},
		"code":          {q.Get("code")},
		"redirect_uri":  {redirectURI},
	})
}

// githubRefresh redeems a refresh token.
func (n *Nango) githubRefresh(in NangoIntegration, refresh string) (nangoUserToken, error) {
	secret, _, _ := n.gh.LookupClient(in.ClientID)
	return n.githubToken(url.Values{
		"grant_type":    {"refresh_token"},
		"client_id":     {in.ClientID},
		"client_secret": {secret},
		"refresh_token": {refresh},
	})
}

// githubToken calls GitHub's token endpoint and reads the JSON answer.
func (n *Nango) githubToken(form url.Values) (nangoUserToken, error) {
	req, err := http.NewRequest(http.MethodPost, n.gh.URL+"/login/oauth/access_token", strings.NewReader(form.Encode()))
	if err != nil {
		return nangoUserToken{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := n.ghCli.Do(req)
	if err != nil {
		return nangoUserToken{}, fmt.Errorf("GitHub token endpoint: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nangoUserToken{}, fmt.Errorf("GitHub token endpoint: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nangoUserToken{}, fmt.Errorf("GitHub token endpoint: status %d: %s", resp.StatusCode, body)
	}
	v, err := decodeOrdered(body)
	raw, ok := v.(jsonObj)
	if err != nil || !ok {
		return nangoUserToken{}, fmt.Errorf("GitHub token endpoint: not a JSON object: %s", body)
	}
	if e, ok := raw.get("error"); ok {
		desc, _ := raw.get("error_description")
		return nangoUserToken{}, fmt.Errorf("GitHub token endpoint: %v: %v", e, desc)
	}
	t := nangoUserToken{raw: raw}
	t.access, _ = mustString(raw.get("access_token"))
	t.refresh, _ = mustString(raw.get("refresh_token"))
	if t.access == "" {
		return nangoUserToken{}, fmt.Errorf("GitHub token endpoint: no access_token: %s", body)
	}
	if e, ok := raw.get("expires_in"); ok {
		if num, ok := e.(json.Number); ok {
			if secs, err := num.Int64(); err == nil {
				t.expires = n.now().Add(time.Duration(secs) * time.Second)
			}
		}
	}
	return t, nil
}

// mustString returns v as a string when it is one.
func mustString(v any, ok bool) (string, bool) {
	s, isString := v.(string)
	return s, ok && isString
}

// mintInstallation obtains an installation token.
func (n *Nango) mintInstallation(appID, installationID int64) (nangoInstToken, error) {
	t, err := n.gh.MintInstallationToken(appID, installationID)
	if err != nil {
		return nangoInstToken{}, err
	}
	perms := jsonObj{}
	keys := make([]string, 0, len(t.Permissions))
	for k := range t.Permissions {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		perms = append(perms, jsonKV{k, t.Permissions[k]})
	}
	return nangoInstToken{
		token:   t.Token,
		expires: t.ExpiresAt,
		raw: jsonObj{{"token", t.Token}, {"expires_at", fakegithub.FormatTime(t.ExpiresAt)},
			{"permissions", perms}, {"repository_selection", t.RepositorySelection}},
	}, nil
}

// nangoRefreshError is a failed refresh as the API reports it.
type nangoRefreshError struct {
	status  int
	code    string // refresh_token_external_error or connection_refresh_backoff
	message string
}

// Messages of refresh failures.
const (
	msgRefreshExternal = "The external API returned an error when trying to refresh the access token. Please try again later."
	msgRefreshBackoff  = "The connection failed to refresh recently. Refresh is in backoff, please try again later."
)

// refreshIfNeeded refreshes c's tokens that expire within
// NangoRefreshMargin (all of them when force), as Nango does before
// returning credentials or proxying. A failure is recorded on the
// connection, starts the cooldown and queues an auth "refresh" webhook
// with success false.
func (n *Nango) refreshIfNeeded(c *nangoConn, force bool) *nangoRefreshError {
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	n.mu.Lock()
	now := n.now()
	in := n.integrations[c.integration]
	user, installed, appID, installationID := c.user, c.installed, c.appID, c.installationID
	needUser := user.refresh != "" && !user.expires.IsZero() && (force || user.expires.Sub(now) < NangoRefreshMargin)
	needInst := installed && (force || c.inst.expires.Sub(now) < NangoRefreshMargin)
	failedAt := c.refreshFailed
	n.mu.Unlock()
	if !needUser && !needInst {
		return nil
	}
	if !failedAt.IsZero() && now.Sub(failedAt) < NangoRefreshCooldown {
		return &nangoRefreshError{http.StatusFailedDependency, "connection_refresh_backoff", msgRefreshBackoff}
	}
	var err error
	if needUser {
		user, err = n.githubRefresh(in, user.refresh)
	}
	var inst nangoInstToken
	if err == nil && needInst {
		inst, err = n.mintInstallation(appID, installationID)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	now = n.now()
	if err != nil {
		c.refreshFailed = now
		c.errorLogs = append(c.errorLogs, authserver.RandomString(authserver.Base62, 20))
		if !c.deleted {
			n.queueLocked(n.authPayload(c, "refresh", false, map[string]any{
				"type":        "refresh_token_external_error",
				"description": msgRefreshExternal + " " + err.Error(),
			}, false))
		}
		return &nangoRefreshError{http.StatusBadRequest, "refresh_token_external_error", msgRefreshExternal}
	}
	if needUser {
		c.user = user
	}
	if needInst {
		c.inst = inst
		c.jwt = fakeAppJWT(appID, now)
	}
	c.refreshFailed, c.errorLogs = time.Time{}, nil
	c.updated = now
	return nil
}
