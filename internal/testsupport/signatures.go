package testsupport

import "crypto/sha256"

// SignGitHubBody returns the X-Hub-Signature-256 value GitHub sends for
// body under secret: "sha256=" + hex(HMAC-SHA256(secret, body)).
func SignGitHubBody(secret string, body []byte) string {
	return "sha256=" + hexMAC(sha256.New, secret, body)
}
