package fakenango

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
)

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

// writeNangoJSON sends v as JSON encoded as Nango's JavaScript does.
var writeNangoJSON = authserver.JSON{Marshal: jsMarshal}.Write

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
