package testsupport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// Validation patterns of Nango's API (packages/server/lib/helpers/validation.ts
// and packages/shared/lib/services/tags/schema.ts).
var (
	nangoProviderConfigKeyRE = regexp.MustCompile(`^[a-zA-Z0-9~:.@ _-]+$`)
	nangoConnectionIDRE      = regexp.MustCompile(`^[a-zA-Z0-9,.;:=+~\[\]|@${}"'\\/_ -]+$`)
	nangoSessionTokenRE      = regexp.MustCompile(`^nango_connect_session_[a-f0-9]{64}$`)
	nangoTagKeyRE            = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_\-./]*$`)
	nangoEmailRE             = regexp.MustCompile(`^[A-Za-z0-9_'+\-.]*[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$`)
	nangoRetryOnRE           = regexp.MustCompile(`^\d+(,\d+)*$`)
)

// Error messages of Nango's auth middleware (packages/shared/lib/utils/error.ts).
const (
	msgMissingAuthHeader   = "Authentication failed. The request is missing the Authorization header."
	msgMalformedAuthHeader = "Authentication failed. The Authorization header is malformed."
	msgUnknownAccount      = "Authentication failed. The provided authorization header does not match any account."
	msgBadSessionFormat    = "Authentication failed. The provided connect session token is not following correct format: nango_connect_session_RANDOM)"
	msgUnknownSession      = "Authentication failed. The provided connect session token does not match any account."
)

// proxyResponseHeaders are the upstream headers the proxy forwards on a
// successful answer (PROXY_RESPONSE_HEADER_ALLOWLIST).
var proxyResponseHeaders = []string{"content-type", "mcp-session-id", "x-request-id", "x-correlation-id"}

// hopHeaders are not copied from an upstream answer.
var hopHeaders = []string{"Connection", "Keep-Alive", "Transfer-Encoding", "Content-Length", "Upgrade", "Trailer"}

// zodIssue is one entry of "errors" in a validation error
// (zodErrorToHTTP).
type zodIssue struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Path    []any  `json:"path"`
}

// zod collects validation issues the way Nango's zod schemas report them
// (zod v4 messages).
type zod struct{ issues []zodIssue }

func (z *zod) add(code, message string, path []any) {
	z.issues = append(z.issues, zodIssue{code, message, append([]any{}, path...)})
}

// at extends a path.
func at(path []any, more ...any) []any { return append(slices.Clone(path), more...) }

// jsType is zod's name of a value's type.
func jsType(v any, present bool) string {
	if !present {
		return "undefined"
	}
	switch v.(type) {
	case nil:
		return "null"
	case jsonObj:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	}
	return "unknown"
}

// jsLen is JavaScript's string length (UTF-16 code units).
func jsLen(s string) int { return len(utf16.Encode([]rune(s))) }

// typeIssue reports a wrong type.
func (z *zod) typeIssue(expected string, v any, present bool, path []any) {
	z.add("invalid_type", "Invalid input: expected "+expected+", received "+jsType(v, present), path)
}

// str checks a string of min..max (max 0: no limit) characters; maxMsg
// replaces the default too_big message.
func (z *zod) str(v any, present bool, path []any, minLen, maxLen int, maxMsg string) (string, bool) {
	s, ok := v.(string)
	if !ok {
		z.typeIssue("string", v, present, path)
		return "", false
	}
	n := len(z.issues)
	if l := jsLen(s); l < minLen {
		z.add("too_small", fmt.Sprintf("Too small: expected string to have >=%d characters", minLen), path)
	} else if maxLen > 0 && l > maxLen {
		if maxMsg == "" {
			maxMsg = fmt.Sprintf("Too big: expected string to have <=%d characters", maxLen)
		}
		z.add("too_big", maxMsg, path)
	}
	return s, len(z.issues) == n
}

// object checks an object.
func (z *zod) object(v any, present bool, path []any) (jsonObj, bool) {
	o, ok := v.(jsonObj)
	if !ok {
		z.typeIssue("object", v, present, path)
	}
	return o, ok
}

// strict reports the members of o not in known.
func (z *zod) strict(o jsonObj, known []string, path []any) {
	var extra []string
	for _, k := range o.keys() {
		if !slices.Contains(known, k) {
			extra = append(extra, strconv.Quote(k))
		}
	}
	switch len(extra) {
	case 0:
	case 1:
		z.add("unrecognized_keys", "Unrecognized key: "+extra[0], path)
	default:
		z.add("unrecognized_keys", "Unrecognized keys: "+strings.Join(extra, ", "), path)
	}
}

// email checks z.email().
func (z *zod) email(s string, path []any) bool {
	if strings.HasPrefix(s, ".") || strings.Contains(s, "..") || !nangoEmailRE.MatchString(s) {
		z.add("invalid_format", "Invalid email address", path)
		return false
	}
	return true
}

// url checks z.url() ("" allowed when emptyOK).
func (z *zod) url(v any, present bool, path []any, emptyOK bool) (string, bool) {
	s, ok := v.(string)
	if !ok {
		z.typeIssue("string", v, present, path)
		return "", false
	}
	if s == "" && emptyOK {
		return "", true
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		z.add("invalid_format", "Invalid URL", path)
		return "", false
	}
	return s, true
}

// providerKey checks providerConfigKeySchema.
func (z *zod) providerKey(v any, present bool, path []any) (string, bool) {
	s, ok := z.str(v, present, path, 0, 255, "")
	if ok && !nangoProviderConfigKeyRE.MatchString(s) {
		z.add("invalid_format", "Invalid string: must match pattern /^[a-zA-Z0-9~:.@ _-]+$/", path)
		return "", false
	}
	return s, ok
}

// tags checks connectionTagsSchema (connection tags: values 1..255
// characters, keys lower-cased) or, when endUser, the end user's tags
// (values ≤ 255, keys kept).
func (z *zod) tags(v any, present bool, path []any, endUser bool) map[string]string {
	o, ok := v.(jsonObj)
	if !ok {
		z.typeIssue("record", v, present, path)
		return nil
	}
	n := len(z.issues)
	out := map[string]string{}
	for _, kv := range o {
		if jsLen(kv.K) > 64 || !nangoTagKeyRE.MatchString(kv.K) {
			z.add("invalid_key", "Invalid key in record", at(path, kv.K))
			continue
		}
		minLen, maxMsg := 1, "Tag values must be at most 255 characters"
		if endUser {
			minLen, maxMsg = 0, ""
		}
		if s, ok := z.str(kv.V, true, at(path, kv.K), minLen, 255, maxMsg); ok {
			out[kv.K] = s
		}
	}
	if len(z.issues) > n {
		return nil
	}
	if len(o) > 10 {
		z.add("custom", "Tags cannot contain more than 10 keys", path)
		return nil
	}
	seen := map[string]bool{}
	for _, kv := range o {
		lower := strings.ToLower(kv.K)
		if seen[lower] {
			z.add("custom", fmt.Sprintf("Duplicate tag key after case normalization: %q", lower), path)
		}
		seen[lower] = true
		if s, _ := kv.V.(string); lower == "end_user_email" && (jsLen(s) < 5 || !nangoEmailRE.MatchString(s) || strings.HasPrefix(s, ".") || strings.Contains(s, "..")) {
			z.add("custom", `Tag "end_user_email" must be a valid email`, path)
		}
	}
	if len(z.issues) > n {
		return nil
	}
	if endUser {
		return out
	}
	norm := map[string]string{}
	for k, v := range out {
		norm[strings.ToLower(k)] = v
	}
	return norm
}

// endUser checks endUserSchema.
func (z *zod) endUser(v any, present bool, path []any) *nangoEndUser {
	o, ok := z.object(v, present, path)
	if !ok {
		return nil
	}
	n := len(z.issues)
	e := &nangoEndUser{}
	iv, ip := o.get("id")
	e.id, _ = z.str(iv, ip, at(path, "id"), 1, 255, "")
	if ev, ep := o.get("email"); ep {
		if s, ok := z.str(ev, true, at(path, "email"), 0, 0, ""); ok {
			z.email(s, at(path, "email"))
			if jsLen(s) < 5 {
				z.add("too_small", "Too small: expected string to have >=5 characters", at(path, "email"))
			}
			e.email = s
		}
	}
	if dv, dp := o.get("display_name"); dp {
		e.displayName, _ = z.str(dv, true, at(path, "display_name"), 0, 255, "")
	}
	if tv, tp := o.get("tags"); tp {
		e.tags = z.tags(tv, true, at(path, "tags"), true)
	}
	z.strict(o, []string{"id", "email", "display_name", "tags"}, path)
	if len(z.issues) > n {
		return nil
	}
	return e
}

// organization checks the (deprecated) organization object.
func (z *zod) organization(v any, path []any) *nangoOrg {
	o, ok := z.object(v, true, path)
	if !ok {
		return nil
	}
	org := &nangoOrg{}
	iv, ip := o.get("id")
	org.id, _ = z.str(iv, ip, at(path, "id"), 0, 255, "")
	if dv, dp := o.get("display_name"); dp {
		org.displayName, _ = z.str(dv, true, at(path, "display_name"), 0, 255, "")
	}
	z.strict(o, []string{"id", "display_name"}, path)
	return org
}

// integrationRecord checks integrations_config_defaults or overrides and
// returns their keys.
func (z *zod) integrationRecord(v any, path []any, overrides bool) (keys []string, docsConnect bool) {
	o, ok := v.(jsonObj)
	if !ok {
		z.typeIssue("record", v, true, path)
		return nil, false
	}
	for _, kv := range o {
		if _, ok := z.providerKey(kv.K, true, at(path, kv.K)); !ok {
			continue
		}
		keys = append(keys, kv.K)
		p := at(path, kv.K)
		val, ok := z.object(kv.V, true, p)
		if !ok {
			continue
		}
		if overrides {
			if dv, dp := val.get("docs_connect"); dp {
				if s, ok := z.str(dv, true, at(p, "docs_connect"), 0, 0, ""); ok && s != "" {
					docsConnect = true
				}
			}
			continue
		}
		if sv, sp := val.get("user_scopes"); sp {
			z.str(sv, true, at(p, "user_scopes"), 0, 0, "")
		}
		if av, ap := val.get("authorization_params"); ap {
			if ao, ok := z.object(av, true, at(p, "authorization_params")); ok {
				for _, akv := range ao {
					z.str(akv.V, true, at(p, "authorization_params", akv.K), 0, 0, "")
				}
			}
		}
		if cv, cp := val.get("connection_config"); cp {
			if co, ok := z.object(cv, true, at(p, "connection_config")); ok {
				if ov, op := co.get("oauth_scopes_override"); op {
					z.str(ov, true, at(p, "connection_config", "oauth_scopes_override"), 0, 0, "")
				}
			}
		}
		z.strict(val, []string{"user_scopes", "authorization_params", "connection_config"}, p)
	}
	return keys, docsConnect
}

// writeNangoJSON sends v as Express's res.send does.
func writeNangoJSON(w http.ResponseWriter, status int, v any) {
	body, err := jsMarshal(v)
	if err != nil {
		http.Error(w, "fake Nango: encoding response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeNangoError sends {"error":{"code","message"}} (message omitted
// when "").
func writeNangoError(w http.ResponseWriter, status int, code, message string) {
	e := jsonObj{{"code", code}}
	if message != "" {
		e = append(e, jsonKV{"message", message})
	}
	writeNangoJSON(w, status, jsonObj{{"error", e}})
}

// writeNangoIssues sends {"error":{"code","errors":[…]}}.
func writeNangoIssues(w http.ResponseWriter, status int, code string, issues []zodIssue) {
	writeNangoJSON(w, status, jsonObj{{"error", jsonObj{{"code", code}, {"errors", issues}}}})
}

// readNangoBody reads a request body as express.json() does: parsed only
// when Content-Type is JSON, else {}.
func readNangoBody(w http.ResponseWriter, r *http.Request) (any, bool) {
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeNangoError(w, http.StatusBadRequest, "invalid_body", "Could not read the request body")
		return nil, false
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if len(bytes.TrimSpace(data)) == 0 || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return jsonObj{}, true
	}
	v, err := decodeOrdered(data)
	if err != nil {
		writeNangoError(w, http.StatusBadRequest, "invalid_json", "Invalid JSON body: "+err.Error())
		return nil, false
	}
	if _, isObj := v.(jsonObj); !isObj {
		if _, isArr := v.([]any); !isArr {
			writeNangoError(w, http.StatusBadRequest, "invalid_json", "Invalid JSON body: the top level must be an object or an array")
			return nil, false
		}
	}
	return v, true
}

// queryIssues validates a strict query: required string keys, "true" /
// "false" keys, and nothing else.
func queryIssues(q url.Values, required, bools []string) []zodIssue {
	z := &zod{}
	check := func(k string, isBool bool) {
		vals, ok := q[k]
		switch {
		case !ok:
			if !isBool {
				z.typeIssue("string", nil, false, []any{k})
			}
		case len(vals) > 1:
			z.add("invalid_type", "Invalid input: expected string, received array", []any{k})
		case isBool && vals[0] != "true" && vals[0] != "false":
			z.add("invalid_value", `Invalid option: expected one of "true"|"false"`, []any{k})
		case k == "provider_config_key":
			z.providerKey(vals[0], true, []any{k})
		}
	}
	for _, k := range required {
		check(k, false)
	}
	for _, k := range bools {
		check(k, true)
	}
	var keys []string
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	o := jsonObj{}
	for _, k := range keys {
		o = append(o, jsonKV{k, nil})
	}
	z.strict(o, append(slices.Clone(required), bools...), []any{})
	return z.issues
}

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
	p := r.URL.Path
	m := r.Method
	switch {
	case p == "/connect/session" && m == http.MethodGet:
		n.serveGetSession(w, r)
	case p == "/integrations" && m == http.MethodGet:
		n.serveListIntegrations(w, r)
	case p == "/fake/connect" && m == http.MethodPost:
		n.serveFakeConnect(w, r)
	case p == "/connect/sessions" && m == http.MethodPost:
		if n.secretAuth(w, r) {
			n.servePostSessions(w, r, false)
		}
	case p == "/connect/sessions/reconnect" && m == http.MethodPost:
		if n.secretAuth(w, r) {
			n.servePostSessions(w, r, true)
		}
	case strings.HasPrefix(p, "/connections/") && !strings.Contains(p[len("/connections/"):], "/"):
		id := p[len("/connections/"):]
		switch m {
		case http.MethodGet:
			if n.secretAuth(w, r) {
				n.serveGetConnection(w, r, id, false)
			}
		case http.MethodPatch:
			if n.secretAuth(w, r) {
				n.servePatchConnection(w, r, id)
			}
		case http.MethodDelete:
			if n.secretAuth(w, r) {
				n.serveDeleteConnection(w, r, id)
			}
		default:
			n.notFound(w)
		}
	case strings.HasPrefix(p, "/connection/") && !strings.Contains(p[len("/connection/"):], "/"):
		id := p[len("/connection/"):]
		switch m {
		case http.MethodGet:
			if n.secretAuth(w, r) {
				n.serveGetConnection(w, r, id, true)
			}
		case http.MethodDelete:
			if n.secretAuth(w, r) {
				n.serveDeleteConnection(w, r, id)
			}
		default:
			n.notFound(w)
		}
	case p == "/sync/trigger" && m == http.MethodPost:
		if n.secretAuth(w, r) {
			n.serveSyncTrigger(w, r)
		}
	case strings.HasPrefix(p, "/proxy/"):
		if n.secretAuth(w, r) {
			n.serveProxy(w, r)
		}
	default:
		n.notFound(w)
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
	if !secretEqual(tok, n.secretKey) {
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
	if issues := queryIssues(r.URL.Query(), nil, nil); len(issues) > 0 {
		writeNangoIssues(w, http.StatusBadRequest, "invalid_query_params", issues)
		return
	}
	body, ok := readNangoBody(w, r)
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
	z = &zod{}
	if len(allowed) > 0 {
		for i, k := range allowed {
			if _, ok := n.integrations[k]; !ok {
				z.add("custom", "Integration does not exist", []any{"allowed_integrations", i})
			}
		}
		if len(z.issues) > 0 {
			writeNangoIssues(w, http.StatusBadRequest, "invalid_body", z.issues)
			return
		}
	}
	for _, k := range defaultsKeys {
		if _, ok := n.integrations[k]; !ok {
			z.add("custom", "Integration does not exist", []any{"integrations_config_defaults", k})
		}
	}
	for _, k := range overrideKeys {
		if _, ok := n.integrations[k]; !ok {
			z.add("custom", "Integration does not exist", []any{"overrides", k})
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
	} else if !secretEqual(tok, n.secretKey) {
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

// serveGetConnection is GET /connections/{id} (and the deprecated
// /connection/{id}).
func (n *Nango) serveGetConnection(w http.ResponseWriter, r *http.Request, id string, deprecated bool) {
	q := r.URL.Query()
	bools := []string{"force_refresh", "refresh_token", "refresh_github_app_jwt_token"}
	if deprecated {
		bools = bools[:2]
	}
	if issues := queryIssues(q, []string{"provider_config_key"}, bools); len(issues) > 0 {
		writeNangoIssues(w, http.StatusBadRequest, "invalid_query_params", issues)
		return
	}
	if !checkConnectionID(w, id) {
		return
	}
	key := q.Get("provider_config_key")
	if _, ok := n.integrations[key]; !ok {
		writeNangoError(w, http.StatusBadRequest, "unknown_provider_config", "Provider does not exists")
		return
	}
	n.mu.Lock()
	c := n.liveConn(id, key)
	n.mu.Unlock()
	if c == nil {
		writeNangoError(w, http.StatusNotFound, "not_found", "Failed to find connection")
		return
	}
	if rerr := n.refreshIfNeeded(c, q.Get("force_refresh") == "true"); rerr != nil {
		writeNangoJSON(w, rerr.status, jsonObj{{"error", jsonObj{
			{"code", "invalid_credentials"},
			{"message", rerr.message},
			{"payload", jsonObj{{"connection", jsonObj{{"id", c.numID}, {"connection_id", c.id},
				{"provider_config_key", c.integration}, {"provider", c.provider}}}}},
		}}})
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	now := n.now()
	if q.Get("refresh_github_app_jwt_token") == "true" && c.installed {
		c.jwt = fakeAppJWT(c.appID, now)
	}
	c.lastFetched = now
	writeNangoJSON(w, http.StatusOK, n.connectionJSON(c, q.Get("refresh_token") == "true"))
}

// servePatchConnection is PATCH /connections/{id}.
func (n *Nango) servePatchConnection(w http.ResponseWriter, r *http.Request, id string) {
	q := r.URL.Query()
	if issues := queryIssues(q, []string{"provider_config_key"}, nil); len(issues) > 0 {
		writeNangoIssues(w, http.StatusBadRequest, "invalid_query_params", issues)
		return
	}
	body, ok := readNangoBody(w, r)
	if !ok {
		return
	}
	z := &zod{}
	var (
		endUser        *nangoEndUser
		tags           map[string]string
		override       string
		hasOverride    bool
		hasEU, hasTags bool
	)
	if o, ok := z.object(body, true, []any{}); ok {
		var ev, tv, wv any
		ev, hasEU = o.get("end_user")
		if hasEU {
			endUser = z.endUser(ev, true, []any{"end_user"})
		}
		tv, hasTags = o.get("tags")
		if hasTags {
			tags = z.tags(tv, true, []any{"tags"}, false)
		}
		wv, hasOverride = o.get("webhook_url_override")
		if hasOverride {
			override, _ = z.url(wv, true, []any{"webhook_url_override"}, true)
		}
		z.strict(o, []string{"end_user", "tags", "webhook_url_override"}, []any{})
	}
	if len(z.issues) > 0 {
		writeNangoIssues(w, http.StatusBadRequest, "invalid_body", z.issues)
		return
	}
	if !checkConnectionID(w, id) {
		return
	}
	key := q.Get("provider_config_key")
	if _, ok := n.integrations[key]; !ok {
		writeNangoError(w, http.StatusBadRequest, "unknown_provider_config", "Provider does not exists")
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	c := n.liveConn(id, key)
	if c == nil {
		writeNangoError(w, http.StatusNotFound, "not_found", "Failed to find connection")
		return
	}
	switch {
	case hasTags:
		c.tags = mergeTags(endUser.derivedTags(), tags)
	case hasEU:
		c.tags = mergeTags(c.tags, endUser.derivedTags())
	}
	if hasEU {
		c.endUser = endUser
	}
	if hasOverride {
		c.webhookOverride = override
	}
	c.updated = n.now()
	writeNangoJSON(w, http.StatusOK, jsonObj{{"success", true}})
}

// serveDeleteConnection is DELETE /connections/{id} (and
// /connection/{id}). No webhook is sent.
func (n *Nango) serveDeleteConnection(w http.ResponseWriter, r *http.Request, id string) {
	if !checkConnectionID(w, id) {
		return
	}
	q := r.URL.Query()
	if issues := queryIssues(q, []string{"provider_config_key"}, nil); len(issues) > 0 {
		writeNangoIssues(w, http.StatusBadRequest, "invalid_query_params", issues)
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	c := n.liveConn(id, q.Get("provider_config_key"))
	if c == nil {
		writeNangoError(w, http.StatusBadRequest, "unknown_connection", "")
		return
	}
	c.deleted = true
	delete(n.byConnID, id)
	writeNangoJSON(w, http.StatusOK, jsonObj{{"success", true}})
}

// serveSyncTrigger is POST /sync/trigger.
func (n *Nango) serveSyncTrigger(w http.ResponseWriter, r *http.Request) {
	if issues := queryIssues(r.URL.Query(), nil, nil); len(issues) > 0 {
		writeNangoIssues(w, http.StatusBadRequest, "invalid_query_params", issues)
		return
	}
	body, ok := readNangoBody(w, r)
	if !ok {
		return
	}
	z := &zod{}
	var syncs []string
	var key, connID string
	if o, ok := z.object(body, true, []any{}); ok {
		sv, sp := o.get("syncs")
		if arr, ok := sv.([]any); ok {
			for i, e := range arr {
				switch t := e.(type) {
				case string:
					syncs = append(syncs, t)
				case jsonObj:
					name, nok := t.get("name")
					variant, vok := t.get("variant")
					ns, nIsStr := name.(string)
					_, vIsStr := variant.(string)
					if nok && vok && nIsStr && vIsStr {
						syncs = append(syncs, ns)
						continue
					}
					z.add("invalid_union", "Each sync must be either a string or a { name: string, variant: string } object", []any{"syncs", i})
				default:
					z.add("invalid_union", "Each sync must be either a string or a { name: string, variant: string } object", []any{"syncs", i})
				}
			}
		} else {
			z.typeIssue("array", sv, sp, []any{"syncs"})
		}
		mv, mp := o.get("sync_mode")
		if mp {
			if s, _ := mv.(string); s != "incremental" && s != "full_refresh" && s != "full_refresh_and_clear_cache" {
				z.add("invalid_value", `Invalid option: expected one of "incremental"|"full_refresh"|"full_refresh_and_clear_cache"`, []any{"sync_mode"})
			}
		}
		fv, fp := o.get("full_resync")
		if fp {
			if _, ok := fv.(bool); !ok {
				z.typeIssue("boolean", fv, true, []any{"full_resync"})
			}
		}
		if cv, cp := o.get("connection_id"); cp {
			connID, _ = z.str(cv, true, []any{"connection_id"}, 0, 0, "")
		}
		if pv, pp := o.get("provider_config_key"); pp {
			key, _ = z.str(pv, true, []any{"provider_config_key"}, 0, 0, "")
		}
		if ov, op := o.get("opts"); op {
			if oo, ok := z.object(ov, true, []any{"opts"}); ok {
				for _, k := range []string{"reset", "emptyCache"} {
					if bv, bp := oo.get(k); bp {
						if _, ok := bv.(bool); !ok {
							z.typeIssue("boolean", bv, true, []any{"opts", k})
						}
					}
				}
				z.strict(oo, []string{"reset", "emptyCache"}, []any{"opts"})
			}
			if mp || fp {
				z.add("custom", "sync_mode and full_resync cannot be used with opts", []any{"opts"})
			}
		}
		z.strict(o, []string{"syncs", "sync_mode", "full_resync", "connection_id", "provider_config_key", "opts"}, []any{})
	}
	if len(z.issues) > 0 {
		writeNangoIssues(w, http.StatusBadRequest, "invalid_body", z.issues)
		return
	}
	if key == "" {
		key = r.Header.Get("Provider-Config-Key")
	}
	if connID == "" {
		connID = r.Header.Get("Connection-Id")
	}
	if key == "" {
		writeNangoError(w, http.StatusBadRequest, "missing_provider_config_key", "Missing provider_config_key. Provide it in the body or headers.")
		return
	}
	if _, ok := n.integrations[key]; !ok {
		writeNangoError(w, http.StatusBadRequest, "unknown_provider_config", "There is no Provider Configuration matching this key.")
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if connID != "" && n.liveConn(connID, key) == nil {
		writeNangoError(w, http.StatusNotFound, "unknown_connection", "No connection matching the provided params of 'connection_id' and 'provider_config_key'.")
		return
	}
	n.triggers = append(n.triggers, NangoSyncTrigger{Integration: key, ConnectionID: connID, Syncs: syncs})
	writeNangoJSON(w, http.StatusOK, jsonObj{{"success", true}})
}

// serveProxy is ANY /proxy/{path}: the request goes to the fake GitHub's
// REST API with the connection's credentials.
func (n *Nango) serveProxy(w http.ResponseWriter, r *http.Request) {
	z := &zod{}
	hv := func(name string) (string, bool) {
		vals, ok := r.Header[http.CanonicalHeaderKey(name)]
		if !ok {
			return "", false
		}
		return strings.Join(vals, ", "), true
	}
	pv, pp := hv("provider-config-key")
	var key string
	if pp {
		key, _ = z.providerKey(pv, true, []any{"provider-config-key"})
	} else {
		z.typeIssue("string", nil, false, []any{"provider-config-key"})
	}
	cv, cp := hv("connection-id")
	if !cp {
		z.typeIssue("string", nil, false, []any{"connection-id"})
	} else if id, ok := z.str(cv, true, []any{"connection-id"}, 0, 255, ""); ok && !nangoConnectionIDRE.MatchString(id) {
		z.add("invalid_format", "Invalid string: must match pattern", []any{"connection-id"})
	}
	if v, ok := hv("retries"); ok {
		if _, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil && strings.TrimSpace(v) != "" {
			z.add("invalid_type", "Invalid input: expected number, received NaN", []any{"retries"})
		}
	}
	baseOverride, _ := hv("base-url-override")
	if _, ok := hv("base-url-override"); ok {
		z.url(baseOverride, true, []any{"base-url-override"}, true)
	}
	if v, ok := hv("decompress"); ok && v != "true" && v != "false" {
		z.add("invalid_value", `Invalid option: expected one of "true"|"false"`, []any{"decompress"})
	}
	if v, ok := hv("retry-on"); ok && !nangoRetryOnRE.MatchString(v) {
		z.add("invalid_format", "Invalid string: must match pattern /^\\d+(,\\d+)*$/", []any{"retry-on"})
	}
	if len(z.issues) > 0 {
		writeNangoIssues(w, http.StatusBadRequest, "invalid_headers", z.issues)
		return
	}
	if _, ok := n.integrations[key]; !ok {
		writeNangoError(w, http.StatusNotFound, "unknown_provider_config",
			"Provider config not found for the given provider config key. Please make sure the provider config exists in the Nango dashboard.")
		return
	}
	n.mu.Lock()
	c := n.liveConn(cv, key)
	n.mu.Unlock()
	if c == nil {
		writeNangoError(w, http.StatusBadRequest, "server_error", "Failed to get connection")
		return
	}
	if rerr := n.refreshIfNeeded(c, false); rerr != nil {
		if rerr.code == "connection_refresh_backoff" {
			writeNangoError(w, rerr.status, rerr.code, rerr.message)
		} else {
			writeNangoError(w, rerr.status, "server_error", fmt.Sprintf("Failed to get connection credentials: '%s'", rerr.message))
		}
		return
	}
	n.mu.Lock()
	token := c.user.access
	if c.installed {
		token = c.inst.token
	}
	n.mu.Unlock()

	base := n.gh.URL + gitHubAPIPrefix
	if baseOverride != "" {
		base = strings.TrimSuffix(baseOverride, "/")
	}
	target := base + strings.TrimPrefix(r.URL.EscapedPath(), "/proxy")
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil {
		writeNangoError(w, http.StatusBadRequest, "invalid_body", "Could not read the request body")
		return
	}
	var reqBody io.Reader
	if len(data) > 0 {
		reqBody = bytes.NewReader(data)
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, target, reqBody)
	if err != nil {
		writeNangoError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	out.Header.Set("Accept", "application/json, text/plain, */*")
	out.Header.Set("User-Agent", NangoWebhookUserAgent)
	if len(data) > 0 && r.Header.Get("Content-Type") != "" {
		out.Header.Set("Content-Type", r.Header.Get("Content-Type"))
	}
	for k, vals := range r.Header {
		if name, ok := strings.CutPrefix(strings.ToLower(k), "nango-proxy-"); ok && name != "" {
			out.Header[http.CanonicalHeaderKey(name)] = slices.Clone(vals)
		}
	}
	out.Header.Set("Authorization", "Bearer "+token)
	resp, err := n.ghCli.Do(out)
	if err != nil {
		writeNangoJSON(w, http.StatusInternalServerError, jsonObj{{"message", err.Error()}, {"code", "ECONNREFUSED"},
			{"status", nil}, {"url", target}, {"method", strings.ToLower(r.Method)}})
		return
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(resp.Body)
	if err != nil {
		writeNangoError(w, http.StatusBadGateway, "server_error", "Failed to read the upstream response")
		return
	}
	h := w.Header()
	switch {
	case resp.StatusCode == http.StatusNoContent:
		w.WriteHeader(http.StatusNoContent)
		return
	case resp.StatusCode < 200 || resp.StatusCode >= 300:
		// An upstream error goes through axios' error path, which copies
		// every upstream header.
		for k, vals := range resp.Header {
			if !slices.Contains(hopHeaders, k) {
				h[k] = slices.Clone(vals)
			}
		}
	default:
		for _, k := range proxyResponseHeaders {
			if v := resp.Header.Get(k); v != "" {
				h.Set(k, v)
			}
		}
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", "application/octet-stream")
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(respBody)
}
