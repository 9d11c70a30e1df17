package nango

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
)

const (
	// SignatureHeader carries hex(HMAC-SHA256(webhook signing key, body)).
	SignatureHeader = "X-Nango-Hmac-Sha256"
	// LegacySignatureHeader carries hex(SHA256(key + body)), open to
	// length extension; it is never accepted.
	LegacySignatureHeader = "X-Nango-Signature"
)

var (
	// ErrNoSignature means the X-Nango-Hmac-Sha256 header is missing or
	// empty (and no legacy header was sent either).
	ErrNoSignature = errors.New("nango: webhook has no " + SignatureHeader + " signature")
	// ErrBadSignature means the signature matches none of the keys, is not
	// hex, or there is no usable key.
	ErrBadSignature = errors.New("nango: webhook signature does not match")
	// ErrLegacyOnly means only the legacy X-Nango-Signature header was
	// sent; it is refused because of its length-extension weakness.
	ErrLegacyOnly = errors.New("nango: webhook has only the legacy " + LegacySignatureHeader + " signature, which is not accepted")
)

// VerifySignature checks header's X-Nango-Hmac-Sha256 =
// hex(HMAC-SHA256(key, body)) against each non-empty key (the current and
// the previous webhook signing key) in constant time, comparing against
// every key. Hex is accepted in either case. body must be the raw request
// body. With no X-Nango-Hmac-Sha256 but a legacy X-Nango-Signature present
// it returns ErrLegacyOnly; with neither, ErrNoSignature; with no non-empty
// key, or a signature that matches none, ErrBadSignature. The legacy
// header never makes a request valid.
func VerifySignature(body []byte, header http.Header, keys ...[]byte) error {
	sig := strings.TrimSpace(header.Get(SignatureHeader))
	if sig == "" {
		if strings.TrimSpace(header.Get(LegacySignatureHeader)) != "" {
			return ErrLegacyOnly
		}
		return ErrNoSignature
	}
	got, err := hex.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return ErrBadSignature
	}
	matched := false
	for _, key := range keys {
		if len(key) == 0 {
			continue
		}
		mac := hmac.New(sha256.New, key)
		mac.Write(body)
		if hmac.Equal(got, mac.Sum(nil)) {
			matched = true
		}
	}
	if !matched {
		return ErrBadSignature
	}
	return nil
}

// Sign returns hex(HMAC-SHA256(key, body)), the X-Nango-Hmac-Sha256 value
// of body (for tests and for forwarding).
func Sign(key, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}
