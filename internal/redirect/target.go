package redirect

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// MaxLen is the longest redirect target accepted, in bytes, both as given
// and as returned.
const MaxLen = 2048

// Default is the target returned for anything unsafe or empty.
const Default = "/"

// Target returns a safe redirect target for raw. origin is the site's own
// origin, e.g. https://app.example.com or http://localhost:8080 (scheme +
// host[:port], no path). It returns either a same-origin relative reference
// beginning with exactly one "/" (path, query and fragment re-serialised
// from a parsed URL), or an absolute http(s) URL whose host is the origin's
// host (with the same scheme and port) or an allowed host (https only,
// unless the origin itself is http). Anything else, including "", yields
// "/".
//
// A nil or unusable origin (not http(s), no host) still lets relative
// targets through; absolute ones must then be on an allowed host over https.
// The result is stable: Target(Target(raw, o), o) == Target(raw, o), so a
// stored target can be validated again when it is used.
func (v *Validator) Target(raw string, origin *url.URL) string {
	if out, ok := v.target(raw, origin); ok && len(out) <= MaxLen {
		return out
	}
	return Default
}

// target does the work of Target; ok is false when raw must be replaced by
// the default.
func (v *Validator) target(raw string, origin *url.URL) (string, bool) {
	if raw == "" || len(raw) > MaxLen || !cleanInput(raw) {
		return "", false
	}
	decoded, err := url.PathUnescape(raw)
	if err != nil || strings.ContainsRune(decoded, '\\') {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil || !safePath(u.Path) {
		return "", false
	}

	if u.Scheme == "" && u.Host == "" {
		// A relative reference: only a path-absolute one ("/x", never
		// "//x", "x" or "?x") stays on the origin.
		if raw[0] != '/' || len(raw) > 1 && raw[1] == '/' || u.Path == "" {
			return "", false
		}
		return serialise("", u), true
	}

	// An absolute URL must spell out "scheme://" itself: browsers read
	// "https:evil.com" and "https:/evil.com" as pointing at evil.com
	// while Go sees no host.
	scheme, rest, found := strings.Cut(raw, ":")
	if !found || !strings.EqualFold(scheme, u.Scheme) || !strings.HasPrefix(rest, "//") || u.Host == "" {
		return "", false
	}
	target, ok := newEndpoint(u.Scheme, u.Hostname(), u.Port())
	if !ok {
		return "", false
	}
	self, selfOK := originEndpoint(origin)
	switch {
	case selfOK && target == self:
	case v.allowed(target.host) && (target.scheme == "https" || selfOK && self.scheme == "http"):
	default:
		return "", false
	}
	return serialise(target.String(), u), true
}

// cleanInput reports whether raw is valid UTF-8 without control characters,
// Unicode white space or backslashes anywhere.
func cleanInput(raw string) bool {
	if !utf8.ValidString(raw) || strings.ContainsRune(raw, '\\') {
		return false
	}
	for _, r := range raw {
		if isSpaceOrControl(r) {
			return false
		}
	}
	return true
}

// originEndpoint normalises the site's origin; ok is false when origin is
// nil or not an http(s) URL with a host.
func originEndpoint(origin *url.URL) (endpoint, bool) {
	if origin == nil || origin.Host == "" {
		return endpoint{}, false
	}
	return newEndpoint(origin.Scheme, origin.Hostname(), origin.Port())
}

// serialise writes prefix (scheme://host[:port], or "" for a relative
// reference) followed by u's escaped path, query and fragment.
func serialise(prefix string, u *url.URL) string {
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteString(u.EscapedPath())
	if u.RawQuery != "" || u.ForceQuery {
		b.WriteByte('?')
		b.WriteString(escapeQuery(u.RawQuery))
	}
	if u.Fragment != "" {
		b.WriteByte('#')
		b.WriteString(u.EscapedFragment())
	}
	return b.String()
}

// escapeQuery percent-encodes the bytes of an already-escaped query that
// must not appear raw in a URL (non-ASCII and a few unsafe ASCII
// characters), leaving existing escapes and delimiters alone.
func escapeQuery(q string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c >= 0x80 || c <= ' ' || c == 0x7f || strings.IndexByte("\"<>`{}|^\\", c) >= 0 {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
