package devidp

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
)

// The methods in this file forge ID tokens the way attackers do. Each one
// suits [Provider.SetSigner]; a correct relying party must reject every
// token they make.

// SignNone returns an unsigned token: header {"alg":"none","typ":"JWT"},
// the claims, and an empty signature (RFC 7519 section 6). go-jose cannot
// produce one, which is the point, so it is assembled here; no cryptography
// is involved.
func (p *Provider) SignNone(claims map[string]any) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	if err != nil {
		return "", fmt.Errorf("encoding header: %w", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encoding claims: %w", err)
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(header) + "." + enc.EncodeToString(payload) + ".", nil
}

// SignHS256WithPublicKey returns a token signed with HMAC-SHA256 whose
// secret is the current public key in PEM form, with that key's kid: the
// algorithm confusion attack on verifiers that let the token pick the
// algorithm and hand the published key to HMAC.
func (p *Provider) SignHS256WithPublicKey(claims map[string]any) (string, error) {
	k := p.keys.signingKey()
	der, err := x509.MarshalPKIXPublicKey(k.priv.Public())
	if err != nil {
		return "", fmt.Errorf("encoding public key: %w", err)
	}
	secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.HS256, Key: secret},
		// go-jose sets no kid for symmetric keys; name the published key.
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", k.kid),
	)
	if err != nil {
		return "", fmt.Errorf("creating HS256 signer: %w", err)
	}
	return signWith(signer, claims)
}

// SignUnknownKid returns a token properly signed with the provider's
// algorithm, but by a key that is not in the JWKS, under a kid that names
// no published key. The key is generated on first use and kept.
func (p *Provider) SignUnknownKid(claims map[string]any) (string, error) {
	p.attackOnce.Do(func() {
		priv, err := generateKey(p.opts.SigningAlg)
		if err != nil {
			p.attackErr = err
			return
		}
		p.attackKey, p.attackErr = newSigningKey(p.opts.SigningAlg, priv)
	})
	if p.attackErr != nil {
		return "", fmt.Errorf("making the unpublished key: %w", p.attackErr)
	}
	return p.attackKey.sign(claims)
}

// signWith signs claims with signer and serializes the result compactly.
func signWith(signer jose.Signer, claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encoding claims: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("signing: %w", err)
	}
	token, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("serializing JWS: %w", err)
	}
	return token, nil
}
