package fakeoauth

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// ---- id_tokens ----

// idToken signs an id_token (RS256) for gitlab and microsoft.
func (f *OAuth2Fake) idToken(base, clientID, tenant, nonce, scope string, u OAuth2FakeUser) string {
	now := time.Now()
	claims := map[string]any{"sub": u.ID, "aud": clientID, "iat": now.Unix()}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	switch f.kind {
	case "gitlab":
		claims["iss"] = base
		claims["exp"] = now.Add(2 * time.Minute).Unix()
		claims["auth_time"] = now.Unix()
		claims["sub_legacy"] = o2Hash("legacy", u.ID, 64)
		if o2HasScope(scope, "email") {
			claims["email"], claims["email_verified"] = u.Email, u.EmailVerified
		}
	case "microsoft":
		tid := o2TenantID(tenant)
		claims["ver"] = "2.0"
		claims["iss"] = base + "/" + tid + "/v2.0"
		claims["nbf"] = now.Unix()
		claims["exp"] = now.Add(time.Hour).Unix()
		claims["tid"] = tid
		claims["oid"] = o2UUID(o2Hash("oid", u.ID, 32))
		if o2HasScope(scope, "profile") {
			claims["name"], claims["preferred_username"] = u.Name, u.Login
		}
		if o2HasScope(scope, "email") && u.Email != "" {
			claims["email"] = u.Email
			// The optional claim xms_edov, as when the app registration
			// asks for it: true only for a verified domain owner.
			claims["xms_edov"] = u.EmailVerified
		}
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: f.key, KeyID: f.keyID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		panic("fakeoauth: id_token signer: " + err.Error())
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		panic("fakeoauth: signing the id_token: " + err.Error())
	}
	return raw
}

// serveKeys serves the JWKS of the id_token key.
func (f *OAuth2Fake) serveKeys(w http.ResponseWriter) {
	if f.key == nil {
		o2JSON(w, http.StatusNotFound, map[string]string{"error": "not found"})
		return
	}
	o2JSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: f.key.Public(), KeyID: f.keyID, Algorithm: string(jose.RS256), Use: "sig",
	}}})
}

// ---- helpers ----

// o2Hash derives a stable hex string of n characters from parts.
func o2Hash(parts ...any) string {
	n := parts[len(parts)-1].(int)
	h := sha256.New()
	for _, p := range parts[:len(parts)-1] {
		fmt.Fprint(h, p, "\x00")
	}
	s := hex.EncodeToString(h.Sum(nil))
	for len(s) < n {
		s += s
	}
	return s[:n]
}

// o2UUID formats 32 hex characters as a UUID.
func o2UUID(h string) string {
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// o2Num sends a numeric id as a JSON number (a non-numeric one as a
// string).
func o2Num(id string) any {
	if n, err := strconv.ParseInt(id, 10, 64); err == nil {
		return n
	}
	return id
}
