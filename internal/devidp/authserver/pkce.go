package authserver

import (
	"crypto/sha256"
	"encoding/base64"
)

// S256 returns the PKCE S256 code challenge of verifier (RFC 7636 §4.2):
// BASE64URL(SHA256(verifier)), unpadded.
func S256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// VerifyPKCE reports whether verifier answers challenge under method:
// "S256", or "plain" (and "", its default per RFC 7636 §4.3) where
// challenge is the verifier itself. No challenge means nothing to check;
// a challenge without a verifier fails.
func VerifyPKCE(challenge, method, verifier string) bool {
	if challenge == "" {
		return true
	}
	if verifier == "" {
		return false
	}
	got := verifier
	if method == "S256" {
		got = S256(verifier)
	}
	return SecretEqual(got, challenge)
}
