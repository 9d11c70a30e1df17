package redirect

import (
	"net/netip"
	"strconv"
	"strings"
	"unicode"
)

// endpoint is a normalised scheme, host and port.
type endpoint struct {
	scheme string // "http" or "https"
	host   string // lowercase, no trailing dot, no IPv6 brackets
	port   int    // effective port: the scheme's default when none is given
}

// defaultPort returns the port a browser uses for scheme when the URL names
// none, or 0 for schemes other than http and https.
func defaultPort(scheme string) int {
	switch scheme {
	case "http":
		return 80
	case "https":
		return 443
	}
	return 0
}

// newEndpoint normalises scheme, host (as in url.URL.Hostname) and port (as
// in url.URL.Port). ok is false when any part is unusable: a scheme other
// than http(s), a host that is not an ASCII host name or IP literal, or a
// port outside 1-65535.
func newEndpoint(scheme, host, port string) (e endpoint, ok bool) {
	scheme = strings.ToLower(scheme)
	p := defaultPort(scheme)
	if p == 0 {
		return endpoint{}, false
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return endpoint{}, false
		}
		p = n
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if !validHostName(host) && !validIPv6(host) {
		return endpoint{}, false
	}
	return endpoint{scheme: scheme, host: host, port: p}, true
}

// String serialises the endpoint as scheme://host[:port], leaving out the
// scheme's default port.
func (e endpoint) String() string {
	var b strings.Builder
	b.WriteString(e.scheme)
	b.WriteString("://")
	if strings.Contains(e.host, ":") {
		b.WriteString("[" + e.host + "]")
	} else {
		b.WriteString(e.host)
	}
	if e.port != defaultPort(e.scheme) {
		b.WriteString(":" + strconv.Itoa(e.port))
	}
	return b.String()
}

// validHostName reports whether h is a lowercase ASCII host name: dot-
// separated labels of 1 to 63 letters, digits, '-' or '_', none starting or
// ending with '-'. IPv4 literals pass too. Anything a browser might map to
// another name (IDN characters, full-width or ideographic dots, percent
// escapes) fails.
func validHostName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// validIPv6 reports whether h is an IPv6 literal without a zone.
func validIPv6(h string) bool {
	a, err := netip.ParseAddr(h)
	return err == nil && a.Is6() && a.Zone() == ""
}

// isSpaceOrControl reports whether r is a control character (C0, DEL or
// C1) or Unicode white space.
func isSpaceOrControl(r rune) bool {
	return unicode.IsControl(r) || unicode.IsSpace(r)
}
