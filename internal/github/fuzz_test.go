package github

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzWebhook feeds arbitrary secrets, bodies and signature headers to
// VerifySignature and arbitrary bodies to Parse. Properties: nothing
// panics; VerifySignature accepts exactly when the header is "sha256=" and
// the hex (either case) of the body's HMAC-SHA256 under a non-empty
// secret; Parse returns an event or an error, never both or neither.
func FuzzWebhook(f *testing.F) {
	f.Add([]byte(docsSecret), []byte(docsBody), docsSignature)
	f.Add([]byte(docsSecret), []byte(docsBody), "sha1=0123")
	f.Add([]byte(docsSecret), []byte(docsBody), "")
	f.Add([]byte("s"), []byte(`{"action":"created","installation":{"id":1}}`), "sha256="+strings.Repeat("0", 64))
	f.Add([]byte("s"), []byte(installationTargetRenamed), "sha256=zz")
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, file := range files {
		body, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		mac := hmac.New(sha256.New, []byte("fixture secret"))
		mac.Write(body)
		f.Add([]byte("fixture secret"), body, "sha256="+hex.EncodeToString(mac.Sum(nil)))
	}

	events := []string{EventInstallation, EventInstallationRepositories, EventInstallationTarget, EventAppAuthorization, EventPing, "push"}
	f.Fuzz(func(t *testing.T, secret, body []byte, header string) {
		err := VerifySignature(secret, body, header)

		mac := hmac.New(sha256.New, secret)
		mac.Write(body)
		want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
		valid := len(secret) > 0 && len(header) == len(want) &&
			strings.HasPrefix(header, "sha256=") && strings.EqualFold(header, want)
		if valid != (err == nil) {
			t.Fatalf("VerifySignature(%q, %q, %q) = %v; valid MAC: %v", secret, body, header, err, valid)
		}

		for _, event := range events {
			ev, err := Parse(event, body)
			if (ev == nil) == (err == nil) {
				t.Fatalf("Parse(%q) = %v, %v: want exactly one of event and error", event, ev, err)
			}
		}
	})
}
