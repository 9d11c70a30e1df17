package testsupport

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// nangoOrg is the (deprecated) organization of an end user.
type nangoOrg struct{ id, displayName string }

// nangoEndUser is the (deprecated) end_user of a session or connection.
type nangoEndUser struct {
	id, email, displayName string
	tags                   map[string]string // nil: none given
	org                    *nangoOrg
}

// view copies e for tests.
func (e *nangoEndUser) view() *NangoEndUser {
	v := &NangoEndUser{ID: e.id, Email: e.email, DisplayName: e.displayName, Tags: cloneTags(e.tags)}
	if e.org != nil {
		v.OrganizationID, v.OrganizationDisplayName = e.org.id, e.org.displayName
	}
	return v
}

// clone deep-copies e (nil stays nil).
func (e *nangoEndUser) clone() *nangoEndUser {
	if e == nil {
		return nil
	}
	c := *e
	c.tags = cloneTags(e.tags)
	if e.org != nil {
		o := *e.org
		c.org = &o
	}
	return &c
}

// derivedTags are the tags Nango builds from end_user and organization
// (buildTagsFromEndUser).
func (e *nangoEndUser) derivedTags() map[string]string {
	if e == nil {
		return nil
	}
	tags := map[string]string{"end_user_id": e.id}
	if e.email != "" {
		tags["end_user_email"] = e.email
	}
	if e.displayName != "" {
		tags["end_user_display_name"] = e.displayName
	}
	if e.org != nil {
		if e.org.id != "" {
			tags["organization_id"] = e.org.id
		}
		if e.org.displayName != "" {
			tags["organization_display_name"] = e.org.displayName
		}
	}
	return tags
}

// apiJSON renders e as the API's end_user object.
func (e *nangoEndUser) apiJSON() jsonObj {
	tags := cloneTags(e.tags)
	if tags == nil {
		tags = map[string]string{}
	}
	var org any
	if e.org != nil {
		org = jsonObj{{"id", e.org.id}, {"display_name", nullIfEmpty(e.org.displayName)}}
	}
	return jsonObj{
		{"id", e.id},
		{"display_name", nullIfEmpty(e.displayName)},
		{"email", nullIfEmpty(e.email)},
		{"tags", tags},
		{"organization", org},
	}
}

// nullIfEmpty is nil for "" (JSON null) and s otherwise.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// mergeTags is {...a, ...b}; nil when both are nil.
func mergeTags(a, b map[string]string) map[string]string {
	if a == nil && b == nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// nangoSession is a connect session.
type nangoSession struct {
	token           string
	endUser         *nangoEndUser
	tags            map[string]string // nil: null
	allowed         []string          // nil: every integration
	webhookOverride string
	reconnect       string // connection ID for a reconnect session
	created         time.Time
	expires         time.Time
}

// nangoUserToken is an OAuth user token (gho_ or ghu_) and the token
// response it came from.
type nangoUserToken struct {
	access, refresh string
	expires         time.Time // zero: never
	raw             jsonObj
}

// credentials renders t as Nango's OAUTH2 credentials.
func (t nangoUserToken) credentials() jsonObj {
	o := jsonObj{{"type", "OAUTH2"}, {"access_token", t.access}}
	if t.refresh != "" {
		o = append(o, jsonKV{"refresh_token", t.refresh})
	}
	if !t.expires.IsZero() {
		o = append(o, jsonKV{"expires_at", nangoTime(t.expires)})
	}
	raw := t.raw
	if raw == nil {
		raw = jsonObj{}
	}
	return append(o, jsonKV{"raw", raw})
}

// nangoInstToken is an installation token (ghs_).
type nangoInstToken struct {
	token   string
	expires time.Time
	raw     jsonObj
}

// nangoConn is a connection.
type nangoConn struct {
	numID           int64
	id              string
	integration     string
	provider        string
	endUser         *nangoEndUser
	tags            map[string]string // never nil
	login           string
	webhookOverride string
	created         time.Time
	updated         time.Time
	lastFetched     time.Time
	user            nangoUserToken
	pending         bool // github-app-oauth without installation
	installed       bool
	installationID  int64
	appID           int64
	inst            nangoInstToken
	jwt             string
	refreshFailed   time.Time // last failed refresh, zero if none since success
	errorLogs       []string  // active auth error log IDs
	deleted         bool
	refreshMu       sync.Mutex // serializes refreshes (GitHub rotates refresh tokens)
}

// view copies c for tests (n.mu held).
func (c *nangoConn) view() NangoConnection {
	v := NangoConnection{ID: c.id, Integration: c.integration, Tags: cloneTags(c.tags), Pending: c.pending,
		Login: c.login, InstallationID: c.installationID, WebhookURLOverride: c.webhookOverride}
	v.EndUserID = c.tags["end_user_id"]
	if v.EndUserID == "" && c.endUser != nil {
		v.EndUserID = c.endUser.id
	}
	return v
}

// credentialsJSON renders credentials (n.mu held).
func (c *nangoConn) credentialsJSON() jsonObj {
	if !c.installed {
		return c.user.credentials()
	}
	raw := c.inst.raw
	if raw == nil {
		raw = jsonObj{}
	}
	return jsonObj{{"type", "APP"}, {"access_token", c.inst.token}, {"expires_at", nangoTime(c.inst.expires)}, {"raw", raw}}
}

// configJSON renders connection_config (n.mu held).
func (c *nangoConn) configJSON() jsonObj {
	if c.provider != "github-app-oauth" {
		return jsonObj{}
	}
	if !c.installed {
		return jsonObj{{"pending", true}, {"handle", c.login}, {"userCredentials", c.user.credentials()}}
	}
	return jsonObj{
		{"installation_id", strconv.FormatInt(c.installationID, 10)},
		{"app_id", strconv.FormatInt(c.appID, 10)},
		{"jwtToken", c.jwt},
		{"pending", false},
		{"handle", c.login},
		{"userCredentials", c.user.credentials()},
	}
}

// authMode is the authMode of c's auth webhooks.
func (c *nangoConn) authMode() string {
	if c.provider == "github-app-oauth" {
		return "CUSTOM"
	}
	return "OAUTH2"
}

// newUUID returns a random version 4 UUID.
func newUUID() string { return newDeliveryID() }

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("testsupport: crypto/rand: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// fakeAppJWT returns a GitHub App JWT of the shape Nango keeps in
// connection_config.jwtToken (iat 60 s ago, exp in 10 min, iss the app ID).
// The fake Nango has no private key, so the signature is random bytes.
func fakeAppJWT(appID int64, now time.Time) string {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	claims := enc.EncodeToString(fmt.Appendf(nil, `{"iat":%d,"exp":%d,"iss":"%d"}`,
		now.Add(-time.Minute).Unix(), now.Add(10*time.Minute).Unix(), appID))
	sig := make([]byte, 256)
	_, _ = rand.Read(sig)
	return header + "." + claims + "." + enc.EncodeToString(sig)
}

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
		raw: jsonObj{{"token", t.Token}, {"expires_at", gitHubTime(t.ExpiresAt)},
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
		c.errorLogs = append(c.errorLogs, randomString(base62, 20))
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
