package session

import (
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/keys"
)

// FuzzParseToken feeds the cookie/bearer token parser arbitrary input: it
// never panics, accepts only what it issued (or a token with the same MAC,
// which only the key holder can make), and an accepted token's store key
// is a fixed-size hash.
func FuzzParseToken(f *testing.F) {
	ring, err := keys.Derive("fuzz-secret-0123456789abcdef0123456789abcdef")
	if err != nil {
		f.Fatal(err)
	}
	_, valid := newToken(ring)
	for _, s := range []string{valid, "", "*", "a\r\nb", strings.Repeat("A", 64), strings.Repeat("A", 5000),
		valid[:63], valid + "=", "%00" + valid[3:], valid[:10] + ":" + valid[11:]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := parseToken(ring, s)
		if err != nil {
			return
		}
		if s != valid {
			// Any other accepted string would be a forged MAC.
			if _, err := parseToken(ring, s); err == nil && len(s) != len(valid) {
				t.Fatalf("accepted a token of another shape: %q", s)
			}
		}
		if h := tok.hash(); len(h) != 64 || strings.ContainsAny(h, "*:\r\n ") {
			t.Fatalf("store key part %q is not a hex hash", h)
		}
	})
}
