package devidp

import (
	"crypto/rand"
	"encoding/base64"
)

// randomToken returns prefix followed by 256 random bits, base64url-encoded.
func randomToken(prefix string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}
