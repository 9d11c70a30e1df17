package github

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// docsSecret, docsBody and docsSignature are the test vector of GitHub's
// "Validating webhook deliveries".
const (
	docsSecret    = "It's a Secret to Everybody"
	docsBody      = "Hello, World!"
	docsSignature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
)

func TestVerifySignatureDocsVector(t *testing.T) {
	if err := VerifySignature([]byte(docsSecret), []byte(docsBody), docsSignature); err != nil {
		t.Fatalf("docs test vector rejected: %v", err)
	}
	upper := "sha256=" + strings.ToUpper(strings.TrimPrefix(docsSignature, "sha256="))
	if err := VerifySignature([]byte(docsSecret), []byte(docsBody), upper); err != nil {
		t.Errorf("upper-case hex rejected: %v", err)
	}
}

func TestVerifySignatureRejects(t *testing.T) {
	secret, body := []byte(docsSecret), []byte(docsBody)
	digits := strings.TrimPrefix(docsSignature, "sha256=")
	sha1MAC := hmac.New(sha1.New, secret)
	sha1MAC.Write(body)
	otherSecret := hmac.New(sha256.New, []byte("another secret"))
	otherSecret.Write(body)

	tests := []struct {
		name   string
		secret []byte
		body   []byte
		header string
	}{
		{"missing header", secret, body, ""},
		{"sha1 only", secret, body, "sha1=" + hex.EncodeToString(sha1MAC.Sum(nil))},
		{"no prefix", secret, body, digits},
		{"upper-case prefix", secret, body, "SHA256=" + digits},
		{"space after prefix", secret, body, "sha256= " + digits},
		{"sha512 prefix", secret, body, "sha512=" + digits},
		{"one digit short", secret, body, docsSignature[:len(docsSignature)-1]},
		{"one digit long", secret, body, docsSignature + "0"},
		{"trailing newline", secret, body, docsSignature + "\n"},
		{"odd length", secret, body, "sha256=" + digits[:63]},
		{"non-hex", secret, body, "sha256=" + strings.Repeat("zz", 32)},
		{"empty digits", secret, body, "sha256="},
		{"wrong secret", secret, body, "sha256=" + hex.EncodeToString(otherSecret.Sum(nil))},
		{"body re-serialized", secret, []byte(docsBody + "\n"), docsSignature},
		{"body changed", secret, []byte("Hello, World?"), docsSignature},
		{"last digit flipped", secret, body, docsSignature[:len(docsSignature)-1] + "6"},
		{"empty secret", nil, body, docsSignature},
		{"two headers joined", secret, body, docsSignature + "," + docsSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifySignature(tt.secret, tt.body, tt.header)
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrSignature) {
				t.Errorf("error %v does not wrap ErrSignature", err)
			}
		})
	}
}
