package github

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// SignatureHeader is the header carrying a delivery's HMAC-SHA256.
const SignatureHeader = "X-Hub-Signature-256"

// signaturePrefix starts the value of X-Hub-Signature-256.
const signaturePrefix = "sha256="

// ErrSignature is wrapped by every error of [VerifySignature].
var ErrSignature = errors.New("github: invalid webhook signature")

// VerifySignature checks a webhook delivery's X-Hub-Signature-256 value,
// "sha256=" followed by 64 hex digits (either case) of the HMAC-SHA256 of
// the raw body keyed with the webhook secret. The MACs are compared with
// hmac.Equal. A missing header, a sha1-only header (X-Hub-Signature's
// "sha1=" format), a wrong prefix, a wrong length, non-hex digits, an
// empty secret or a wrong MAC give an error wrapping [ErrSignature]. It
// never panics.
//
// The signature carries no timestamp, so a captured delivery verifies
// again: deduplicate on X-GitHub-Delivery.
func VerifySignature(secret, body []byte, header string) error {
	if len(secret) == 0 {
		return fmt.Errorf("%w: the webhook secret is empty", ErrSignature)
	}
	if header == "" {
		return fmt.Errorf("%w: missing %s header", ErrSignature, SignatureHeader)
	}
	digits, ok := strings.CutPrefix(header, signaturePrefix)
	if !ok {
		if strings.HasPrefix(header, "sha1=") {
			return fmt.Errorf("%w: sha1 signatures are not accepted; %s is required", ErrSignature, SignatureHeader)
		}
		return fmt.Errorf("%w: the value does not start with %q", ErrSignature, signaturePrefix)
	}
	if len(digits) != 2*sha256.Size {
		return fmt.Errorf("%w: the MAC has %d hex digits, want %d", ErrSignature, len(digits), 2*sha256.Size)
	}
	got, err := hex.DecodeString(digits)
	if err != nil {
		return fmt.Errorf("%w: the MAC is not hex", ErrSignature)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	if !hmac.Equal(mac.Sum(nil), got) {
		return fmt.Errorf("%w: the MAC does not match the body", ErrSignature)
	}
	return nil
}
