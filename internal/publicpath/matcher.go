// Package publicpath decides which request paths skip authentication.
//
// Patterns are matched only against canonical paths. A request path that a
// server, proxy or upstream application could read in more than one way
// (dot segments, doubled slashes, backslashes, encoded slashes, control
// characters) is never public, so a skip-auth rule cannot be stretched to
// cover a protected path (security.md row 4: oauth2-proxy GHSA-7rh7-c77v-6434,
// Pomerium CVE-2023-33189, heimdall GHSA-3q34-rx83-r6mq).
package publicpath

import (
	"fmt"
	"net/url"
	"strings"
)

// Matcher matches request paths against public path patterns. It is
// immutable after New and safe for concurrent use; a nil Matcher has no
// patterns and matches nothing.
type Matcher struct {
	// exact holds "/exact" patterns.
	exact map[string]bool
	// prefixes holds "/prefix/*" patterns as "/prefix/".
	prefixes []string
}

// allowedForms describes valid patterns for error messages.
const allowedForms = `patterns are "/exact" (that path only) or "/prefix/*" (/prefix and everything below it), in canonical form`

// New compiles patterns: "/exact" matches that path only; "/prefix/*"
// matches "/prefix/" and everything below it, and also "/prefix" itself;
// "*" alone is rejected; every pattern must start with "/", contain no
// "..", "//", "\\", "%", NUL or other control character, white space, or a
// "*" anywhere but at the end after a "/", and be otherwise canonical (no
// "." segments). Errors name the bad pattern and say what is allowed.
func New(patterns []string) (*Matcher, error) {
	m := &Matcher{exact: make(map[string]bool)}
	for _, p := range patterns {
		if err := checkPattern(p); err != nil {
			return nil, fmt.Errorf("public path %q: %w; %s", p, err, allowedForms)
		}
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			m.prefixes = append(m.prefixes, prefix)
		} else {
			m.exact[p] = true
		}
	}
	return m, nil
}

// checkPattern returns why p is not a valid pattern, or nil.
func checkPattern(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("empty pattern")
	case p == "*":
		return fmt.Errorf(`"*" alone would make every path public`)
	case p[0] != '/':
		return fmt.Errorf(`must start with "/"`)
	case strings.Contains(p, ".."):
		return fmt.Errorf(`must not contain ".."`)
	case strings.Contains(p, "//"):
		return fmt.Errorf(`must not contain "//"`)
	case strings.Contains(p, `\`):
		return fmt.Errorf(`must not contain a backslash`)
	case strings.Contains(p, "%"):
		return fmt.Errorf(`must not contain "%%" (write the decoded path)`)
	case strings.IndexFunc(p, isControlOrSpace) >= 0:
		return fmt.Errorf("must not contain NUL, control characters or white space")
	}
	body := p
	if strings.HasSuffix(p, "/*") {
		body = strings.TrimSuffix(p, "*")
	}
	if strings.Contains(body, "*") {
		return fmt.Errorf(`"*" is only allowed as the last character, right after "/"`)
	}
	if !canonical(body) {
		return fmt.Errorf(`must be a clean path (no "." segments)`)
	}
	return nil
}

// Empty reports whether there are no patterns.
func (m *Matcher) Empty() bool {
	return m == nil || len(m.exact) == 0 && len(m.prefixes) == 0
}

// Match reports whether the request URL is public. u is the request's
// *url.URL as Go's server parsed it (u.Path decoded, u.RawPath possibly
// set). Only canonical paths can match: see publicPath. The query and
// fragment never matter. Matching is case-sensitive.
func (m *Matcher) Match(u *url.URL) bool {
	if m.Empty() || u == nil || !publicPath(u) {
		return false
	}
	p := u.Path
	if m.exact[p] {
		return true
	}
	for _, prefix := range m.prefixes {
		// "/prefix/*" covers "/prefix/..." and "/prefix" itself.
		if strings.HasPrefix(p, prefix) || p == prefix[:len(prefix)-1] {
			return true
		}
	}
	return false
}
