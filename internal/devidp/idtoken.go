package devidp

import (
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// idTokenClaims returns the claims of an ID token for user under grant g,
// issued with the access token access at now.
func (p *Provider) idTokenClaims(g *grant, user User, scopes []string, access, nonce string, now time.Time) map[string]any {
	claims := user.claims(scopes)
	claims["iss"] = p.issuer
	claims["aud"] = g.clientID
	claims["azp"] = g.clientID
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(p.opts.TokenTTL).Unix()
	claims["auth_time"] = g.authTime.Unix()
	if g.sid != "" {
		claims["sid"] = g.sid
	}
	if nonce != "" {
		claims["nonce"] = nonce
	} else {
		delete(claims, "nonce")
	}
	// at_hash: left half of the SHA-256 of the access token (OIDC Core 3.1.3.6);
	// both RS256 and ES256 use SHA-256.
	sum := sha256.Sum256([]byte(access))
	claims["at_hash"] = base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
	return claims
}

// signIDToken applies the claim mutation hooks to claims and signs them
// with the current key, or with the signer set by SetSigner.
func (p *Provider) signIDToken(claims map[string]any) (string, error) {
	p.mu.Lock()
	every := p.hooks.mutateEvery
	var next ClaimsFunc
	if len(p.hooks.mutateNext) > 0 {
		next = p.hooks.mutateNext[0]
		p.hooks.mutateNext = p.hooks.mutateNext[1:]
	}
	signer := p.hooks.signer
	p.mu.Unlock()

	if every != nil {
		every(claims)
	}
	if next != nil {
		next(claims)
	}
	if signer != nil {
		return signer(claims)
	}
	return p.keys.signingKey().sign(claims)
}

// SignIDToken signs claims as an ID token with the current signing key,
// exactly as the token endpoint would but without the mutation hooks or a
// replaced signer. Tests can use it to mint tokens with arbitrary claims.
func (p *Provider) SignIDToken(claims map[string]any) (string, error) {
	return p.keys.signingKey().sign(claims)
}
