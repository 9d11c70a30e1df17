package nango

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
)

var (
	currentKey  = []byte("whsk_current_8d5c1e0f4b7a4f2e9c3d")
	previousKey = []byte("whsk_previous_2a7f9b1c6e3d4a5b8c0e")
)

// legacySign is Nango's legacy X-Nango-Signature: hex(SHA256(key + body)).
func legacySign(key, body []byte) string {
	sum := sha256.Sum256(append(append([]byte{}, key...), body...))
	return hex.EncodeToString(sum[:])
}

func TestSignVector(t *testing.T) {
	// GitHub's documented HMAC-SHA256 test vector.
	got := Sign([]byte("It's a Secret to Everybody"), []byte("Hello, World!"))
	if want := "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"; got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestVerifySignature(t *testing.T) {
	body := []byte(authCreationWebhook)
	tampered := []byte(strings.Replace(authCreationWebhook, `"u_1"`, `"u_2"`, 1))
	oneByte := append([]byte{}, body...)
	oneByte[len(oneByte)-3] ^= 0x01
	good := Sign(currentKey, body)
	tests := []struct {
		name    string
		body    []byte
		header  map[string]string
		keys    [][]byte
		wantErr error
	}{
		{name: "current key", body: body, header: map[string]string{SignatureHeader: good}, keys: [][]byte{currentKey, previousKey}},
		{name: "previous key", body: body, header: map[string]string{SignatureHeader: Sign(previousKey, body)}, keys: [][]byte{currentKey, previousKey}},
		{name: "single key", body: body, header: map[string]string{SignatureHeader: good}, keys: [][]byte{currentKey}},
		{name: "empty keys skipped", body: body, header: map[string]string{SignatureHeader: good}, keys: [][]byte{nil, {}, currentKey}},
		{name: "both headers, valid HMAC", body: body, header: map[string]string{SignatureHeader: good, LegacySignatureHeader: legacySign(currentKey, body)}, keys: [][]byte{currentKey}},
		{name: "uppercase hex", body: body, header: map[string]string{SignatureHeader: strings.ToUpper(good)}, keys: [][]byte{currentKey}},
		{name: "empty body", body: nil, header: map[string]string{SignatureHeader: Sign(currentKey, nil)}, keys: [][]byte{currentKey}},
		{name: "wrong key", body: body, header: map[string]string{SignatureHeader: Sign([]byte("some-other-key"), body)}, keys: [][]byte{currentKey, previousKey}, wantErr: ErrBadSignature},
		{name: "tampered body", body: tampered, header: map[string]string{SignatureHeader: good}, keys: [][]byte{currentKey, previousKey}, wantErr: ErrBadSignature},
		{name: "one byte flipped", body: oneByte, header: map[string]string{SignatureHeader: good}, keys: [][]byte{currentKey, previousKey}, wantErr: ErrBadSignature},
		{name: "trailing newline added", body: append(append([]byte{}, body...), '\n'), header: map[string]string{SignatureHeader: good}, keys: [][]byte{currentKey}, wantErr: ErrBadSignature},
		{name: "not hex", body: body, header: map[string]string{SignatureHeader: strings.Repeat("zz", 32)}, keys: [][]byte{currentKey}, wantErr: ErrBadSignature},
		{name: "odd length hex", body: body, header: map[string]string{SignatureHeader: good[:63]}, keys: [][]byte{currentKey}, wantErr: ErrBadSignature},
		{name: "truncated", body: body, header: map[string]string{SignatureHeader: good[:62]}, keys: [][]byte{currentKey}, wantErr: ErrBadSignature},
		{name: "too long", body: body, header: map[string]string{SignatureHeader: good + "00"}, keys: [][]byte{currentKey}, wantErr: ErrBadSignature},
		{name: "sha256= prefix", body: body, header: map[string]string{SignatureHeader: "sha256=" + good}, keys: [][]byte{currentKey}, wantErr: ErrBadSignature},
		{name: "signature of the key as body", body: body, header: map[string]string{SignatureHeader: legacySign(currentKey, body)}, keys: [][]byte{currentKey}, wantErr: ErrBadSignature},
		{name: "empty header", body: body, header: map[string]string{SignatureHeader: ""}, keys: [][]byte{currentKey}, wantErr: ErrNoSignature},
		{name: "blank header", body: body, header: map[string]string{SignatureHeader: "   "}, keys: [][]byte{currentKey}, wantErr: ErrNoSignature},
		{name: "no headers", body: body, header: nil, keys: [][]byte{currentKey}, wantErr: ErrNoSignature},
		{name: "legacy only", body: body, header: map[string]string{LegacySignatureHeader: legacySign(currentKey, body)}, keys: [][]byte{currentKey}, wantErr: ErrLegacyOnly},
		{name: "legacy only, empty HMAC header", body: body, header: map[string]string{SignatureHeader: "", LegacySignatureHeader: legacySign(currentKey, body)}, keys: [][]byte{currentKey}, wantErr: ErrLegacyOnly},
		{name: "bad HMAC with valid legacy", body: body, header: map[string]string{SignatureHeader: Sign([]byte("x"), body), LegacySignatureHeader: legacySign(currentKey, body)}, keys: [][]byte{currentKey}, wantErr: ErrBadSignature},
		{name: "no keys", body: body, header: map[string]string{SignatureHeader: good}, keys: nil, wantErr: ErrBadSignature},
		{name: "only empty keys", body: body, header: map[string]string{SignatureHeader: Sign(nil, body)}, keys: [][]byte{nil, {}}, wantErr: ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h http.Header
			if tt.header != nil {
				h = http.Header{}
				for k, v := range tt.header {
					h.Set(k, v)
				}
			}
			err := VerifySignature(tt.body, h, tt.keys...)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("VerifySignature = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				for _, secret := range []string{string(currentKey), string(previousKey), good} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q leaks a key or signature", err)
					}
				}
			}
		})
	}
}

func TestVerifySignatureServerHeaders(t *testing.T) {
	// Headers as net/http hands them to a handler: names canonicalised
	// from whatever case Nango sent.
	body := []byte(syncWebhook)
	req, err := http.ReadRequest(bufioReader("POST /webhooks/nango HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n" +
		"x-nango-signature: " + legacySign(currentKey, body) + "\r\nx-nango-hmac-sha256: " + Sign(previousKey, body) + "\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifySignature(body, req.Header, currentKey, previousKey); err != nil {
		t.Errorf("VerifySignature = %v", err)
	}
}
