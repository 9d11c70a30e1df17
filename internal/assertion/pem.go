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
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("reading the PKCS #8 key: %w", err)
			}
			ec, ok := k.(*ecdsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("the key is a %T, not an ECDSA P-256 key", k)
			}
			return ec, nil
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
		if block.Type != "PUBLIC KEY" {
			continue
		}
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("reading the public key: %w", err)
		}
		ec, ok := k.(*ecdsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("the key is a %T, not an ECDSA P-256 key", k)
		}
		return ec, nil
	}
	priv, err := ParsePrivateKey(data)
	if err != nil {
		return nil, errors.New("no PEM public or private key found (want -----BEGIN PUBLIC KEY----- or a private key)")
	}
	return &priv.PublicKey, nil
}
