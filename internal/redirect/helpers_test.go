package redirect

import (
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/testcheck"
)

// mustURL parses s or fails the test.
func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	return testcheck.Must(t, url.Parse, s)
}

// mustNew builds a validator or fails the test.
func mustNew(t testing.TB, hosts ...string) *Validator {
	t.Helper()
	return testcheck.Must(t, New, hosts)
}

// checkSafe fails the test unless got, returned by v.Target(raw, origin),
// keeps the browser on origin's host or on an allowed host. Besides
// resolving got with Go's resolver, it checks the properties a browser's
// (WHATWG) parser relies on: no backslash, white space or control
// character anywhere, a relative result that starts with exactly one "/",
// and an absolute result whose authority is a plain host name.
func checkSafe(t testing.TB, v *Validator, origin *url.URL, raw, got string) {
	t.Helper()
	if got == Default {
		return
	}
	if len(got) > MaxLen {
		t.Fatalf("Target(%q) = %d bytes, over MaxLen", raw, len(got))
	}
	if !cleanInput(got) {
		t.Fatalf("Target(%q) = %q: contains a backslash, white space or control character", raw, got)
	}
	ref, err := url.Parse(got)
	if err != nil {
		t.Fatalf("Target(%q) = %q, which does not parse: %v", raw, got, err)
	}
	resolved := origin.ResolveReference(ref)
	host := strings.TrimSuffix(strings.ToLower(resolved.Hostname()), ".")
	self := strings.ToLower(origin.Hostname())
	switch {
	case strings.HasPrefix(got, "/"):
		if strings.HasPrefix(got, "//") {
			t.Fatalf("Target(%q) = %q: protocol-relative", raw, got)
		}
		if ref.Scheme != "" || ref.Host != "" || ref.User != nil || resolved.Host != origin.Host || resolved.Scheme != origin.Scheme {
			t.Fatalf("Target(%q) = %q resolves to %q, off origin %q", raw, got, resolved, origin)
		}
	case strings.HasPrefix(got, "https://") || strings.HasPrefix(got, "http://"):
		if ref.User != nil {
			t.Fatalf("Target(%q) = %q carries userinfo", raw, got)
		}
		authority := strings.SplitN(strings.SplitN(got, "://", 2)[1], "/", 2)[0]
		authority = strings.SplitN(strings.SplitN(authority, "?", 2)[0], "#", 2)[0]
		if strings.ContainsAny(authority, "@%") || strings.ToLower(authority) != authority {
			t.Fatalf("Target(%q) = %q: authority %q is not canonical", raw, got, authority)
		}
		if host == self {
			if resolved.Scheme != origin.Scheme || effectivePort(resolved) != effectivePort(origin) {
				if !v.allowed(host) {
					t.Fatalf("Target(%q) = %q: same host but scheme or port differ from %q", raw, got, origin)
				}
			}
		} else if !v.allowed(host) {
			t.Fatalf("Target(%q) = %q resolves to host %q, neither %q nor allowed", raw, got, host, self)
		}
		if origin.Scheme == "https" && resolved.Scheme != "https" {
			t.Fatalf("Target(%q) = %q downgrades %q to %s", raw, got, origin, resolved.Scheme)
		}
	default:
		t.Fatalf("Target(%q) = %q: neither \"/\"-relative nor http(s)", raw, got)
	}
	if again := v.Target(got, origin); again != got {
		t.Fatalf("Target(%q) = %q, but validating that again gives %q", raw, got, again)
	}
}

// effectivePort returns u's port, or the scheme's default.
func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}
