package testsupport

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
)

// WriteECKey writes a new ECDSA P-256 private key as PKCS #8 PEM (what
// `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256` writes)
// to dir/name and returns its path and the key.
func WriteECKey(tb testing.TB, dir, name string) (string, *ecdsa.PrivateKey) {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path, k
}
