package github

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
)

// appKey returns the RSA key shared by the tests.
func appKey(testing.TB) *rsa.PrivateKey { return testsupport.RSAKey() }

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestParseAppAccepts(t *testing.T) {
	key := appKey(t)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key))
	tests := []struct {
		name string
		pem  []byte
	}{
		{"PKCS#1 as GitHub issues it", pkcs1},
		{"PKCS#8", pemBlock("PRIVATE KEY", pkcs8)},
		{"after a certificate block", append(pemBlock("CERTIFICATE", []byte("x")), pkcs1...)},
		{"with surrounding text", append(append([]byte("my key:\n"), pkcs1...), "\n"...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, err := ParseApp("12345", tt.pem)
			if err != nil {
				t.Fatal(err)
			}
			if app.ID != "12345" {
				t.Errorf("ID = %q", app.ID)
			}
		})
	}
}

func TestParseAppRejects(t *testing.T) {
	key := appKey(t)
	pkcs1 := x509.MarshalPKCS1PrivateKey(key)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecPKCS8, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecSEC1, _ := x509.MarshalECPrivateKey(ec)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}, Bytes: pkcs1})
	corrupt := pemBlock("RSA PRIVATE KEY", pkcs1[:len(pkcs1)/2])

	tests := []struct {
		name, id string
		pem      []byte
		wantErr  string
	}{
		{"empty ID", "", pemBlock("RSA PRIVATE KEY", pkcs1), "app ID is empty"},
		{"ID with space", "12 34", pemBlock("RSA PRIVATE KEY", pkcs1), "spaces"},
		{"empty key", "1", nil, "no PEM block"},
		{"not PEM", "1", []byte("-----BEGIN NOTHING"), "no PEM block"},
		{"public key only", "1", pemBlock("PUBLIC KEY", []byte("x")), `no private key among the PEM blocks (found "PUBLIC KEY")`},
		{"EC PKCS#8", "1", pemBlock("PRIVATE KEY", ecPKCS8), "not RSA"},
		{"EC SEC1", "1", pemBlock("EC PRIVATE KEY", ecSEC1), `"EC PRIVATE KEY" is not an RSA key`},
		{"1024-bit", "1", pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(small)), "1024 bits"},
		{"encrypted", "1", encrypted, "encrypted"},
		{"encrypted PKCS#8", "1", pemBlock("ENCRYPTED PRIVATE KEY", []byte("x")), "encrypted"},
		{"corrupt DER", "1", corrupt, "malformed RSA PRIVATE KEY block"},
		{"PKCS#1 labelled PKCS#8", "1", pemBlock("PRIVATE KEY", pkcs1), "malformed PRIVATE KEY block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseApp(tt.id, tt.pem)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not say %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "MII") || len(err.Error()) > 300 {
				t.Errorf("error may echo key material: %q", err)
			}
		})
	}
}

func TestAppJWT(t *testing.T) {
	key := appKey(t)
	app, err := ParseApp("987", pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	raw, err := app.JWT(now)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	if h := tok.Headers[0]; h.Algorithm != "RS256" || h.ExtraHeaders["typ"] != "JWT" {
		t.Errorf("header alg %q typ %v, want RS256 JWT", h.Algorithm, h.ExtraHeaders["typ"])
	}
	var claims jwt.Claims
	if err := tok.Claims(&key.PublicKey, &claims); err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	if claims.Issuer != "987" {
		t.Errorf("iss = %q, want 987", claims.Issuer)
	}
	if got := claims.IssuedAt.Time(); !got.Equal(now.Add(-60 * time.Second)) {
		t.Errorf("iat = %v, want now-60s", got)
	}
	if got := claims.Expiry.Time(); !got.Equal(now.Add(9 * time.Minute)) {
		t.Errorf("exp = %v, want now+9m", got)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	if err := tok.Claims(&other.PublicKey, &claims); err == nil {
		t.Error("verified with another key")
	}
}
