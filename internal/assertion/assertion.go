// Package assertion signs the X-Auth-Jwt identity assertion Gatehouse
// sends upstream, and publishes the keys that verify it (JWKS).
//
// The ES256 signing key is derived from the operator's secret, or loaded
// from a PEM file, so every instance with the same configuration signs
// with the same key (and kid) and any of them can serve the JWKS. Keys
// retired by a rotation stay in the JWKS until the operator drops them.
package assertion

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse-auth/gatehouse/internal/identity"
)

// Lifetime of an assertion. SPEC: at most five minutes.
const Lifetime = 5 * time.Minute

// ReuseMargin: a cached assertion is reused while it has more than this
// long left — for its first minute — so an upstream always receives one
// with at least four minutes to go.
const ReuseMargin = 4 * time.Minute

// Signer signs assertions and serves the JWKS.
type Signer struct {
	key    *ecdsa.PrivateKey
	kid    string
	signer jose.Signer
	jwks   []byte
	etag   string
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]cachedJWT
}

type cachedJWT struct {
	token            string
	expires          time.Time
	issuer, audience string
	user             identity.User
	extra            []string
}

// same reports whether e was signed for exactly this identity.
func (e *cachedJWT) same(issuer, audience string, u *identity.User, extra []string) bool {
	return e.issuer == issuer && e.audience == audience && e.user.Equal(u) && slices.Equal(e.extra, extra)
}

// registered are the assertion's own claims, which extra claims never
// replace.
var registered = []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti"}

// maxCached bounds the per-session assertion cache.
const maxCached = 100_000

// New derives the signing key from secret.
func New(secret string) (*Signer, error) {
	key, err := DeriveKey(secret)
	if err != nil {
		return nil, err
	}
	return NewWithKeys(key, nil)
}

// NewWithKeys signs with key and publishes previous besides it in the
// JWKS, so that assertions signed before a key rotation keep verifying
// until they expire. Key ids are derived from the public keys, so every
// instance given the same keys publishes the same kids.
func NewWithKeys(key *ecdsa.PrivateKey, previous []*ecdsa.PublicKey) (*Signer, error) {
	if key.Curve != elliptic.P256() {
		return nil, fmt.Errorf("assertion: the signing key must be on P-256 (ES256), not %s", key.Curve.Params().Name)
	}
	kid, err := keyID(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("assertion: creating the signer: %w", err)
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: kid, Algorithm: string(jose.ES256), Use: "sig"}}}
	for _, pub := range previous {
		if pub.Curve != elliptic.P256() {
			return nil, fmt.Errorf("assertion: a previous key must be on P-256 (ES256), not %s", pub.Curve.Params().Name)
		}
		pkid, err := keyID(pub)
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(set.Keys, func(k jose.JSONWebKey) bool { return k.KeyID == pkid }) {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: pub, KeyID: pkid, Algorithm: string(jose.ES256), Use: "sig"})
		}
	}
	jwks, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("assertion: encoding the JWKS: %w", err)
	}
	etag := sha256.Sum256(jwks)
	return &Signer{
		key: key, kid: kid, signer: signer, jwks: jwks,
		etag: `"` + base64.RawURLEncoding.EncodeToString(etag[:12]) + `"`,
		now:  time.Now, cache: map[string]cachedJWT{},
	}, nil
}

// keyID names a public key: the first 96 bits of the SHA-256 of its
// uncompressed point.
func keyID(pub *ecdsa.PublicKey) (string, error) {
	raw, err := pub.Bytes()
	if err != nil {
		return "", fmt.Errorf("assertion: encoding the public key: %w", err)
	}
	sum := sha256.Sum256(raw)
	return base64.RawURLEncoding.EncodeToString(sum[:12]), nil
}

// DeriveKey turns secret into a P-256 private key with HKDF-SHA256,
// trying the next counter in the (negligible) case the bytes are not a
// valid scalar.
func DeriveKey(secret string) (*ecdsa.PrivateKey, error) {
	for i := 0; i < 16; i++ {
		raw, err := hkdf.Key(sha256.New, []byte(secret), []byte("gatehouse/v1"), fmt.Sprintf("assertion-es256/%d", i), 32)
		if err != nil {
			return nil, fmt.Errorf("assertion: deriving the key: %w", err)
		}
		if key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), raw); err == nil {
			return key, nil
		}
	}
	return nil, fmt.Errorf("assertion: no valid key derived from the secret")
}

// KeyID returns the kid of the signing key.
func (s *Signer) KeyID() string { return s.kid }

// JWKS returns the JSON Web Key Set and its entity tag.
func (s *Signer) JWKS() ([]byte, string) { return s.jwks, s.etag }

// Token returns an assertion of u (its id in sub, every other field that
// is set as a claim) for audience (the request host), issued by issuer,
// and its expiry; extra ("name=value", a trusted issuer's claims passed
// on) adds claims that take no name of the assertion's own. cacheKey
// identifies the session; an assertion is signed once, reused for a
// minute, and signed again at once when the identity changes.
func (s *Signer) Token(cacheKey, issuer, audience string, u *identity.User, extra ...string) (string, time.Time, error) {
	now := s.now()
	s.mu.Lock()
	if e, ok := s.cache[cacheKey]; ok && e.expires.Sub(now) > ReuseMargin && e.same(issuer, audience, u, extra) {
		s.mu.Unlock()
		return e.token, e.expires, nil
	}
	s.mu.Unlock()

	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	exp := now.Add(Lifetime)
	std := jwt.Claims{
		Issuer:   issuer,
		Audience: jwt.Audience{audience},
		Subject:  u.UserID,
		IssuedAt: jwt.NewNumericDate(now),
		Expiry:   jwt.NewNumericDate(exp),
		ID:       base64.RawURLEncoding.EncodeToString(jti),
	}
	claims := u.Claims()
	for _, kv := range extra {
		name, v, _ := strings.Cut(kv, "=")
		if _, taken := claims[name]; !taken && !slices.Contains(registered, name) {
			claims[name] = v
		}
	}
	tok, err := jwt.Signed(s.signer).Claims(std).Claims(claims).Serialize()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("assertion: signing: %w", err)
	}
	s.mu.Lock()
	if len(s.cache) >= maxCached {
		for key, e := range s.cache {
			if len(s.cache) < maxCached*9/10 && e.expires.After(now) {
				break
			}
			delete(s.cache, key)
		}
	}
	s.cache[cacheKey] = cachedJWT{token: tok, expires: exp, issuer: issuer, audience: audience, user: *u, extra: extra}
	s.mu.Unlock()
	return tok, exp, nil
}
