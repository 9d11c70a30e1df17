package provider

import "strings"

// ErrorCode keeps a provider-sent error code printable and short
// (letters, digits, "_", "-", "." and at most 64 of them) before it is
// shown or logged.
func ErrorCode(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.' {
			return r
		}
		return -1
	}, s)
}
