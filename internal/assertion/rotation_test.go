package assertion

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse-auth/gatehouse/internal/identity"
)

func newKey(t *testing.T, curve elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// verifiesWith reports whether tok verifies against the JWKS of s.
func verifiesWith(t *testing.T, s *Signer, tok string) bool {
	t.Helper()
	parsed, set := parseWithJWKS(t, s, tok)
	keys := set.Key(parsed.Headers[0].KeyID)
	if len(keys) != 1 {
		return false
	}
	var c jwt.Claims
	return parsed.Claims(keys[0].Key, &c) == nil
}

// After a rotation the new key signs, and an assertion the old key signed
// still verifies against the new JWKS while the old key is listed as
// previous — and no longer once it is dropped.
func TestRotationKeepsThePreviousKeyPublished(t *testing.T) {
	oldKey, newKey := newKey(t, elliptic.P256()), newKey(t, elliptic.P256())
	before, err := NewWithKeys(oldKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	inFlight, _, err := before.Token("s", "https://app", "app", &identity.User{UserID: "u", Login: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	after, err := NewWithKeys(newKey, []*ecdsa.PublicKey{&oldKey.PublicKey, &newKey.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	if after.KeyID() == before.KeyID() {
		t.Fatal("the new key has the old kid")
	}
	body, etag := after.JWKS()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 2 || set.Keys[0].KeyID != after.KeyID() || set.Keys[1].KeyID != before.KeyID() {
		t.Fatalf("JWKS after the rotation: %s (want the new key, then the old, once each)", body)
	}
	if _, oldTag := before.JWKS(); oldTag == etag {
		t.Fatal("the JWKS changed but its ETag did not")
	}
	fresh, _, err := after.Token("s", "https://app", "app", &identity.User{UserID: "u", Login: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if !verifiesWith(t, after, fresh) || !verifiesWith(t, after, inFlight) {
		t.Fatal("after the rotation, the new or the in-flight assertion does not verify")
	}
	retired, err := NewWithKeys(newKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	if verifiesWith(t, retired, inFlight) {
		t.Fatal("an assertion of a dropped key still verifies")
	}
	// The same keys give the same kids and JWKS on every instance.
	twin, _ := NewWithKeys(newKey, []*ecdsa.PublicKey{&oldKey.PublicKey})
	if b2, e2 := twin.JWKS(); string(b2) != string(body) || e2 != etag {
		t.Fatal("two signers with the same keys publish different JWKS")
	}
}

func TestNewWithKeysRefusesOtherCurves(t *testing.T) {
	if _, err := NewWithKeys(newKey(t, elliptic.P384()), nil); err == nil || !strings.Contains(err.Error(), "P-256") {
		t.Fatalf("P-384 signing key: %v", err)
	}
	if _, err := NewWithKeys(newKey(t, elliptic.P256()), []*ecdsa.PublicKey{&newKey(t, elliptic.P521()).PublicKey}); err == nil {
		t.Fatal("P-521 previous key accepted")
	}
}

// pemOf encodes what marshal returns as a PEM block of typ.
func pemOf(t *testing.T, typ string, marshal func() ([]byte, error)) []byte {
	t.Helper()
	der, err := marshal()
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestParseKeys(t *testing.T) {
	k := newKey(t, elliptic.P256())
	sec1 := pemOf(t, "EC PRIVATE KEY", func() ([]byte, error) { return x509.MarshalECPrivateKey(k) })
	p8 := pemOf(t, "PRIVATE KEY", func() ([]byte, error) { return x509.MarshalPKCS8PrivateKey(k) })
	pub := pemOf(t, "PUBLIC KEY", func() ([]byte, error) { return x509.MarshalPKIXPublicKey(&k.PublicKey) })
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsa8 := pemOf(t, "PRIVATE KEY", func() ([]byte, error) { return x509.MarshalPKCS8PrivateKey(rsaKey) })
	rsaPub := pemOf(t, "PUBLIC KEY", func() ([]byte, error) { return x509.MarshalPKIXPublicKey(&rsaKey.PublicKey) })

	for _, tc := range []struct {
		name    string
		data    []byte
		private string // "" = parses; else the error contains it
		public  string
	}{
		{"PKCS #8", p8, "", ""},
		{"SEC 1", sec1, "", ""},
		{"with text around it", append(append([]byte("comment\n"), p8...), "trailer\n"...), "", ""},
		{"public key", pub, "no PEM private key", ""},
		{"RSA private key", rsa8, "not an ECDSA", "no PEM public or private key"},
		{"RSA public key", rsaPub, "no PEM private key", "not an ECDSA"},
		{"not PEM", []byte("hello"), "no PEM private key", "no PEM public or private key"},
		{"damaged", []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), "PKCS #8", "no PEM public or private key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			priv, err := ParsePrivateKey(tc.data)
			if tc.private == "" {
				if err != nil || !priv.Equal(k) {
					t.Fatalf("ParsePrivateKey: %v", err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.private) {
				t.Fatalf("ParsePrivateKey error %v, want %q", err, tc.private)
			}
			p, err := ParsePublicKey(tc.data)
			if tc.public == "" {
				if err != nil || !p.Equal(&k.PublicKey) {
					t.Fatalf("ParsePublicKey: %v", err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.public) {
				t.Fatalf("ParsePublicKey error %v, want %q", err, tc.public)
			}
		})
	}
}
