package nango

import (
	"bufio"
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// bufioReader wraps s for http.ReadRequest.
func bufioReader(s string) *bufio.Reader {
	return bufio.NewReader(strings.NewReader(s))
}

func FuzzParseWebhook(f *testing.F) {
	for _, s := range []string{authCreationWebhook, appOverrideWebhook, refreshFailureWebhook, syncWebhook, forwardWebhook, githubInstallationBody, `{}`, `[]`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		w, err := ParseWebhook(body)
		if err != nil {
			if w != nil {
				t.Fatal("non-nil webhook with an error")
			}
			return
		}
		if w == nil {
			t.Fatal("nil webhook without an error")
		}
		if b := bytes.TrimLeft(body, " \t\r\n"); len(b) == 0 || b[0] != '{' {
			t.Fatalf("accepted a non-object %q", body)
		}
		_ = w.EndUserID()
	})
}

func FuzzVerifySignature(f *testing.F) {
	body := []byte(authCreationWebhook)
	f.Add(body, Sign(currentKey, body), "", currentKey, previousKey)
	f.Add(body, strings.ToUpper(Sign(previousKey, body)), legacySign(previousKey, body), currentKey, previousKey)
	f.Add(body, "", legacySign(currentKey, body), currentKey, []byte(nil))
	f.Add([]byte{}, "zz", "", []byte{}, []byte{})
	f.Fuzz(func(t *testing.T, body []byte, sig, legacy string, key1, key2 []byte) {
		h := http.Header{}
		if sig != "" {
			h[SignatureHeader] = []string{sig}
		}
		if legacy != "" {
			h[LegacySignatureHeader] = []string{legacy}
		}
		err := VerifySignature(body, h, key1, key2)
		if err == nil {
			s := strings.TrimSpace(sig)
			ok1 := len(key1) > 0 && strings.EqualFold(s, Sign(key1, body))
			ok2 := len(key2) > 0 && strings.EqualFold(s, Sign(key2, body))
			if !ok1 && !ok2 {
				t.Fatalf("accepted signature %q that matches no key", sig)
			}
		}
		// A correct signature always verifies.
		for _, key := range [][]byte{key1, key2} {
			if len(key) == 0 {
				continue
			}
			good := http.Header{SignatureHeader: {Sign(key, body)}}
			if err := VerifySignature(body, good, key1, key2); err != nil {
				t.Fatalf("correct signature refused: %v", err)
			}
		}
	})
}
