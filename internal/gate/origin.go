package gate

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// origin returns the public origin of the site the request arrived on:
// the configured external URL, or the request's host when it is one of
// the site's configured host names. It never trusts a host the site was
// not configured for, so a client cannot choose the redirect_uri.
func (g *Gate) origin(r *http.Request) (*url.URL, bool) {
	if g.ExternalURL != nil {
		return g.ExternalURL, true
	}
	if g.SiteHosts == nil {
		return nil, false
	}
	name := hostname(strings.ToLower(r.Host))
	for _, pattern := range g.SiteHosts(r) {
		if hostMatches(strings.ToLower(pattern), name) {
			scheme := "http"
			if r.TLS != nil {
				scheme = "https"
			}
			return &url.URL{Scheme: scheme, Host: withPort(name, scheme, localPort(r))}, true
		}
	}
	return nil, false
}

// localPort is the port the request's connection arrived on: the port the
// site listens on, which the client cannot choose (unlike the port in its
// Host header). "" when unknown.
func localPort(r *http.Request) string {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, port, err := net.SplitHostPort(a.String()); err == nil {
			return port
		}
	}
	return ""
}

// withPort joins a host name and a port, leaving out the scheme's
// default port.
func withPort(name, scheme, port string) string {
	if port == "" || scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		if strings.Contains(name, ":") {
			return "[" + name + "]"
		}
		return name
	}
	return net.JoinHostPort(name, port)
}

// hostname strips the port from a Host header value.
func hostname(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return strings.Trim(h, "[]")
	}
	return strings.Trim(host, "[]")
}

// hostMatches matches name against a Caddy host pattern, where "*" stands
// for exactly one label ("*.example.com").
func hostMatches(pattern, name string) bool {
	if pattern == name {
		return true
	}
	if !strings.Contains(pattern, "*") {
		return false
	}
	pl, nl := strings.Split(pattern, "."), strings.Split(name, ".")
	if len(pl) != len(nl) {
		return false
	}
	for i := range pl {
		if pl[i] != "*" && pl[i] != nl[i] {
			return false
		}
	}
	return true
}

// sessionHostOK reports whether a session issued on issuedHost may be used
// on the request's host: the same host, or any host within the cookie
// domain when one is configured.
func (g *Gate) sessionHostOK(r *http.Request, issuedHost string) bool {
	host := strings.ToLower(r.Host)
	if g.Cookie.Domain == "" {
		return host == issuedHost
	}
	d := strings.ToLower(strings.TrimPrefix(g.Cookie.Domain, "."))
	n := hostname(host)
	return n == d || strings.HasSuffix(n, "."+d)
}
