package devidp

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
)

// header decodes a compact JWT's header.
func header(t *testing.T, token string) map[string]any {
	t.Helper()
	h, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatalf("decoding header: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestJWKS(t *testing.T) {
	t.Parallel()
	srv := startIdP(t, nil)
	resp := get(t, srv.URL+"/jwks")
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("%d keys, want 1", len(set.Keys))
	}
	k := set.Keys[0]
	if k.KeyID != srv.Provider.KeyID() || k.Use != "sig" || k.Algorithm != RS256 || !k.IsPublic() {
		t.Errorf("key = kid %q use %q alg %q public %v", k.KeyID, k.Use, k.Algorithm, k.IsPublic())
	}
	if _, ok := k.Key.(*rsa.PublicKey); !ok {
		t.Errorf("key type %T", k.Key)
	}
}

// TestKeyRotation checks that tokens signed before RotateKeys still verify
// until DropOldKeys.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	srv, r := aliceApp(t)
	oldToken := idToken(t, r.login(t, srv, newFlow()))
	oldKid := srv.Provider.KeyID()
	if _, err := r.verifier.Verify(context.Background(), oldToken); err != nil {
		t.Fatal(err)
	}

	newKid, err := srv.Provider.RotateKeys()
	if err != nil {
		t.Fatal(err)
	}
	if newKid == oldKid || srv.Provider.KeyID() != newKid || len(srv.Provider.JWKS().Keys) != 2 {
		t.Fatalf("after rotation: kid %q (was %q), %d keys", newKid, oldKid, len(srv.Provider.JWKS().Keys))
	}
	newToken := idToken(t, r.login(t, srv, newFlow()))
	if got := header(t, newToken)["kid"]; got != newKid {
		t.Errorf("new token kid = %v, want %s", got, newKid)
	}
	// The relying party fetches the new key on seeing its unknown kid.
	if _, err := r.verifier.Verify(context.Background(), newToken); err != nil {
		t.Errorf("new token: %v", err)
	}
	fresh := appRP(t, srv) // no cached keys
	for name, tok := range map[string]string{"old": oldToken, "new": newToken} {
		if _, err := fresh.verifier.Verify(context.Background(), tok); err != nil {
			t.Errorf("%s token with a fresh key set: %v", name, err)
		}
	}

	srv.Provider.DropOldKeys()
	if len(srv.Provider.JWKS().Keys) != 1 {
		t.Fatalf("%d keys after DropOldKeys", len(srv.Provider.JWKS().Keys))
	}
	fresh = appRP(t, srv)
	if _, err := fresh.verifier.Verify(context.Background(), oldToken); err == nil {
		t.Error("old token still verifies after DropOldKeys")
	}
	if _, err := fresh.verifier.Verify(context.Background(), newToken); err != nil {
		t.Errorf("new token after DropOldKeys: %v", err)
	}
}

// TestAttackSigners checks that go-oidc rejects every forged token.
func TestAttackSigners(t *testing.T) {
	t.Parallel()
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range []string{RS256, ES256} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			srv := startIdP(t, func(o *Options) {
				o.SigningAlg = alg
				if alg == ES256 {
					o.Key = ecKey
				}
			})
			p := srv.Provider
			_ = p.SetAutoLogin("alice")
			r := appRP(t, srv)
			tests := []struct {
				name    string
				signer  SignerFunc
				wantAlg string
				wantErr bool
			}{
				{"control: normal signing", nil, alg, false},
				{"alg none", p.SignNone, "none", true},
				{"HS256 with the public key", p.SignHS256WithPublicKey, "HS256", true},
				{"unknown kid", p.SignUnknownKid, alg, true},
			}
			for _, tc := range tests {
				p.SetSigner(tc.signer)
				raw := idToken(t, r.login(t, srv, newFlow()))
				h := header(t, raw)
				if h["alg"] != tc.wantAlg {
					t.Errorf("%s: alg = %v, want %s", tc.name, h["alg"], tc.wantAlg)
				}
				_, err := r.verifier.Verify(context.Background(), raw)
				if (err != nil) != tc.wantErr {
					t.Errorf("%s: Verify error = %v, want error %v", tc.name, err, tc.wantErr)
				}
				// A verifier pinned to the provider's algorithm rejects them too.
				pinned := r.provider.Verifier(&oidc.Config{ClientID: appID, SupportedSigningAlgs: []string{alg}})
				if _, err := pinned.Verify(context.Background(), raw); (err != nil) != tc.wantErr {
					t.Errorf("%s: pinned Verify error = %v", tc.name, err)
				}
			}
			if hs := header(t, mustSign(t, p.SignHS256WithPublicKey))["kid"]; hs != p.KeyID() {
				t.Errorf("HS256 forgery kid = %v, want the published %s", hs, p.KeyID())
			}
			if kid := header(t, mustSign(t, p.SignUnknownKid))["kid"]; kid == p.KeyID() || kid == "" {
				t.Errorf("unknown-kid forgery kid = %v", kid)
			}
		})
	}
}

func mustSign(t *testing.T, sign SignerFunc) string {
	t.Helper()
	tok, err := sign(map[string]any{"sub": "x"})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestSigningKeyOptions(t *testing.T) {
	t.Parallel()
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	tests := []struct {
		name    string
		alg     string
		key     any
		wantErr bool
	}{
		{"RS256 with RSA", RS256, testKey(t), false},
		{"ES256 with P-256", ES256, ecKey, false},
		{"ES256 generated", ES256, nil, false},
		{"RS256 with EC", RS256, ecKey, true},
		{"ES256 with RSA", ES256, testKey(t), true},
		{"ES256 with P-384", ES256, p384, true},
		{"RSA 1024", RS256, small, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{Issuer: "http://127.0.0.1:9", SigningAlg: tc.alg}
			switch k := tc.key.(type) {
			case *rsa.PrivateKey:
				opts.Key = k
			case *ecdsa.PrivateKey:
				opts.Key = k
			}
			_, err := New(opts)
			if (err != nil) != tc.wantErr {
				t.Errorf("New: %v, want error %v", err, tc.wantErr)
			}
		})
	}
}
