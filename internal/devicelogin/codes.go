package devicelogin

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"
)

// UserCodeAlphabet is what a user code is made of: the 20 consonants RFC
// 8628 §6.1 recommends (no vowels, so no words; none easily mistaken for
// a digit).
const UserCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// userCodeLen is how many letters a user code has: 20^8 (about 2^34.6)
// codes, shown as XXXX-XXXX.
const userCodeLen = 8

// maxUserCodeInput bounds what a person may type as a code (dashes and
// spaces included) before it is even looked at.
const maxUserCodeInput = 32

// NewUserCode returns a random user code, normalised (8 letters, no dash).
func NewUserCode() string {
	var b [userCodeLen]byte
	for i := 0; i < userCodeLen; {
		var r [16]byte
		_, _ = rand.Read(r[:])
		for _, v := range r {
			// 240 is the largest multiple of 20 below 256: rejecting the
			// rest keeps every letter equally likely.
			if v >= 240 || i == userCodeLen {
				continue
			}
			b[i] = UserCodeAlphabet[v%20]
			i++
		}
	}
	return string(b[:])
}

// NormalizeUserCode reads a code as a person typed it: letters in either
// case, with or without the dash, spaces anywhere. It returns the
// normalised code and whether the input is one at all (8 letters of the
// alphabet and nothing else).
func NormalizeUserCode(in string) (string, bool) {
	if len(in) > maxUserCodeInput {
		return "", false
	}
	var b strings.Builder
	for _, r := range in {
		switch {
		case r == '-' || r == ' ' || r == '\t':
			continue
		case r < utf8.RuneSelf && strings.IndexByte(UserCodeAlphabet, byte(unicode.ToUpper(r))) >= 0:
			if b.Len() == userCodeLen {
				return "", false
			}
			b.WriteByte(byte(unicode.ToUpper(r)))
		default:
			return "", false
		}
	}
	if b.Len() != userCodeLen {
		return "", false
	}
	return b.String(), true
}

// FormatUserCode shows a normalised code as XXXX-XXXX.
func FormatUserCode(code string) string {
	if len(code) != userCodeLen {
		return code
	}
	return code[:4] + "-" + code[4:]
}

// maxClientName bounds the name a device gives itself, in characters.
const maxClientName = 64

// validClientName reports whether name may be shown as a device's name:
// at most maxClientName printable characters of valid UTF-8.
func validClientName(name string) bool {
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxClientName {
		return false
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// hashHex is the hex SHA-256 of s: what names a device code in records
// and keys, never the code itself.
func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
