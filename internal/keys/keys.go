// Package keys derives Gatehouse's symmetric keys from the operator's secret.
//
// Every instance configured with the same secret derives the same keys, so
// sessions, login state and CSRF tokens made by one instance are accepted by
// all the others that share a store.
//
// A ring may also hold the keys of previous secrets (secret rotation):
// what it makes, it makes with the current secret's keys, and what it
// checks or opens, it accepts from any of them.
package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
)

// MinSecretLen is the shortest secret Gatehouse accepts, in bytes.
const MinSecretLen = 32

// Ring holds the keys derived from the current secret and from any
// previous ones. It is safe for concurrent use.
type Ring struct {
	generation
	previous []generation
}

// generation is the keys derived from one secret.
type generation struct {
	tokenMAC []byte
	csrfMAC  []byte
	aead     cipher.AEAD
}

// Derive expands secret into a key ring with HKDF-SHA256, one key per
// purpose, that also accepts what the previous secrets made.
func Derive(secret string, previous ...string) (*Ring, error) {
	g, err := derive(secret)
	if err != nil {
		return nil, err
	}
	r := &Ring{generation: g}
	for i, p := range previous {
		if p == secret {
			return nil, fmt.Errorf("previous secret %d is the current secret", i+1)
		}
		pg, err := derive(p)
		if err != nil {
			return nil, fmt.Errorf("previous secret %d: %w", i+1, err)
		}
		r.previous = append(r.previous, pg)
	}
	return r, nil
}

func derive(secret string) (generation, error) {
	if len(secret) < MinSecretLen {
		return generation{}, fmt.Errorf("secret is %d bytes; it must be at least %d (generate one with: openssl rand -base64 48)", len(secret), MinSecretLen)
	}
	key := func(purpose string) ([]byte, error) {
		return hkdf.Key(sha256.New, []byte(secret), []byte("gatehouse/v1"), purpose, 32)
	}
	tokenKey, err := key("session-token-mac")
	if err != nil {
		return generation{}, fmt.Errorf("deriving token key: %w", err)
	}
	csrfKey, err := key("csrf-mac")
	if err != nil {
		return generation{}, fmt.Errorf("deriving csrf key: %w", err)
	}
	encKey, err := key("store-encryption")
	if err != nil {
		return generation{}, fmt.Errorf("deriving encryption key: %w", err)
	}
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return generation{}, fmt.Errorf("creating cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return generation{}, fmt.Errorf("creating AEAD: %w", err)
	}
	return generation{tokenMAC: tokenKey, csrfMAC: csrfKey, aead: aead}, nil
}

// TokenMAC returns HMAC-SHA256 of data under the current session-token key.
func (r *Ring) TokenMAC(data []byte) []byte { return mac(r.tokenMAC, data) }

// CheckTokenMAC reports, in constant time for each key, whether got is
// (a prefix of at least 16 bytes of) the session-token MAC of data under
// the current key or a previous one.
func (r *Ring) CheckTokenMAC(data, got []byte) bool {
	return r.check(data, got, func(g generation) []byte { return g.tokenMAC })
}

// CSRFMAC returns HMAC-SHA256 of data under the current CSRF key.
func (r *Ring) CSRFMAC(data []byte) []byte { return mac(r.csrfMAC, data) }

// CheckCSRFMAC is CheckTokenMAC for the CSRF keys.
func (r *Ring) CheckCSRFMAC(data, got []byte) bool {
	return r.check(data, got, func(g generation) []byte { return g.csrfMAC })
}

// minMAC is the shortest MAC prefix check accepts, in bytes.
const minMAC = 16

func (r *Ring) check(data, got []byte, key func(generation) []byte) bool {
	if len(got) < minMAC || len(got) > sha256.Size {
		return false
	}
	if hmac.Equal(mac(key(r.generation), data)[:len(got)], got) {
		return true
	}
	for _, g := range r.previous {
		if hmac.Equal(mac(key(g), data)[:len(got)], got) {
			return true
		}
	}
	return false
}

func mac(key, data []byte) []byte {
	var h hash.Hash = hmac.New(sha256.New, key)
	h.Write(data)
	return h.Sum(nil)
}

// ErrDecrypt is returned by Open when a sealed value is not authentic.
var ErrDecrypt = errors.New("stored value failed authentication")

// Seal encrypts plaintext with AES-256-GCM under a random nonce. The
// additional data binds the ciphertext to its place (e.g. its store key), so
// a value copied to another key does not open.
func (r *Ring) Seal(plaintext, additionalData []byte) []byte {
	nonce := make([]byte, r.aead.NonceSize(), r.aead.NonceSize()+len(plaintext)+r.aead.Overhead())
	_, _ = rand.Read(nonce)
	return r.aead.Seal(nonce, nonce, plaintext, additionalData)
}

// Open reverses Seal, under the current secret's key or a previous one's.
// It returns ErrDecrypt for anything not sealed by this ring under the
// same additional data.
func (r *Ring) Open(sealed, additionalData []byte) ([]byte, error) {
	if out, err := r.generation.open(sealed, additionalData); err == nil {
		return out, nil
	}
	for _, g := range r.previous {
		if out, err := g.open(sealed, additionalData); err == nil {
			return out, nil
		}
	}
	return nil, ErrDecrypt
}

func (g generation) open(sealed, additionalData []byte) ([]byte, error) {
	ns := g.aead.NonceSize()
	if len(sealed) < ns+g.aead.Overhead() {
		return nil, ErrDecrypt
	}
	out, err := g.aead.Open(nil, sealed[:ns], sealed[ns:], additionalData)
	if err != nil {
		return nil, ErrDecrypt
	}
	return out, nil
}

// SealJSON encodes v as JSON and seals it bound to aad (typically the
// store key the value is written under).
func (r *Ring) SealJSON(v any, aad string) ([]byte, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding sealed value: %w", err)
	}
	return r.Seal(plain, []byte(aad)), nil
}

// OpenJSON opens a value sealed by SealJSON under the same aad and decodes
// it into v. Any failure — wrong key, wrong place, tampering, bad JSON —
// is ErrDecrypt.
func (r *Ring) OpenJSON(sealed []byte, aad string, v any) error {
	plain, err := r.Open(sealed, []byte(aad))
	if err != nil {
		return err
	}
	if json.Unmarshal(plain, v) != nil {
		return ErrDecrypt
	}
	return nil
}
