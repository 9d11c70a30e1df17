package fakenango

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
)

// serveAPI routes a request to the REST API.
func (n *Nango) serveAPI(w http.ResponseWriter, r *http.Request) {
	n.mu.Lock()
	n.requests = append(n.requests, nangoRequest{r.Method, r.URL.Path})
	n.mu.Unlock()
	if origin := r.Header.Get("Origin"); origin != "" && origin == n.ConnectURL {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET,HEAD,PUT,PATCH,POST,DELETE")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	if h := n.secretRoute(r); h != nil {
		if n.secretAuth(w, r) {
			h(w, r)
		}
		return
	}
	switch p, m := r.URL.Path, r.Method; {
	case p == "/connect/session" && m == http.MethodGet:
		n.serveGetSession(w, r)
	case p == "/integrations" && m == http.MethodGet:
		n.serveListIntegrations(w, r)
	case p == "/fake/connect" && m == http.MethodPost:
		n.serveFakeConnect(w, r)
	default:
		n.notFound(w)
	}
}

// secretRoute returns the handler of a route that takes the API key (nil
// for the others).
func (n *Nango) secretRoute(r *http.Request) http.HandlerFunc {
	p, m := r.URL.Path, r.Method
	for _, prefix := range []string{"/connections/", "/connection/"} {
		id, ok := strings.CutPrefix(p, prefix)
		if !ok || strings.Contains(id, "/") {
			continue
		}
		deprecated := prefix == "/connection/" // no PATCH there
		switch {
		case m == http.MethodGet:
			return func(w http.ResponseWriter, r *http.Request) { n.serveGetConnection(w, r, id, deprecated) }
		case m == http.MethodPatch && !deprecated:
			return func(w http.ResponseWriter, r *http.Request) { n.servePatchConnection(w, r, id) }
		case m == http.MethodDelete:
			return func(w http.ResponseWriter, r *http.Request) { n.serveDeleteConnection(w, r, id) }
		}
		return nil
	}
	switch {
	case p == "/connect/sessions" && m == http.MethodPost:
		return func(w http.ResponseWriter, r *http.Request) { n.servePostSessions(w, r, false) }
	case p == "/connect/sessions/reconnect" && m == http.MethodPost:
		return func(w http.ResponseWriter, r *http.Request) { n.servePostSessions(w, r, true) }
	case p == "/sync/trigger" && m == http.MethodPost:
		return n.serveSyncTrigger
	case strings.HasPrefix(p, "/proxy/"):
		return n.serveProxy
	}
	return nil
}

// knownIntegration reports an integration key that does not exist, at
// path.
func (n *Nango) knownIntegration(z *zod, key string, path ...any) {
	if _, ok := n.integrations[key]; !ok {
		z.add("custom", "Integration does not exist", path)
	}
}

// notFound answers an unknown route.
func (n *Nango) notFound(w http.ResponseWriter) {
	writeNangoError(w, http.StatusNotFound, "not_found", "Route not found")
}

// bearer returns the token of "Authorization: Bearer <token>", or writes
// the 401 of a missing or malformed header.
func bearer(w http.ResponseWriter, r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		writeNangoError(w, http.StatusUnauthorized, "missing_auth_header", msgMissingAuthHeader)
		return "", false
	}
	tok, ok := strings.CutPrefix(h, "Bearer ")
	tok = strings.TrimSpace(tok)
	if !ok || tok == "" {
		writeNangoError(w, http.StatusUnauthorized, "malformed_auth_header", msgMalformedAuthHeader)
		return "", false
	}
	return tok, true
}

// secretAuth checks the API key.
func (n *Nango) secretAuth(w http.ResponseWriter, r *http.Request) bool {
	tok, ok := bearer(w, r)
	if !ok {
		return false
	}
	if !authserver.SecretEqual(tok, n.secretKey) {
		writeNangoError(w, http.StatusUnauthorized, "unknown_account", msgUnknownAccount)
		return false
	}
	return true
}

// sessionByToken checks a connect session token; it writes the 401 and
// returns nil when it is not valid.
func (n *Nango) sessionByToken(w http.ResponseWriter, tok string) *nangoSession {
	if !nangoSessionTokenRE.MatchString(tok) {
		writeNangoError(w, http.StatusUnauthorized, "invalid_connect_session_token_format", msgBadSessionFormat)
		return nil
	}
	now := n.now()
	n.mu.Lock()
	s := n.byToken[tok]
	n.mu.Unlock()
	if s == nil || !now.Before(s.expires) {
		writeNangoError(w, http.StatusUnauthorized, "unknown_connect_session_token", msgUnknownSession)
		return nil
	}
	return s
}

// servePostSessions is POST /connect/sessions and POST
// /connect/sessions/reconnect.
func (n *Nango) servePostSessions(w http.ResponseWriter, r *http.Request, reconnect bool) {
	body, ok := readQuerylessBody(w, r)
	if !ok {
		return
	}
	z := &zod{}
	o, ok := z.object(body, true, []any{})
	if !ok {
		writeNangoIssues(w, http.StatusBadRequest, "invalid_body", z.issues)
		return
	}
	s := &nangoSession{}
	var connID, integrationID string
	known := []string{"end_user", "organization", "allowed_integrations", "integrations_config_defaults", "overrides", "webhook_url_override", "tags"}
	if reconnect {
		known = append([]string{"connection_id", "integration_id"}, known...)
		known = slices.DeleteFunc(known, func(k string) bool { return k == "allowed_integrations" })
		cv, cp := o.get("connection_id")
		if id, ok := z.str(cv, cp, []any{"connection_id"}, 0, 255, ""); ok {
			if !nangoConnectionIDRE.MatchString(id) {
				z.add("invalid_format", "Invalid string: must match pattern", []any{"connection_id"})
			}
			connID = id
		}
		iv, ip := o.get("integration_id")
		integrationID, _ = z.providerKey(iv, ip, []any{"integration_id"})
	}
	ev, ep := o.get("end_user")
	if ep {
		s.endUser = z.endUser(ev, true, []any{"end_user"})
	}
	var org *nangoOrg
	if ov, op := o.get("organization"); op {
		org = z.organization(ov, []any{"organization"})
	}
	var allowed []string
	allowedGiven := false
	if av, ap := o.get("allowed_integrations"); ap && !reconnect {
		allowedGiven = true
		if arr, ok := av.([]any); ok {
			for i, e := range arr {
				if k, ok := z.providerKey(e, true, []any{"allowed_integrations", i}); ok {
					allowed = append(allowed, k)
				}
			}
		} else {
			z.typeIssue("array", av, true, []any{"allowed_integrations"})
		}
	}
	var defaultsKeys, overrideKeys []string
	docsConnect := false
	if dv, dp := o.get("integrations_config_defaults"); dp {
		defaultsKeys, _ = z.integrationRecord(dv, []any{"integrations_config_defaults"}, false)
	}
	if ov, op := o.get("overrides"); op {
		overrideKeys, docsConnect = z.integrationRecord(ov, []any{"overrides"}, true)
	}
	if wv, wp := o.get("webhook_url_override"); wp {
		s.webhookOverride, _ = z.url(wv, true, []any{"webhook_url_override"}, false)
	}
	var tags map[string]string
	tv, tp := o.get("tags")
	if tp {
		tags = z.tags(tv, true, []any{"tags"}, false)
	}
	z.strict(o, known, []any{})
	if !reconnect && !ep && !tp {
		z.add("custom", "end_user is required unless tags are provided", []any{"end_user"})
	}
	if len(z.issues) > 0 {
		writeNangoIssues(w, http.StatusBadRequest, "invalid_body", z.issues)
		return
	}
	if s.endUser != nil && org != nil {
		s.endUser.org = org
	}

	var existing *nangoConn
	if reconnect {
		n.mu.Lock()
		if c := n.byConnID[connID]; c != nil && c.integration == integrationID {
			existing = c
			if s.endUser == nil {
				s.endUser = c.endUser.clone()
			}
		}
		n.mu.Unlock()
		if existing == nil {
			writeNangoError(w, http.StatusBadRequest, "invalid_body", "ConnectionID or IntegrationId does not exists")
			return
		}
	}
	// Unknown integrations: those of allowed_integrations first, alone.
	z = &zod{}
	for i, k := range allowed {
		n.knownIntegration(z, k, "allowed_integrations", i)
	}
	if len(z.issues) == 0 {
		for _, k := range defaultsKeys {
			n.knownIntegration(z, k, "integrations_config_defaults", k)
		}
		for _, k := range overrideKeys {
			n.knownIntegration(z, k, "overrides", k)
		}
	}
	if len(z.issues) > 0 {
		writeNangoIssues(w, http.StatusBadRequest, "invalid_body", z.issues)
		return
	}
	if docsConnect {
		writeNangoError(w, http.StatusForbidden, "forbidden", "You are not allowed to override the docs connect url")
		return
	}

	var derived map[string]string
	if ep {
		e := s.endUser.clone()
		e.org = org
		derived = e.derivedTags()
	} else if org != nil {
		derived = (&nangoEndUser{org: org}).derivedTags()
		delete(derived, "end_user_id")
	}
	s.tags = mergeTags(derived, tags)
	if reconnect {
		if s.tags == nil {
			s.tags = map[string]string{}
		}
		s.reconnect = existing.id
		allowed = []string{integrationID}
	}
	if allowedGiven && len(allowed) > 0 || reconnect {
		s.allowed = allowed
	}
	s.token = "nango_connect_session_" + randomHex(32)
	s.created = n.now()
	s.expires = s.created.Add(NangoConnectSessionTTL)
	n.mu.Lock()
	n.sessions = append(n.sessions, s)
	n.byToken[s.token] = s
	n.mu.Unlock()
	writeNangoJSON(w, http.StatusCreated, jsonObj{{"data", jsonObj{
		{"token", s.token},
		{"connect_link", n.ConnectURL + "/?session_token=" + s.token},
		{"expires_at", nangoTime(s.expires)},
	}}})
}

// serveGetSession is GET /connect/session, authenticated with the
// connect session token (what the Connect UI calls).
func (n *Nango) serveGetSession(w http.ResponseWriter, r *http.Request) {
	tok, ok := bearer(w, r)
	if !ok {
		return
	}
	s := n.sessionByToken(w, tok)
	if s == nil {
		return
	}
	if issues := queryIssues(r.URL.Query(), nil, nil); len(issues) > 0 {
		writeNangoIssues(w, http.StatusBadRequest, "invalid_query_params", issues)
		return
	}
	var endUser any
	if s.endUser != nil {
		var tags any
		if s.endUser.tags != nil {
			tags = s.endUser.tags
		}
		var org any
		if s.endUser.org != nil {
			org = jsonObj{{"id", s.endUser.org.id}, {"display_name", nullIfEmpty(s.endUser.org.displayName)}}
		}
		endUser = jsonObj{{"id", s.endUser.id}, {"display_name", nullIfEmpty(s.endUser.displayName)},
			{"email", nullIfEmpty(s.endUser.email)}, {"tags", tags}, {"organization", org}}
	}
	data := jsonObj{
		{"endUser", endUser},
		{"connectUISettings", jsonObj{{"showWatermark", true},
			{"theme", jsonObj{{"light", jsonObj{{"primary", "#00B2E3"}}}, {"dark", jsonObj{{"primary", "#00B2E3"}}}}}}},
	}
	if s.allowed != nil {
		data = append(data, jsonKV{"allowed_integrations", s.allowed})
	}
	if s.reconnect != "" {
		data = append(data, jsonKV{"isReconnecting", true})
	}
	writeNangoJSON(w, http.StatusOK, jsonObj{{"data", data}})
}

// nangoIntegrationsCreated is the creation time reported for integrations.
var nangoIntegrationsCreated = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// integrationDisplayName is the display name of a provider.
func integrationDisplayName(provider string) string {
	if provider == "github-app-oauth" {
		return "GitHub App"
	}
	return "GitHub"
}

// serveListIntegrations is GET /integrations (API key or connect session
// token).
func (n *Nango) serveListIntegrations(w http.ResponseWriter, r *http.Request) {
	tok, ok := bearer(w, r)
	if !ok {
		return
	}
	if strings.HasPrefix(tok, "nango_connect_session_") {
		if n.sessionByToken(w, tok) == nil {
			return
		}
	} else if !authserver.SecretEqual(tok, n.secretKey) {
		writeNangoError(w, http.StatusUnauthorized, "unknown_account", msgUnknownAccount)
		return
	}
	keys := make([]string, 0, len(n.integrations))
	for k := range n.integrations {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	created := nangoTime(nangoIntegrationsCreated)
	list := []jsonObj{}
	for _, k := range keys {
		in := n.integrations[k]
		list = append(list, jsonObj{{"unique_key", k}, {"display_name", integrationDisplayName(in.Provider)},
			{"provider", in.Provider}, {"logo", n.ConnectURL + "/images/template-logos/github.svg"},
			{"created_at", created}, {"updated_at", created}})
	}
	writeNangoJSON(w, http.StatusOK, jsonObj{{"data", list}})
}

// serveFakeConnect is POST /fake/connect {sessionToken, integration}: the
// fake Connect UI's stand-in for the OAuth popup. It does what Connect
// does.
func (n *Nango) serveFakeConnect(w http.ResponseWriter, r *http.Request) {
	var req struct {
		SessionToken string `json:"sessionToken"`
		Integration  string `json:"integration"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil {
		writeNangoError(w, http.StatusBadRequest, "invalid_body", "expected {sessionToken, integration}")
		return
	}
	if req.SessionToken == "" {
		req.SessionToken, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	res, err := n.Connect(req.SessionToken, req.Integration)
	if err != nil {
		ce, ok := err.(*NangoConnectError)
		if !ok {
			ce = &NangoConnectError{"unknown_error", err.Error()}
		}
		writeNangoError(w, http.StatusBadRequest, ce.Type, ce.Message)
		return
	}
	writeNangoJSON(w, http.StatusOK, jsonObj{{"data", jsonObj{
		{"providerConfigKey", req.Integration}, {"connectionId", res.ConnectionID}, {"isPending", res.IsPending}}}})
}

// checkConnectionID validates a connection ID path parameter.
func checkConnectionID(w http.ResponseWriter, id string) bool {
	z := &zod{}
	if s, ok := z.str(id, true, []any{"connectionId"}, 0, 255, ""); ok && !nangoConnectionIDRE.MatchString(s) {
		z.add("invalid_format", "Invalid string: must match pattern", []any{"connectionId"})
	}
	if len(z.issues) > 0 {
		writeNangoIssues(w, http.StatusBadRequest, "invalid_uri_params", z.issues)
		return false
	}
	return true
}

// liveConn returns the live connection id of integration (n.mu held).
func (n *Nango) liveConn(id, integration string) *nangoConn {
	c := n.byConnID[id]
	if c == nil || c.integration != integration {
		return nil
	}
	return c
}

// connectionJSON renders GET /connections/{id} (n.mu held).
func (n *Nango) connectionJSON(c *nangoConn, withRefreshTokens bool) jsonObj {
	errs := []any{}
	for _, id := range c.errorLogs {
		errs = append(errs, jsonObj{{"type", "auth"}, {"log_id", id}})
	}
	var endUser, override, lastFetched any
	if c.endUser != nil {
		endUser = c.endUser.apiJSON()
	}
	if c.webhookOverride != "" {
		override = c.webhookOverride
	}
	if !c.lastFetched.IsZero() {
		lastFetched = nangoTime(c.lastFetched)
	}
	var cfg, creds any = c.configJSON(), c.credentialsJSON()
	if !withRefreshTokens {
		cfg, creds = stripRefreshTokens(cfg), stripRefreshTokens(creds)
	}
	return jsonObj{
		{"id", c.numID},
		{"connection_id", c.id},
		{"provider_config_key", c.integration},
		{"provider", c.provider},
		{"errors", errs},
		{"end_user", endUser},
		{"tags", c.tags},
		{"metadata", nil},
		{"connection_config", cfg},
		{"webhook_url_override", override},
		{"created_at", nangoTime(c.created)},
		{"updated_at", nangoTime(c.updated)},
		{"last_fetched_at", lastFetched},
		{"credentials", creds},
	}
}
