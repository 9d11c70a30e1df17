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
	u, err := url.ParseRequestURI(target)
	if err != nil {
		t.Fatalf("url.ParseRequestURI(%q): %v", target, err)
	}
	return u
}

func TestNew(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		wantErr  string // "" means success; otherwise a substring of the error
	}{
		{"none", nil, ""},
		{"exact", []string{"/healthz"}, ""},
		{"exact with trailing slash", []string{"/docs/"}, ""},
		{"prefix", []string{"/public/*"}, ""},
		{"root prefix", []string{"/*"}, ""},
		{"root exact", []string{"/"}, ""},
		{"semicolon", []string{"/a;b"}, ""},
		{"several", []string{"/healthz", "/static/*", "/favicon.ico"}, ""},
		{"empty", []string{""}, `public path "": empty pattern`},
		{"star alone", []string{"*"}, `public path "*": "*" alone`},
		{"relative", []string{"public/*"}, `public path "public/*": must start with "/"`},
		{"dot dot", []string{"/public/../admin"}, `must not contain ".."`},
		{"dot dot suffix", []string{"/public/..;/*"}, `must not contain ".."`},
		{"double slash", []string{"//public/*"}, `must not contain "//"`},
		{"backslash", []string{`/public\*`}, `backslash`},
		{"percent", []string{"/public%2F*"}, `must not contain "%"`},
		{"NUL", []string{"/public\x00"}, `NUL`},
		{"tab", []string{"/pub\tlic"}, `control characters or white space`},
		{"space", []string{"/pub lic"}, `white space`},
		{"star mid", []string{"/pub*/x"}, `"*" is only allowed as the last character`},
		{"star without slash", []string{"/public*"}, `"*" is only allowed as the last character`},
		{"double star", []string{"/public/**"}, `"*" is only allowed`},
		{"dot segment", []string{"/public/./x"}, `must be a clean path`},
		{"trailing dot segment", []string{"/public/."}, `must be a clean path`},
		{"message says what is allowed", []string{"x"}, `patterns are "/exact"`},
		{"second pattern named", []string{"/ok", "/bad/*/x"}, `public path "/bad/*/x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testcheck.New(t, New, tt.patterns, tt.wantErr)
		})
	}
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
