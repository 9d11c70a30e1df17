package fakegithub

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"net/http"
)

// SignGitHubBody returns the X-Hub-Signature-256 value GitHub sends for
// body under secret: "sha256=" + hex(HMAC-SHA256(secret, body)).
func SignGitHubBody(secret string, body []byte) string {
	return "sha256=" + hexMAC(sha256.New, secret, body)
}

// SetSignatures sets the signatures GitHub sends with a webhook: the
// legacy X-Hub-Signature (sha1=…) and X-Hub-Signature-256 (sha256=…) of
// body under secret.
func SetSignatures(h http.Header, secret string, body []byte) {
	h.Set("X-Hub-Signature", "sha1="+hexMAC(sha1.New, secret, body))
	h.Set("X-Hub-Signature-256", SignGitHubBody(secret, body))
}

// hexMAC is hex(HMAC-hash(secret, body)).
func hexMAC(newHash func() hash.Hash, secret string, body []byte) string {
	mac := hmac.New(newHash, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}
