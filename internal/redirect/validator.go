package redirect

import (
	"fmt"
	"strings"
)

// Validator decides where a browser may be sent after login or logout.
// It is immutable after New and safe for concurrent use.
type Validator struct {
	// exact holds hosts that match only themselves.
	exact map[string]bool
	// suffixes holds ".example.com" entries that match any subdomain.
	suffixes []string
}

// New returns a validator that, besides the request's own origin, accepts
// absolute URLs on the given hosts: "app.example.com" matches that host
// exactly; ".example.com" matches any subdomain of example.com (not
// example.com itself). Hosts are compared lowercase, without a trailing dot.
// Bad entries (empty, containing '/', ':', '@', whitespace or '*', or not a
// syntactically valid ASCII host name) give an error that names the entry.
// Allowed hosts accept any port; the request's own host accepts only its
// own scheme and port.
func New(allowedHosts []string) (*Validator, error) {
	v := &Validator{exact: make(map[string]bool)}
	for _, entry := range allowedHosts {
		host, suffix, err := parseAllowedHost(entry)
		if err != nil {
			return nil, fmt.Errorf("redirect: allowed host %q: %w", entry, err)
		}
		if suffix {
			v.suffixes = append(v.suffixes, host)
		} else {
			v.exact[host] = true
		}
	}
	return v, nil
}

// parseAllowedHost checks one allow-list entry and returns it normalised,
// with suffix reporting whether it is a ".example.com" subdomain entry (the
// returned host then keeps its leading dot).
func parseAllowedHost(entry string) (host string, suffix bool, err error) {
	switch {
	case entry == "":
		return "", false, fmt.Errorf("empty entry; use a host name such as app.example.com or .example.com")
	case strings.Contains(entry, "*"):
		return "", false, fmt.Errorf("wildcards are not supported; write .example.com to allow every subdomain of example.com")
	case strings.ContainsAny(entry, "/:@\\?#%"):
		return "", false, fmt.Errorf("must be a bare host name without scheme, port, path or userinfo (such as app.example.com or .example.com)")
	}
	for _, r := range entry {
		if r <= ' ' || r == 0x7f || isSpaceOrControl(r) {
			return "", false, fmt.Errorf("contains whitespace or a control character")
		}
	}
	host = strings.ToLower(entry)
	if strings.HasPrefix(host, ".") {
		suffix = true
		host = host[1:]
	}
	host = strings.TrimSuffix(host, ".")
	if !validHostName(host) {
		return "", false, fmt.Errorf("not a valid ASCII host name (letters, digits, '-' and '_' in dot-separated labels; use punycode for IDNs)")
	}
	if suffix {
		host = "." + host
	}
	return host, suffix, nil
}

// allowed reports whether the normalised host is on the allow list.
func (v *Validator) allowed(host string) bool {
	if v == nil || host == "" {
		return false
	}
	if v.exact[host] {
		return true
	}
	for _, s := range v.suffixes {
		if len(host) > len(s) && strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}
