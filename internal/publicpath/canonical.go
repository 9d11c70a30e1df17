package publicpath

import (
	"net/url"
	"path"
	"strings"
	"unicode"
)

// publicPath reports whether u's path is in the one form that every server
// and upstream reads the same way, and so may be matched at all. It is not
// when:
//   - u has an opaque part or the path is empty or relative;
//   - u.Path differs from path.Clean(u.Path), except for one trailing slash
//     that Clean removes ("/a/", not "/a//");
//   - the path contains a backslash, NUL or any other control character;
//   - a segment is "." or ".." once a ";param" suffix is cut off ("..;",
//     which Tomcat-style servers read as "..");
//   - the escaped path (u.RawPath and u.EscapedPath()) contains %2F or %5C
//     in any case, an encoded slash or backslash hiding a separator.
func publicPath(u *url.URL) bool {
	p := u.Path
	if u.Opaque != "" || p == "" || p[0] != '/' {
		return false
	}
	if !canonical(p) || strings.ContainsRune(p, '\\') || strings.IndexFunc(p, unicode.IsControl) >= 0 {
		return false
	}
	for seg := range strings.SplitSeq(p, "/") {
		name, _, _ := strings.Cut(seg, ";")
		if name == "." || name == ".." {
			return false
		}
	}
	return !encodedSeparator(u.RawPath) && !encodedSeparator(u.EscapedPath())
}

// canonical reports whether p equals path.Clean(p), allowing one trailing
// slash that Clean would remove.
func canonical(p string) bool {
	c := path.Clean(p)
	return p == c || p == c+"/" && c != "/"
}

// encodedSeparator reports whether the escaped path s holds %2F or %5C in
// any case.
func encodedSeparator(s string) bool {
	s = strings.ToLower(s)
	return strings.Contains(s, "%2f") || strings.Contains(s, "%5c")
}

// isControlOrSpace reports whether r is a control character or white space.
func isControlOrSpace(r rune) bool {
	return unicode.IsControl(r) || unicode.IsSpace(r)
}
