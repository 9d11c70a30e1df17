package publicpath

import (
	"net/url"
	"path"
	"strings"
	"testing"
)

// FuzzMatch checks that a path Match accepts is canonical, free of
// backslashes, control characters and encoded separators, and lies under
// one of the configured patterns.
func FuzzMatch(f *testing.F) {
	for _, seed := range []string{
		"/public/", "/public/app.css", "/public", "/healthz", "/admin", "/public/../admin",
		"/public/%2e%2e/admin", "/public%2F..%2Fadmin", "/public/..%5Cadmin", "//admin", "/ADMIN",
		"/admin;x", "/admin%00", "/admin?x=/public/", "/public/..;/admin", "/public/./x",
		"/static/a/b?c#d", "*", "http://h/public/x",
	} {
		f.Add(seed)
	}
	patterns := []string{"/public/*", "/healthz", "/static/*", "/docs/"}
	m := mustMatcher(f, patterns...)
	f.Fuzz(func(t *testing.T, target string) {
		u, err := url.ParseRequestURI(target)
		if err != nil || !m.Match(u) {
			return
		}
		p := u.Path
		if c := path.Clean(p); p != c && p != c+"/" {
			t.Fatalf("Match(%q) = true for non-canonical path %q", target, p)
		}
		if strings.ContainsRune(p, '\\') || strings.ContainsFunc(p, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			t.Fatalf("Match(%q) = true for path %q with a backslash or control character", target, p)
		}
		if encodedSeparator(u.EscapedPath()) || encodedSeparator(u.RawPath) {
			t.Fatalf("Match(%q) = true with an encoded separator in %q", target, u.EscapedPath())
		}
		for seg := range strings.SplitSeq(p, "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("Match(%q) = true for path %q with a dot segment", target, p)
			}
		}
		ok := false
		for _, pat := range patterns {
			if prefix, isPrefix := strings.CutSuffix(pat, "*"); isPrefix {
				ok = ok || strings.HasPrefix(p, prefix) || p == strings.TrimSuffix(prefix, "/")
			} else {
				ok = ok || p == pat
			}
		}
		if !ok {
			t.Fatalf("Match(%q) = true for path %q outside %q", target, p, patterns)
		}
	})
}
