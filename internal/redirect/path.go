package redirect

import (
	"regexp"
	"strings"
)

// invalidPathRegex matches a slash or backslash followed, after optional
// white space or one or two dots, by another slash or backslash: "//",
// "/\", "/\t/", "/./", "/../". It is the check oauth2-proxy applies in
// pkg/app/redirect/validator.go.
var invalidPathRegex = regexp.MustCompile(`[/\\](?:[\s\v]*|\.{1,2})[/\\]`)

// safePath reports whether the decoded path p can be sent to a browser
// without it leaving the host it is resolved against. p must be empty or
// start with a single "/", contain no backslash or control character, and
// contain no separator sequence matched by invalidPathRegex.
func safePath(p string) bool {
	if p == "" {
		return true
	}
	if p[0] != '/' || strings.HasPrefix(p, "//") || strings.ContainsRune(p, '\\') {
		return false
	}
	for _, r := range p {
		if r < ' ' || r == 0x7f {
			return false
		}
	}
	return !invalidPathRegex.MatchString(p)
}
