package caddyfile

import (
	"errors"
	"net"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/cfparse"
	"github.com/gatehouse-auth/gatehouse/internal/keys"
	"github.com/gatehouse-auth/gatehouse/internal/publicpath"
	"github.com/gatehouse-auth/gatehouse/internal/redirect"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// reason strips the package prefix from a validator's wrapped error.
func reason(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}

// isOrigin reports whether v is scheme://host[:port] with at most a "/".
func isOrigin(v string) bool {
	u, err := url.Parse(v)
	return err == nil && cfparse.IsHTTPURL(v) && (u.Path == "" || u.Path == "/") &&
		u.RawQuery == "" && !u.ForceQuery
}

// isHostPort reports whether v is host:port with a numeric port.
func isHostPort(v string) bool {
	host, port, err := net.SplitHostPort(v)
	if err != nil || host == "" {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n > 0 && n < 65536
}

// isToken reports whether v is an RFC 9110 token (header and cookie names).
func isToken(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			continue
		}
		if strings.IndexByte("!#$%&'*+-.^_`|~", c) < 0 {
			return false
		}
	}
	return true
}

// checkPrefix checks the prefix path.
func checkPrefix(c *cfparse.Cursor, v string) error {
	if !strings.HasPrefix(v, "/") {
		return c.Errorf("prefix must be a path starting with /, e.g. prefix /.gatehouse; got %q", v)
	}
	if v == "/" || path.Clean(v) != v || strings.ContainsAny(v, "*?#{}% ") {
		return c.Errorf("prefix %q must be a clean path below /, such as /.gatehouse or /auth "+
			"(no trailing slash, wildcard, query, //, . or .. segments)", v)
	}
	return nil
}

// checkPublicPath checks one public path.
func checkPublicPath(c *cfparse.Cursor, p string) error {
	if !strings.HasPrefix(p, "/") {
		return c.Errorf("public path %q must start with /, e.g. public /healthz /static/*", p)
	}
	if i := strings.IndexByte(p, '*'); i >= 0 && (i != len(p)-1 || p[i-1] != '/') {
		return c.Errorf("public path %q: * is only allowed at the end, right after a /, "+
			"as in /static/* (which matches /static and everything below it)", p)
	}
	if p == "/*" {
		return c.Errorf("public /* would let every request through without a login; " +
			"list the public paths instead, or remove gatehouse from this site")
	}
	// The module's own rules (canonical form, no .., //, %...), so that what
	// adapts also provisions.
	if _, err := publicpath.New([]string{p}); err != nil {
		return c.Errorf("%v", err)
	}
	return nil
}

// checkRedirectDomain checks one redirect_domains entry.
func checkRedirectDomain(c *cfparse.Cursor, h string) error {
	if cfparse.HasPlaceholder(h) {
		return nil
	}
	if strings.HasPrefix(h, "*.") {
		return c.Errorf("redirect_domains %q: write .%s to allow every subdomain", h, h[2:])
	}
	if strings.ContainsAny(h, "/:@*? ") {
		return c.Errorf("redirect_domains %q must be a host name such as app.example.com, "+
			"or .example.com for any subdomain (no scheme, port or path)", h)
	}
	if _, err := redirect.New([]string{h}); err != nil {
		return c.Errorf("redirect_domains %q: %v", h, reason(err))
	}
	return nil
}

// checkRedisURL checks a Redis URL unless it holds a placeholder, and
// warns when the URL carries a password written literally.
func checkRedisURL(c *cfparse.Cursor, what, v string) error {
	if !cfparse.HasPlaceholder(v) {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix") {
			return c.Errorf("%s: %q is not a Redis URL; use redis://host:6379/0, rediss:// for TLS or unix:///path; "+
				"for host:port write store redis { address <host:port> }", what, v)
		}
		// The store's own parser (port, database number...), so that what
		// adapts also provisions. Its messages never show the password.
		if err := (store.RedisOptions{URL: v}).Validate(); err != nil {
			return c.Errorf("%s: %s", what, strings.TrimPrefix(err.Error(), "store: redis: "))
		}
	}
	cfparse.WarnLiteralSecret(c.Tok, what, urlPassword(v), "{env.REDIS_URL}", true)
	return nil
}

// checkSecret checks the length of a secret written literally (or with
// {$VAR}, which is substituted before the adapter runs). One with a
// placeholder is checked at provision, once it is resolved.
func checkSecret(c *cfparse.Cursor, v string) error {
	if cfparse.HasPlaceholder(v) || len(v) >= keys.MinSecretLen {
		return nil
	}
	return c.Errorf("%s is %d bytes; it must be at least %d: generate one with openssl rand -base64 48 "+
		"and pass it as secret {env.GATEHOUSE_SECRET}", c.What(), len(v), keys.MinSecretLen)
}

// urlPassword returns the password in the user info of a URL such as
// redis://user:password@host:6379/0, or "" without one. It works on the
// text, so a URL holding placeholders (which may not parse) is handled
// too.
func urlPassword(v string) string {
	_, rest, ok := strings.Cut(v, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return ""
	}
	_, password, _ := strings.Cut(rest[:at], ":")
	return password
}
