package session

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"

	"github.com/gatehouse-auth/gatehouse/internal/keys"
)

const (
	idLen    = 32
	macLen   = 16
	rawLen   = idLen + macLen
	TokenLen = (rawLen*8 + 5) / 6 // base64url without padding: 64
)

// ErrMalformed is returned for a token that was not made by Gatehouse with
// this secret. No store call is made for such a token.
var ErrMalformed = errors.New("session: malformed token")

var b64 = base64.RawURLEncoding

// token is a parsed session token.
type token struct {
	id [idLen]byte
}

// newToken makes a fresh random token and its string form.
func newToken(ring *keys.Ring) (token, string) {
	var t token
	_, _ = rand.Read(t.id[:])
	var raw [rawLen]byte
	copy(raw[:], t.id[:])
	copy(raw[idLen:], ring.TokenMAC(t.id[:])[:macLen])
	return t, b64.EncodeToString(raw[:])
}

// parseToken checks the shape and MAC of s. It never touches the store.
func parseToken(ring *keys.Ring, s string) (token, error) {
	var t token
	if len(s) != TokenLen {
		return t, ErrMalformed
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return t, ErrMalformed
		}
	}
	var raw [rawLen]byte
	n, err := b64.Decode(raw[:], []byte(s))
	if err != nil || n != rawLen {
		return t, ErrMalformed
	}
	if !ring.CheckTokenMAC(raw[:idLen], raw[idLen:]) {
		return t, ErrMalformed
	}
	copy(t.id[:], raw[:idLen])
	return t, nil
}

// hash is the hex SHA-256 of the token's random part: the store key suffix.
func (t token) hash() string {
	sum := sha256.Sum256(t.id[:])
	return hex.EncodeToString(sum[:])
}
