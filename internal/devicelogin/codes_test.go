package devicelogin

import (
	"strings"
	"testing"
)

// User codes are 8 letters of the 20-consonant alphabet, shown as
// XXXX-XXXX, and every letter turns up in every position.
func TestNewUserCode(t *testing.T) {
	seen := [userCodeLen]map[byte]bool{}
	for i := range seen {
		seen[i] = map[byte]bool{}
	}
	codes := map[string]bool{}
	for range 2000 {
		c := NewUserCode()
		if len(c) != userCodeLen || strings.Trim(c, UserCodeAlphabet) != "" {
			t.Fatalf("user code %q is not 8 letters of %s", c, UserCodeAlphabet)
		}
		if n, ok := NormalizeUserCode(FormatUserCode(c)); !ok || n != c {
			t.Fatalf("%q shown as %q reads back as %q %v", c, FormatUserCode(c), n, ok)
		}
		codes[c] = true
		for i := range userCodeLen {
			seen[i][c[i]] = true
		}
	}
	if len(codes) < 1990 {
		t.Errorf("%d distinct codes of 2000", len(codes))
	}
	for i, s := range seen {
		if len(s) != len(UserCodeAlphabet) {
			t.Errorf("position %d saw %d letters of %d", i, len(s), len(UserCodeAlphabet))
		}
	}
	if len(UserCodeAlphabet) != 20 || strings.ContainsAny(UserCodeAlphabet, "AEIOUY0123456789") {
		t.Errorf("alphabet %q", UserCodeAlphabet)
	}
	if got := FormatUserCode("BCDFGHJK"); got != "BCDF-GHJK" {
		t.Errorf("FormatUserCode: %q", got)
	}
}

// A code is read as people type it: either case, with or without the
// dash, spaces anywhere; anything else is not a code.
func TestNormalizeUserCode(t *testing.T) {
	for in, want := range map[string]string{
		"BCDF-GHJK":       "BCDFGHJK",
		"bcdf-ghjk":       "BCDFGHJK",
		"BcDfGhJk":        "BCDFGHJK",
		" bcdf ghjk ":     "BCDFGHJK",
		"B-C-D-F-G-H-J-K": "BCDFGHJK",
		"WXZB\tWXZB":      "WXZBWXZB",
	} {
		if got, ok := NormalizeUserCode(in); !ok || got != want {
			t.Errorf("NormalizeUserCode(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{
		"", "BCDF-GHJ", "BCDF-GHJKL", "ABCD-EFGH", "BCDF-GHJ1", "BCDF_GHJK", "BCDF-GHJK\n",
		"ＢCDF-GHJK", "BCDF-GHJK%00", strings.Repeat(" ", 40) + "BCDFGHJK", "bcdf—ghjk", "ßCDF-GHJK",
	} {
		if got, ok := NormalizeUserCode(in); ok {
			t.Errorf("NormalizeUserCode(%q) = %q, accepted", in, got)
		}
	}
}

// A device's name is shown to the person and listed with its session: at
// most 64 printable characters.
func TestValidClientName(t *testing.T) {
	for _, ok := range []string{"", "my-cli", "Alice's laptop (gh 2.1)", "ターミナル", strings.Repeat("x", 64), strings.Repeat("é", 64)} {
		if !validClientName(ok) {
			t.Errorf("%q refused", ok)
		}
	}
	for _, bad := range []string{strings.Repeat("x", 65), "a\nb", "a\tb", "a\x00", "a\u202eb", "\xff", "a\u200bb"} {
		if validClientName(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}
