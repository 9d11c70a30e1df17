package fakenango

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport/fakegithub"
)

// findConn returns the live connection id of integration key, or answers
// why there is none: a malformed id (400), an unknown integration (400
// unknown_provider_config) or no such connection (404 not_found). n.mu is
// held.
func (n *Nango) findConn(w http.ResponseWriter, id, key string) *nangoConn {
	if !checkConnectionID(w, id) {
		return nil
	}
	if _, ok := n.integrations[key]; !ok {
		writeNangoError(w, http.StatusBadRequest, "unknown_provider_config", "Provider does not exists")
		return nil
	}
	c := n.liveConn(id, key)
	if c == nil {
		writeNangoError(w, http.StatusNotFound, "not_found", "Failed to find connection")
	}
	return c
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
	n.mu.Lock()
	c := n.findConn(w, id, q.Get("provider_config_key"))
	n.mu.Unlock()
	if c == nil {
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
	n.mu.Lock()
	defer n.mu.Unlock()
	c := n.findConn(w, id, q.Get("provider_config_key"))
	if c == nil {
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
	body, ok := readQuerylessBody(w, r)
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

	base := n.gh.URL + fakegithub.APIPrefix
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
