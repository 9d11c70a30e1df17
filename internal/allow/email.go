package allow

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// parseEmail splits an address strictly and returns both parts with ASCII
// letters lowercased. It requires exactly one "@", a non-empty local part
// and domain, no white space or control characters, valid UTF-8, and a
// domain of non-empty dot-separated labels without a trailing dot.
func parseEmail(s string) (local, domain string, err error) {
	if !utf8.ValidString(s) || strings.ContainsFunc(s, isSpaceOrControl) {
		return "", "", fmt.Errorf("contains white space, control characters or invalid UTF-8")
	}
	if n := strings.Count(s, "@"); n != 1 {
		return "", "", fmt.Errorf(`has %d "@", want exactly one`, n)
	}
	local, domain, _ = strings.Cut(s, "@")
	if local == "" || domain == "" {
		return "", "", fmt.Errorf("empty local part or domain")
	}
	if !labelsOK(domain) {
		return "", "", fmt.Errorf("domain %q has an empty label or a trailing dot", domain)
	}
	return lowerASCII(local), lowerASCII(domain), nil
}

// checkDomain validates a domain written in a rule: ASCII letters, digits,
// '-' and '_' in non-empty dot-separated labels, with no leading or
// trailing dot and no wildcard. Internationalised domains must be given in
// punycode.
func checkDomain(d string) error {
	if d == "" {
		return fmt.Errorf("empty domain")
	}
	if strings.Contains(d, "*") {
		return fmt.Errorf("wildcards are not supported")
	}
	if !labelsOK(d) {
		return fmt.Errorf("domain %q has an empty label or a leading or trailing dot", d)
	}
	for i := 0; i < len(d); i++ {
		c := d[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("domain %q may hold only ASCII letters, digits, '-', '_' and '.' (use punycode)", d)
		}
	}
	return nil
}

// labelsOK reports whether d is non-empty dot-separated labels, so it has
// no leading, trailing or doubled dot.
func labelsOK(d string) bool {
	for label := range strings.SplitSeq(d, ".") {
		if label == "" {
			return false
		}
	}
	return true
}

// lowerASCII lowercases ASCII letters only. Unicode case folding is avoided
// on purpose: it maps characters such as the Kelvin sign (U+212A) onto
// ASCII letters, which would let a look-alike name match.
func lowerASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// isSpaceOrControl reports whether r is white space or a control character.
func isSpaceOrControl(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r)
}
