package module

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/headers"
)

func headerErrorf(keys []string, format string, args ...any) *ConfigError {
	return configErrorf("headers", keys, format, args...)
}

// CheckHeaderName checks v, the name given to the header key, and returns
// the header it is sent as: its canonical form, or "" for off.
func CheckHeaderName(key, v string) (string, error) {
	if strings.EqualFold(v, "off") {
		return "", nil
	}
	if r, ok := headers.Reserved(v); ok {
		return "", headerErrorf([]string{key}, "headers %s cannot be %s: Gatehouse replaces client copies of its headers, "+
			"which would break the request; pick another name such as X-Remote-User", key, r)
	}
	if !validToken(v) || strings.ContainsAny(v, "_.") {
		return "", headerErrorf([]string{key}, "headers %s: %q is not a usable header name; use letters, digits and - "+
			"(proxies drop names with _ or .), e.g. %s X-Remote-User, or %s off", key, v, key, key)
	}
	return http.CanonicalHeaderKey(v), nil
}

// validToken reports whether s is an RFC 9110 token.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}

// Names checks the configuration and returns the names the headers are
// sent under: every key is known, each name usable, access_token renamed
// only with passAccessToken (the header is sent only then), and no two
// headers sent under one name, counting the defaults of those left
// alone.
func (cfg HeadersConfig) Names(passAccessToken bool) (headers.Names, error) {
	n := headers.Defaults()
	if passAccessToken {
		n.AccessToken = headers.DefaultAccessToken
	}
	for k := range cfg {
		if !slices.ContainsFunc(headers.Renamables(), func(r headers.Renamable) bool { return r.Key == k }) {
			return n, headerErrorf([]string{k}, "headers %s: unknown header; the headers are %s", k, strings.Join(renamableKeys(), ", "))
		}
	}
	if v := cfg["access_token"]; v != "" && !strings.EqualFold(v, "off") && !passAccessToken {
		return n, headerErrorf(nil, "headers access_token names the header of the access token, which is only sent "+
			"with pass_access_token; add pass_access_token or remove access_token")
	}
	used := map[string]string{} // lower-case header -> key
	for _, r := range headers.Renamables() {
		name := r.Default
		if v := cfg[r.Key]; v != "" {
			var err error
			if name, err = CheckHeaderName(r.Key, v); err != nil {
				return n, err
			}
			n.Rename(r.Key, name)
		}
		if name == "" || (r.Key == "access_token" && !passAccessToken) {
			continue
		}
		if prev, clash := used[strings.ToLower(name)]; clash {
			return n, headerErrorf([]string{prev, r.Key}, "headers %s and %s would both be sent as %s; "+
				"give each its own name or turn one off", prev, r.Key, name)
		}
		used[strings.ToLower(name)] = r.Key
	}
	return n, nil
}

func (h *Handler) headerNames() (headers.Names, error) {
	return h.Headers.Names(h.PassAccessToken)
}

func renamableKeys() []string {
	var keys []string
	for _, r := range headers.Renamables() {
		keys = append(keys, r.Key)
	}
	return keys
}
