package jwtissuer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// refetchEvery bounds how often a token that no key it has verifies may
// make Gatehouse fetch the issuer's keys again (a rotation, or a forgery):
// anyone can send such tokens, and each would otherwise cost the issuer a
// request.
const refetchEvery = 30 * time.Second

// maxJWKSBytes bounds the issuer's key set document.
const maxJWKSBytes = 1 << 20

// keySet holds an issuer's published keys (go-oidc's KeySet interface):
// fetched on first use, and again, at most once per refetchEvery, when a
// token's signature is verified by none of them.
type keySet struct {
	url    string
	client *http.Client
	algs   []jose.SignatureAlgorithm

	mu        sync.Mutex
	keys      jose.JSONWebKeySet
	fetchedAt time.Time
}

func newKeySet(client *http.Client, jwksURL string, algs []string) *keySet {
	k := &keySet{url: jwksURL, client: client}
	for _, a := range algs {
		k.algs = append(k.algs, jose.SignatureAlgorithm(a))
	}
	return k
}

// errNoKey is a token that no key of the issuer verifies.
var errNoKey = errors.New("the token's signature is not by a key of the issuer (unknown kid, or forged)")

// errFetch wraps a failure to fetch the keys.
type errFetch struct{ err error }

func (e errFetch) Error() string { return "fetching keys: " + e.err.Error() }
func (e errFetch) Unwrap() error { return e.err }

// VerifySignature implements go-oidc's KeySet: it returns the payload of
// raw when one of the issuer's keys verifies it with an accepted
// algorithm.
func (k *keySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	jws, err := jose.ParseSigned(raw, k.algs)
	if err != nil {
		return nil, fmt.Errorf("malformed, or not signed with an accepted algorithm: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("the token must have exactly one signature")
	}
	kid := jws.Signatures[0].Header.KeyID
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fetchedAt.IsZero() {
		if err := k.fetch(ctx); err != nil {
			return nil, err
		}
	}
	if payload, ok := k.verify(jws, kid); ok {
		return payload, nil
	}
	if time.Since(k.fetchedAt) < refetchEvery {
		return nil, errNoKey
	}
	if err := k.fetch(ctx); err != nil {
		return nil, err
	}
	if payload, ok := k.verify(jws, kid); ok {
		return payload, nil
	}
	return nil, errNoKey
}

// verify tries the keys of kid (every key when the token names none).
func (k *keySet) verify(jws *jose.JSONWebSignature, kid string) ([]byte, bool) {
	for _, key := range k.keys.Keys {
		if kid != "" && key.KeyID != kid || key.Use == "enc" {
			continue
		}
		if payload, err := jws.Verify(key); err == nil {
			return payload, true
		}
	}
	return nil, false
}

// fetch reads the key set; the time of the attempt is kept whether it
// succeeds or not (a failing issuer is asked again after refetchEvery).
func (k *keySet) fetch(ctx context.Context) error {
	k.fetchedAt = time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return errFetch{err}
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return errFetch{err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errFetch{fmt.Errorf("%s answered %s", k.url, resp.Status)}
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxJWKSBytes)).Decode(&set); err != nil {
		return errFetch{fmt.Errorf("decoding %s: %w", k.url, err)}
	}
	k.keys = set
	return nil
}
