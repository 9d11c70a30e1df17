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

// The fake checks request bodies and queries the way Nango's zod schemas
// do, as far as a client can tell: the status, the error code, and each
// issue's code, path and, where tests read it, message (zod v4 wording).
// Checks Gatehouse cannot trip (deep shapes of integration overrides, the
// end_user_email tag) are left out.

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
	s, ok := z.str(v, present, path, 0, 0, "")
	if u, err := url.Parse(s); ok && !(s == "" && emptyOK) && (err != nil || u.Scheme == "" || u.Host == "") {
		z.add("invalid_format", "Invalid URL", path)
		return "", false
	}
	return s, ok
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

// tags checks connectionTagsSchema (at most 10 keys; values 1..255
// characters; keys lower-cased, distinct once lower-cased) or, when
// endUser, the end user's tags (values may be empty, keys kept).
func (z *zod) tags(v any, present bool, path []any, endUser bool) map[string]string {
	o, ok := v.(jsonObj)
	if !ok {
		z.typeIssue("record", v, present, path)
		return nil
	}
	n := len(z.issues)
	minLen, maxMsg := 1, "Tag values must be at most 255 characters"
	if endUser {
		minLen, maxMsg = 0, ""
	}
	out := map[string]string{}
	for _, kv := range o {
		if jsLen(kv.K) > 64 || !nangoTagKeyRE.MatchString(kv.K) {
			z.add("invalid_key", "Invalid key in record", at(path, kv.K))
		} else if s, ok := z.str(kv.V, true, at(path, kv.K), minLen, 255, maxMsg); ok {
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
	norm := map[string]string{}
	for _, kv := range o {
		lower := strings.ToLower(kv.K)
		if _, dup := norm[lower]; dup {
			z.add("custom", fmt.Sprintf("Duplicate tag key after case normalization: %q", lower), path)
		}
		norm[lower] = out[kv.K]
	}
	switch {
	case len(z.issues) > n:
		return nil
	case endUser:
		return out
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

// integrationRecord checks integrations_config_defaults or overrides (a
// record by integration key of objects) and returns their keys and whether
// an override sets docs_connect.
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
		if val, ok := z.object(kv.V, true, at(path, kv.K)); ok && overrides {
			dv, _ := val.get("docs_connect")
			docsConnect = docsConnect || dv != nil && dv != ""
		}
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
	return v, true
}

// readQuerylessBody is readNangoBody for a route that takes no query: one
// gets 400 invalid_query_params.
func readQuerylessBody(w http.ResponseWriter, r *http.Request) (any, bool) {
	if issues := queryIssues(r.URL.Query(), nil, nil); len(issues) > 0 {
		writeNangoIssues(w, http.StatusBadRequest, "invalid_query_params", issues)
		return nil, false
	}
	return readNangoBody(w, r)
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
