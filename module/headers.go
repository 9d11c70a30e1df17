package module

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/headers"
)

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

func (h *Handler) headerNames() (headers.Names, error) {
	n := headers.Defaults()
	if h.PassAccessToken {
		n.AccessToken = headers.DefaultAccessToken
	}
	cfg := h.Headers
	for k := range cfg {
		if !slices.ContainsFunc(headers.Renamables(), func(r headers.Renamable) bool { return r.Key == k }) {
			return n, fmt.Errorf("gatehouse: headers %s: unknown header; the headers are %s", k, strings.Join(renamableKeys(), ", "))
		}
	}
	if v := cfg["access_token"]; v != "" && !strings.EqualFold(v, "off") && !h.PassAccessToken {
		return n, errors.New("gatehouse: headers access_token names the access token header, which is only sent with pass_access_token; add pass_access_token or remove it")
	}
	used := map[string]string{} // lower-case header -> key
	for _, r := range headers.Renamables() {
		v := cfg[r.Key]
		if reservedName, ok := headers.Reserved(v); ok {
			return n, fmt.Errorf("gatehouse: headers %s cannot be %s: Gatehouse replaces client copies of its headers, which would break the request; pick another name such as X-Remote-User", r.Key, reservedName)
		}
		switch {
		case v == "":
		case strings.EqualFold(v, "off"):
			v = "off"
			n.Rename(r.Key, "")
		case validToken(v) && !strings.ContainsAny(v, "_."):
			n.Rename(r.Key, http.CanonicalHeaderKey(v))
		default:
			return n, fmt.Errorf("gatehouse: headers %s: %q is not a usable header name (letters, digits and '-'; or off)", r.Key, v)
		}
		if v == "off" || (r.Key == "access_token" && !h.PassAccessToken) {
			continue
		}
		name := r.Default
		if v != "" {
			name = v
		}
		if prev, clash := used[strings.ToLower(name)]; clash {
			return n, fmt.Errorf("gatehouse: headers %s and %s would both be sent as %s; give each its own name or turn one off", prev, r.Key, name)
		}
		used[strings.ToLower(name)] = r.Key
	}
	return n, nil
}

func renamableKeys() []string {
	var keys []string
	for _, r := range headers.Renamables() {
		keys = append(keys, r.Key)
	}
	return keys
}
