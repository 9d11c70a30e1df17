package fakegoogle

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// googleKey is an RS256 signing key.
type googleKey struct {
	kid  string
	priv *rsa.PrivateKey
}

// newGoogleKey makes a 2048-bit RSA key with a kid of 40 hex digits, the
// shape of Google's.
func newGoogleKey() *googleKey {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic("fakegoogle: generating an RSA key: " + err.Error())
	}
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic("fakegoogle: crypto/rand: " + err.Error())
	}
	return &googleKey{kid: hex.EncodeToString(b), priv: priv}
}

// googleKeys are the fake's keys.
type googleKeys struct {
	current   *googleKey
	published []*googleKey // retired keys still in the JWKS, newest first
	retired   *googleKey   // the key the last rotation retired (kept after DropOldKeys)
	stray     *googleKey   // never published; made on first use
}

// rotate makes k current, retiring the current key.
func (ks *googleKeys) rotate(k *googleKey) {
	ks.published = append([]*googleKey{ks.current}, ks.published...)
	ks.retired = ks.current
	ks.current = k
}

// jwks is the published key set: the signing key first.
func (ks *googleKeys) jwks() jose.JSONWebKeySet {
	var set jose.JSONWebKeySet
	for _, k := range append([]*googleKey{ks.current}, ks.published...) {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.priv.PublicKey, KeyID: k.kid, Algorithm: "RS256", Use: "sig"})
	}
	return set
}

// serveJWKS serves the public keys with Google's caching headers.
func (g *Google) serveJWKS(w http.ResponseWriter, r *http.Request) {
	if !googleAllow(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	g.mu.Lock()
	set := g.keys.jwks()
	now := g.Now()
	g.mu.Unlock()
	const maxAge = 21600
	w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d, must-revalidate, no-transform", maxAge))
	w.Header().Set("Expires", now.Add(maxAge*time.Second).UTC().Format(http.TimeFormat))
	googleJSON.Write(w, http.StatusOK, set)
}

// googleSplitName derives given_name and family_name from a display name.
func googleSplitName(name string) (given, family string) {
	given, family, _ = strings.Cut(strings.TrimSpace(name), " ")
	return given, strings.TrimSpace(family)
}

// googleHasScope reports whether scopes grants s ("email" or "profile"),
// in the short or the URL form.
func googleHasScope(scopes []string, s string) bool {
	for _, v := range scopes {
		if v == s || v == "https://www.googleapis.com/auth/userinfo."+s {
			return true
		}
	}
	return false
}

// googleUserClaims are the claims about u that scopes release, shared by
// id_tokens and UserInfo.
func googleUserClaims(u GoogleUser, scopes []string) map[string]any {
	c := map[string]any{"sub": u.Sub}
	if u.HD != "" {
		c["hd"] = u.HD
	}
	if googleHasScope(scopes, "email") && u.Email != "" {
		c["email"] = u.Email
		if u.EmailVerified != nil {
			c["email_verified"] = u.EmailVerified
		}
	}
	if googleHasScope(scopes, "profile") {
		if u.Name != "" {
			c["name"] = u.Name
			given, family := googleSplitName(u.Name)
			if given != "" {
				c["given_name"] = given
			}
			if family != "" {
				c["family_name"] = family
			}
		}
		if u.Picture != "" {
			c["picture"] = u.Picture
		}
	}
	return c
}

// googleSigning is how one id_token gets signed, taken under g.mu.
type googleSigning struct {
	mode   string // "" or a GoogleSign… mode
	mutate func(map[string]any)
	key    *googleKey // the key for mode "" and "old-key", or the stray key
	pub    *googleKey // the current key, for "none" and "hs256-public"
}

// idTokenClaims builds the claims of an id_token for u issued to clientID
// with access token access, and takes the pending hooks; g.mu is held.
func (g *Google) idTokenClaims(u GoogleUser, clientID string, scopes []string, nonce, access string) (map[string]any, googleSigning) {
	now := g.Now()
	c := googleUserClaims(u, scopes)
	iss := g.URL
	if g.shortIssuer {
		iss = g.Alias()
	}
	c["iss"] = iss
	c["azp"] = clientID
	c["aud"] = clientID
	sum := sha256.Sum256([]byte(access))
	c["at_hash"] = base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
	if nonce != "" {
		c["nonce"] = nonce
	}
	c["iat"] = now.Unix()
	c["exp"] = now.Add(GoogleIDTokenLifetime).Unix()

	s := googleSigning{key: g.keys.current, pub: g.keys.current}
	if len(g.mutateNext) > 0 {
		s.mutate, g.mutateNext = g.mutateNext[0], g.mutateNext[1:]
	}
	if len(g.signNext) > 0 {
		s.mode, g.signNext = g.signNext[0], g.signNext[1:]
	}
	switch s.mode {
	case GoogleSignOldKey:
		if g.keys.retired == nil {
			panic("fakegoogle: fake Google: SignNextWith(\"old-key\") before any RotateKeys")
		}
		s.key = g.keys.retired
	case GoogleSignUnknownKid:
		if g.keys.stray == nil {
			g.keys.stray = newGoogleKey()
		}
		s.key = g.keys.stray
	}
	return c, s
}

// sign applies the mutation and signs claims as s says.
func (s googleSigning) sign(claims map[string]any) (string, error) {
	if s.mutate != nil {
		s.mutate(claims)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encoding claims: %w", err)
	}
	switch s.mode {
	case GoogleSignNone:
		header, _ := json.Marshal(map[string]string{"alg": "none", "kid": s.pub.kid, "typ": "JWT"})
		enc := base64.RawURLEncoding
		return enc.EncodeToString(header) + "." + enc.EncodeToString(payload) + ".", nil
	case GoogleSignHS256Public:
		der, err := x509.MarshalPKIXPublicKey(&s.pub.priv.PublicKey)
		if err != nil {
			return "", fmt.Errorf("encoding public key: %w", err)
		}
		secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret},
			(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", s.pub.kid))
		if err != nil {
			return "", fmt.Errorf("creating HS256 signer: %w", err)
		}
		return googleCompact(signer, payload)
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: s.key.priv, KeyID: s.key.kid, Algorithm: "RS256"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("creating RS256 signer: %w", err)
	}
	return googleCompact(signer, payload)
}

// googleCompact signs payload and serializes the JWS compactly.
func googleCompact(signer jose.Signer, payload []byte) (string, error) {
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("signing: %w", err)
	}
	return jws.CompactSerialize()
}
