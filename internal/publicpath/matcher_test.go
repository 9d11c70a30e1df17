package publicpath

import (
	"net/url"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/testcheck"
)

// mustMatcher compiles patterns or fails the test.
func mustMatcher(t testing.TB, patterns ...string) *Matcher {
	t.Helper()
	return testcheck.Must(t, New, patterns)
}

// requestURL parses a request target the way net/http's server does.
func requestURL(t testing.TB, target string) *url.URL {
	t.Helper()
	return testcheck.Must(t, url.ParseRequestURI, target)
}

func TestNew(t *testing.T) {
	testcheck.NewCases(t, New, []testcheck.NewCase[[]string]{
		{Name: "none"},
		{Name: "exact", In: []string{"/healthz"}},
		{Name: "exact with trailing slash", In: []string{"/docs/"}},
		{Name: "prefix", In: []string{"/public/*"}},
		{Name: "root prefix", In: []string{"/*"}},
		{Name: "root exact", In: []string{"/"}},
		{Name: "semicolon", In: []string{"/a;b"}},
		{Name: "several", In: []string{"/healthz", "/static/*", "/favicon.ico"}},
		{Name: "empty", In: []string{""}, WantErr: `public path "": empty pattern`},
		{Name: "star alone", In: []string{"*"}, WantErr: `public path "*": "*" alone`},
		{Name: "relative", In: []string{"public/*"}, WantErr: `public path "public/*": must start with "/"`},
		{Name: "dot dot", In: []string{"/public/../admin"}, WantErr: `must not contain ".."`},
		{Name: "dot dot suffix", In: []string{"/public/..;/*"}, WantErr: `must not contain ".."`},
		{Name: "double slash", In: []string{"//public/*"}, WantErr: `must not contain "//"`},
		{Name: "backslash", In: []string{`/public\*`}, WantErr: `backslash`},
		{Name: "percent", In: []string{"/public%2F*"}, WantErr: `must not contain "%"`},
		{Name: "NUL", In: []string{"/public\x00"}, WantErr: `NUL`},
		{Name: "tab", In: []string{"/pub\tlic"}, WantErr: `control characters or white space`},
		{Name: "space", In: []string{"/pub lic"}, WantErr: `white space`},
		{Name: "star mid", In: []string{"/pub*/x"}, WantErr: `"*" is only allowed as the last character`},
		{Name: "star without slash", In: []string{"/public*"}, WantErr: `"*" is only allowed as the last character`},
		{Name: "double star", In: []string{"/public/**"}, WantErr: `"*" is only allowed`},
		{Name: "dot segment", In: []string{"/public/./x"}, WantErr: `must be a clean path`},
		{Name: "trailing dot segment", In: []string{"/public/."}, WantErr: `must be a clean path`},
		{Name: "message says what is allowed", In: []string{"x"}, WantErr: `patterns are "/exact"`},
		{Name: "second pattern named", In: []string{"/ok", "/bad/*/x"}, WantErr: `public path "/bad/*/x"`},
	})
}

// TestMatch_PathNormalizationMatrix is the security.md row 4 matrix:
// public "/public/*", protected "/admin".
func TestMatch_PathNormalizationMatrix(t *testing.T) {
	m := mustMatcher(t, "/public/*", "/healthz")
	tests := []struct {
		target string
		want   bool
	}{
		{"/public/", true},
		{"/public/app.css", true},
		{"/public", true},
		{"/public/a/b/c.js", true},
		{"/public/x/", true},
		{"/public/app.css?v=1", true},
		{"/public/my%20file.css", true},
		{"/public/a%3Bb", true},
		{"/healthz", true},
		{"/healthz?full=1", true},
		{"http://app.example.com/public/x", true}, // absolute-form request target

		{"/admin", false},
		{"/public/../admin", false},
		{"/public/%2e%2e/admin", false},
		{"/public/%2E%2E/admin", false},
		{"/public/.%2e/admin", false},
		{"/public%2F..%2Fadmin", false},
		{"/public%2f..%2fadmin", false},
		{"/public/..%5Cadmin", false},
		{"/public/..%5cadmin", false},
		{`/public/..\admin`, false},
		{"/public/x%2Fy", false},
		{"/public/x%5Cy", false},
		{"//admin", false},
		{"//public/x", false},
		{"/public//x", false},
		{"/ADMIN", false},
		{"/admin.", false},
		{"/admin;x", false},
		{"/admin%00", false},
		{"/public/x%00", false},
		{"/public/x%0a", false},
		{"/public/x%7f", false},
		{"/admin?x=/public/", false},
		{"/admin#/public/", false},
		{"/PUBLIC/x", false},
		{"/Public", false},
		{"/public/x/../../admin", false},
		{"/public/./x", false},
		{"/public/.", false},
		{"/public/..", false},
		{"/public/..;/admin", false},
		{"/public/.;/x", false},
		{"/public;/../admin", false},
		{"/publicx", false},
		{"/public.css", false},
		{"/healthz/", false},
		{"/healthz/x", false},
		{"/healthzx", false},
		{"/", false},
		{"*", false},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			u := requestURL(t, tt.target)
			if got := m.Match(u); got != tt.want {
				t.Errorf("Match(%q) (Path %q, RawPath %q) = %v, want %v", tt.target, u.Path, u.RawPath, got, tt.want)
			}
		})
	}
}

func TestMatchPatterns(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		target   string
		want     bool
	}{
		{"exact trailing slash pattern", []string{"/docs/"}, "/docs/", true},
		{"exact trailing slash pattern, no slash", []string{"/docs/"}, "/docs", false},
		{"root exact", []string{"/"}, "/", true},
		{"root exact only", []string{"/"}, "/x", false},
		{"root prefix", []string{"/*"}, "/anything/here", true},
		{"root prefix still canonical only", []string{"/*"}, "/a/../b", false},
		{"nested prefix", []string{"/a/b/*"}, "/a/b", true},
		{"nested prefix parent", []string{"/a/b/*"}, "/a", false},
		{"case sensitive exact", []string{"/Login"}, "/login", false},
		{"no patterns", nil, "/public/x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustMatcher(t, tt.patterns...)
			if got := m.Match(requestURL(t, tt.target)); got != tt.want {
				t.Errorf("patterns %q: Match(%q) = %v, want %v", tt.patterns, tt.target, got, tt.want)
			}
		})
	}
}

func TestMatchHandBuiltURLs(t *testing.T) {
	m := mustMatcher(t, "/public/*")
	tests := []struct {
		name string
		u    *url.URL
		want bool
	}{
		{"nil URL", nil, false},
		{"empty path", &url.URL{}, false},
		{"relative path", &url.URL{Path: "public/x"}, false},
		{"opaque", &url.URL{Opaque: "/public/x"}, false},
		{"RawPath with encoded slash", &url.URL{Path: "/public/a/b", RawPath: "/public/a%2Fb"}, false},
		{"RawPath lower-case encoded backslash", &url.URL{Path: `/public/a\b`, RawPath: "/public/a%5cb"}, false},
		{"plain", &url.URL{Path: "/public/x"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.Match(tt.u); got != tt.want {
				t.Errorf("Match(%#v) = %v, want %v", tt.u, got, tt.want)
			}
		})
	}
}

func TestEmpty(t *testing.T) {
	tests := []struct {
		name string
		m    *Matcher
		want bool
	}{
		{"nil", nil, true},
		{"no patterns", mustMatcher(t), true},
		{"empty slice", mustMatcher(t, []string{}...), true},
		{"one exact", mustMatcher(t, "/healthz"), false},
		{"one prefix", mustMatcher(t, "/static/*"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.Empty(); got != tt.want {
				t.Errorf("Empty() = %v, want %v", got, tt.want)
			}
		})
	}
	var nilM *Matcher
	if nilM.Match(&url.URL{Path: "/"}) {
		t.Error("nil Matcher matched a path")
	}
}
