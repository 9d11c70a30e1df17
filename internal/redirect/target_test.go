package redirect

import (
	"strings"
	"testing"
)

func TestTarget(t *testing.T) {
	v := mustNew(t, "auth.example.com", ".apps.example.com", "AUTH2.Example.COM.")
	httpsOrigin := mustURL(t, "https://app.example.com")

	tests := []struct {
		name   string
		origin string // "" means httpsOrigin
		raw    string
		want   string
	}{
		// Accepted relative references, re-serialised.
		{"root", "", "/", "/"},
		{"path", "", "/dashboard", "/dashboard"},
		{"query and fragment kept", "", "/a/b?x=1&y=two#frag", "/a/b?x=1&y=two#frag"},
		{"escaped slash inside a segment kept", "", "/files/a%2Fb", "/files/a%2Fb"},
		{"escaped space kept", "", "/my%20file", "/my%20file"},
		{"non-ASCII path escaped", "", "/café", "/caf%C3%A9"},
		{"non-ASCII query escaped", "", "/s?q=café", "/s?q=caf%C3%A9"},
		{"unsafe ASCII escaped", "", `/a"b?c<d`, "/a%22b?c%3Cd"},
		{"empty query kept", "", "/x?", "/x?"},
		{"query with absolute URL", "", "/login?next=https://evil.com", "/login?next=https://evil.com"},
		{"colon in first segment", "", "/a:b", "/a:b"},
		{"at sign in path", "", "/@evil.com", "/@evil.com"},
		{"host-looking path", "", "/evil.com", "/evil.com"},
		{"trailing dot dot", "", "/a/..", "/a/.."},
		{"double-encoded slash is a literal", "", "/%252F%252Fevil.com", "/%252F%252Fevil.com"},

		// Accepted absolute URLs.
		{"same origin absolute", "", "https://app.example.com/x?y#z", "https://app.example.com/x?y#z"},
		{"same origin default port", "", "https://app.example.com:443/x", "https://app.example.com/x"},
		{"same origin upper case", "", "HtTpS://APP.Example.COM/X", "https://app.example.com/X"},
		{"same origin trailing dot", "", "https://app.example.com./x", "https://app.example.com/x"},
		{"same origin no path", "", "https://app.example.com", "https://app.example.com"},
		{"allowed exact host", "", "https://auth.example.com/done", "https://auth.example.com/done"},
		{"allowed entry normalised", "", "https://auth2.example.com/", "https://auth2.example.com/"},
		{"allowed subdomain", "", "https://x.apps.example.com/a?b#c", "https://x.apps.example.com/a?b#c"},
		{"allowed deep subdomain", "", "https://a.b.apps.example.com/", "https://a.b.apps.example.com/"},
		{"allowed host any port", "", "https://auth.example.com:8443/", "https://auth.example.com:8443/"},
		{"dev origin same origin", "http://localhost:8080", "http://localhost:8080/x", "http://localhost:8080/x"},
		{"dev origin allowed over http", "http://localhost:8080", "http://auth.example.com/", "http://auth.example.com/"},
		{"dev origin relative", "http://localhost:8080", "/x?y", "/x?y"},
		{"ipv6 origin", "http://[::1]:8080", "http://[::1]:8080/x", "http://[::1]:8080/x"},

		// Rejected: empty, oversize, characters.
		{"empty", "", "", "/"},
		{"too long", "", "/" + strings.Repeat("a", MaxLen), "/"},
		{"tab", "", "/a\tb", "/"},
		{"newline", "", "/a\nb", "/"},
		{"leading space", "", " /x", "/"},
		{"trailing space", "", "/x ", "/"},
		{"NUL", "", "/x\x00", "/"},
		{"DEL", "", "/x\x7f", "/"},
		{"C1 control", "", "/x\u0085", "/"},
		{"no-break space", "", "/x\u00a0y", "/"},
		{"ideographic space", "", "/x\u3000y", "/"},
		{"invalid UTF-8", "", "/x\xff", "/"},
		{"bad escape", "", "/x%zz", "/"},
		{"backslash", "", `/\evil.com`, "/"},
		{"encoded backslash", "", "/%5Cevil.com", "/"},
		{"encoded backslash in query", "", "/x?a=%5c", "/"},

		// Rejected: relative references that are not path-absolute.
		{"relative path", "", "foo", "/"},
		{"query only", "", "?x=1", "/"},
		{"fragment only", "", "#x", "/"},
		{"javascript", "", "javascript:alert(1)", "/"},
		{"javascript slashes", "", "javascript://%0aalert(1)", "/"},
		{"data", "", "data:text/html,<script>alert(1)</script>", "/"},
		{"scheme-relative opaque", "", "https:evil.com", "/"},
		{"scheme-relative path", "", "https:/evil.com", "/"},
		{"triple slash after scheme", "", "https:///evil.com", "/"},
		{"protocol-relative", "", "//evil.com", "/"},
		{"protocol-relative own host", "", "//app.example.com/x", "/"},
		{"slash backslash", "", `/\evil.com`, "/"},
		{"triple slash", "", "///evil.com", "/"},
		{"encoded double slash", "", "/%2F%2Fevil.com", "/"},
		{"encoded double slash lower", "", "/%2f%2fevil.com", "/"},
		{"encoded tab between slashes", "", "/%09/evil.com", "/"},
		{"encoded newline between slashes", "", "/%0a/evil.com", "/"},
		{"encoded vertical tab between slashes", "", "/%0b/evil.com", "/"},
		{"encoded space between slashes", "", "/%20/evil.com", "/"},
		{"dot backslash", "", `/./\evil.com`, "/"},
		{"dot slash slash", "", "/.//evil.com", "/"},
		{"dot dot slash", "", "/../evil.com", "/"},
		{"dot dot encoded", "", "/..%2Fevil.com", "/"},
		{"encoded control in path", "", "/a%0Db", "/"},

		// Rejected: absolute URLs.
		{"other host", "", "https://evil.com", "/"},
		{"userinfo", "", "https://app.example.com@evil.com", "/"},
		{"userinfo own host", "", "https://user@app.example.com/", "/"},
		{"backslash userinfo", "", `https://evil.com\@app.example.com`, "/"},
		{"lookalike suffix", "", "https://app.example.com.evil.com", "/"},
		{"lookalike prefix", "", "https://evilapp.example.com", "/"},
		{"parent of allowed subdomains", "", "https://apps.example.com/", "/"},
		{"lookalike allowed suffix", "", "https://xapps.example.com/", "/"},
		{"allowed exact only", "", "https://x.auth.example.com/", "/"},
		{"ideographic dot", "", "https://app.example。com/", "/"},
		{"full-width dot", "", "https://app.example．com/", "/"},
		{"IDN host", "", "https://äpp.example.com/", "/"},
		{"percent-encoded host", "", "https://app%2eexample.com/", "/"},
		{"ftp", "", "ftp://app.example.com/", "/"},
		{"downgrade same host", "", "http://app.example.com/", "/"},
		{"downgrade allowed host", "", "http://auth.example.com/", "/"},
		{"other port same host", "", "https://app.example.com:8443/", "/"},
		{"port out of range", "", "https://app.example.com:65536/", "/"},
		{"port zero", "", "https://app.example.com:0/", "/"},
		{"double slash path on own host", "", "https://app.example.com//evil.com", "/"},
		{"dev origin other port", "http://localhost:8080", "http://localhost/x", "/"},
		{"dev origin upgrade", "http://localhost:8080", "https://localhost:8080/x", "/"},
		{"dev origin https allowed", "http://localhost:8080", "https://evil.com/", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			origin := httpsOrigin
			if tt.origin != "" {
				origin = mustURL(t, tt.origin)
			}
			got := v.Target(tt.raw, origin)
			if got != tt.want {
				t.Errorf("Target(%q, %q) = %q, want %q", tt.raw, origin, got, tt.want)
			}
			checkSafe(t, v, origin, tt.raw, got)
		})
	}
}

func TestTargetNilOrigin(t *testing.T) {
	v := mustNew(t, "auth.example.com")
	tests := []struct {
		raw, want string
	}{
		{"/x?y#z", "/x?y#z"},
		{"https://auth.example.com/", "https://auth.example.com/"},
		{"http://auth.example.com/", "/"},
		{"https://app.example.com/", "/"},
		{"//evil.com", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			if got := v.Target(tt.raw, nil); got != tt.want {
				t.Errorf("Target(%q, nil) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestTargetOutputTooLong(t *testing.T) {
	v := mustNew(t)
	origin := mustURL(t, "https://app.example.com")
	// 1000 two-byte runes are 2001 bytes in, 6001 bytes once escaped.
	raw := "/" + strings.Repeat("é", 1000)
	if got := v.Target(raw, origin); got != Default {
		t.Errorf("Target of a path that escapes beyond MaxLen = %d bytes, want %q", len(got), Default)
	}
}
