package assertion

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// ParsePrivateKey reads an ECDSA private key from PEM: PKCS #8 ("PRIVATE
// KEY", as `openssl genpkey` writes) or SEC 1 ("EC PRIVATE KEY", as
// `openssl ecparam -genkey` writes).
func ParsePrivateKey(data []byte) (*ecdsa.PrivateKey, error) {
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		switch block.Type {
		case "PRIVATE KEY":
			return parseECDSA[*ecdsa.PrivateKey](block.Bytes, "PKCS #8 key", x509.ParsePKCS8PrivateKey)
		case "EC PRIVATE KEY":
			k, err := x509.ParseECPrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("reading the EC key: %w", err)
			}
			return k, nil
		}
	}
	return nil, errors.New("no PEM private key found (want -----BEGIN PRIVATE KEY----- or -----BEGIN EC PRIVATE KEY-----)")
}

// ParsePublicKey reads an ECDSA public key from PEM ("PUBLIC KEY"), or
// takes the public half of a private key in any form ParsePrivateKey
// reads, so the file of a retired signing key can be used as it is.
func ParsePublicKey(data []byte) (*ecdsa.PublicKey, error) {
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		if block.Type == "PUBLIC KEY" {
			return parseECDSA[*ecdsa.PublicKey](block.Bytes, "public key", x509.ParsePKIXPublicKey)
		}
	}
	priv, err := ParsePrivateKey(data)
	if err != nil {
		return nil, errors.New("no PEM public or private key found (want -----BEGIN PUBLIC KEY----- or a private key)")
	}
	return &priv.PublicKey, nil
}

// parseECDSA reads a DER key with parse, named what in errors, and
// requires it to be an ECDSA key of type K.
func parseECDSA[K *ecdsa.PrivateKey | *ecdsa.PublicKey](der []byte, what string, parse func([]byte) (any, error)) (K, error) {
	k, err := parse(der)
	if err != nil {
		return nil, fmt.Errorf("reading the %s: %w", what, err)
	}
	ec, ok := k.(K)
	if !ok {
		return nil, fmt.Errorf("the key is a %T, not an ECDSA P-256 key", k)
	}
	return ec, nil
}
