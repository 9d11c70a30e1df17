// Package keys derives Gatehouse's symmetric keys from the operator's secret.
//
// Every instance configured with the same secret derives the same keys, so
// sessions, login state and CSRF tokens made by one instance are accepted by
// all the others that share a store.
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

// Ring holds the keys derived from one secret. It is safe for concurrent use.
type Ring struct {
	tokenMAC []byte
	csrfMAC  []byte
	aead     cipher.AEAD
}

// Derive expands secret into a key ring with HKDF-SHA256, one key per purpose.
func Derive(secret string) (*Ring, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("secret is %d bytes; it must be at least %d (generate one with: openssl rand -base64 48)", len(secret), MinSecretLen)
	}
	derive := func(purpose string) ([]byte, error) {
		return hkdf.Key(sha256.New, []byte(secret), []byte("gatehouse/v1"), purpose, 32)
	}
	tokenKey, err := derive("session-token-mac")
	if err != nil {
		return nil, fmt.Errorf("deriving token key: %w", err)
	}
	csrfKey, err := derive("csrf-mac")
	if err != nil {
		return nil, fmt.Errorf("deriving csrf key: %w", err)
	}
	encKey, err := derive("store-encryption")
	if err != nil {
		return nil, fmt.Errorf("deriving encryption key: %w", err)
	}
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, fmt.Errorf("creating cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("creating AEAD: %w", err)
	}
	return &Ring{tokenMAC: tokenKey, csrfMAC: csrfKey, aead: aead}, nil
}

// TokenMAC returns HMAC-SHA256 of data under the session-token key.
func (r *Ring) TokenMAC(data []byte) []byte { return mac(r.tokenMAC, data) }

// CSRFMAC returns HMAC-SHA256 of data under the CSRF key.
func (r *Ring) CSRFMAC(data []byte) []byte { return mac(r.csrfMAC, data) }

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

// Open reverses Seal. It returns ErrDecrypt for anything not sealed by this
// ring under the same additional data.
func (r *Ring) Open(sealed, additionalData []byte) ([]byte, error) {
	ns := r.aead.NonceSize()
	if len(sealed) < ns+r.aead.Overhead() {
		return nil, ErrDecrypt
	}
	out, err := r.aead.Open(nil, sealed[:ns], sealed[ns:], additionalData)
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
