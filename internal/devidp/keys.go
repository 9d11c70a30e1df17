package devidp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"net/http"
	"sync"

	jose "github.com/go-jose/go-jose/v4"
)

// rsaKeyBits is the size of generated RSA keys.
const rsaKeyBits = 2048

// signingKey is one ID token signing key.
type signingKey struct {
	kid    string
	alg    string
	priv   crypto.Signer
	signer jose.Signer
}

// keyring holds the current signing key and the retired ones still
// published in the JWKS. It is safe for concurrent use.
type keyring struct {
	alg string

	mu      sync.Mutex
	current *signingKey
	old     []*signingKey // retired, newest first
}

// generateKey makes a new private key for alg.
func generateKey(alg string) (crypto.Signer, error) {
	switch alg {
	case RS256:
		k, err := rsa.GenerateKey(rand.Reader, rsaKeyBits)
		if err != nil {
			return nil, fmt.Errorf("generating RSA key: %w", err)
		}
		return k, nil
	case ES256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generating P-256 key: %w", err)
		}
		return k, nil
	}
	return nil, fmt.Errorf("signing algorithm %q is not supported", alg)
}

// newSigningKey wraps priv, which must suit alg, in a signer whose key ID is
// the RFC 7638 thumbprint of its public key.
func newSigningKey(alg string, priv crypto.Signer) (*signingKey, error) {
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		if alg != RS256 {
			return nil, fmt.Errorf("an RSA key cannot sign %s", alg)
		}
		if k.N.BitLen() < rsaKeyBits {
			return nil, fmt.Errorf("RSA key has %d bits; at least %d are required", k.N.BitLen(), rsaKeyBits)
		}
	case *ecdsa.PrivateKey:
		if alg != ES256 || k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("an ECDSA %s key cannot sign %s", k.Curve.Params().Name, alg)
		}
	default:
		return nil, fmt.Errorf("unsupported signing key type %T", priv)
	}
	pub := jose.JSONWebKey{Key: priv.Public(), Algorithm: alg, Use: "sig"}
	thumb, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("computing key thumbprint: %w", err)
	}
	kid := base64.RawURLEncoding.EncodeToString(thumb)
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: jose.JSONWebKey{Key: priv, KeyID: kid, Algorithm: alg}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return nil, fmt.Errorf("creating %s signer: %w", alg, err)
	}
	return &signingKey{kid: kid, alg: alg, priv: priv, signer: signer}, nil
}

// publicJWK is k's public half as published in the JWKS.
func (k *signingKey) publicJWK() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: k.alg, Use: "sig"}
}

// sign serializes claims as a compact JWS signed with k.
func (k *signingKey) sign(claims map[string]any) (string, error) {
	token, err := signWith(k.signer, claims)
	if err != nil {
		return "", fmt.Errorf("key %s: %w", k.kid, err)
	}
	return token, nil
}

// newKeyring returns a keyring whose current key is priv, or a fresh key
// when priv is nil.
func newKeyring(alg string, priv crypto.Signer) (*keyring, error) {
	if priv == nil {
		var err error
		if priv, err = generateKey(alg); err != nil {
			return nil, err
		}
	}
	k, err := newSigningKey(alg, priv)
	if err != nil {
		return nil, err
	}
	return &keyring{alg: alg, current: k}, nil
}

// signingKey returns the current key.
func (r *keyring) signingKey() *signingKey {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.current
}

// all returns the current key followed by the retired ones.
func (r *keyring) all() []*signingKey {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*signingKey{r.current}, r.old...)
}

// rotate makes a fresh key current and retires the previous one.
func (r *keyring) rotate() (*signingKey, error) {
	priv, err := generateKey(r.alg)
	if err != nil {
		return nil, err
	}
	k, err := newSigningKey(r.alg, priv)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.old = append([]*signingKey{r.current}, r.old...)
	r.current = k
	return k, nil
}

// dropOld stops publishing the retired keys.
func (r *keyring) dropOld() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.old = nil
}

// RotateKeys makes a freshly generated key the signing key and returns its
// key ID. The previous key stays in the JWKS, so tokens it signed still
// verify, until [Provider.DropOldKeys].
func (p *Provider) RotateKeys() (kid string, err error) {
	k, err := p.keys.rotate()
	if err != nil {
		return "", fmt.Errorf("rotating signing key: %w", err)
	}
	p.log.Info("devidp: rotated signing key", "kid", k.kid)
	return k.kid, nil
}

// DropOldKeys removes every key but the current one from the JWKS, so
// tokens signed before [Provider.RotateKeys] no longer verify.
func (p *Provider) DropOldKeys() {
	p.keys.dropOld()
}

// KeyID returns the key ID ("kid") of the current signing key.
func (p *Provider) KeyID() string {
	return p.keys.signingKey().kid
}

// JWKS returns the published key set: the current signing key first, then
// the retired keys not yet dropped.
func (p *Provider) JWKS() jose.JSONWebKeySet {
	var set jose.JSONWebKeySet
	for _, k := range p.keys.all() {
		set.Keys = append(set.Keys, k.publicJWK())
	}
	return set
}

// serveJWKS serves the public keys.
func (p *Provider) serveJWKS(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	jsonOut.Write(w, http.StatusOK, p.JWKS())
}
