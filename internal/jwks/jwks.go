// Package jwks holds an issuer's published signing keys (a JSON Web Key
// Set) for verifying its tokens: Gatehouse's one key set, used for the
// id_tokens and logout tokens of OpenID Connect providers and for the
// JWTs of trusted issuers. It fetches the keys on first use, and again
// only when a token's signature is verified by none of them, at most
// once per RefetchEvery, so tokens anyone can send (unknown kids,
// forgeries) cannot make Gatehouse hammer the issuer.
package jwks

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
	"golang.org/x/time/rate"
)

// Refetches of the keys for tokens no key verifies (a rotation, or a
// forgery) are limited: RefetchBurst at once, then one per RefetchEvery.
// Anyone can send such tokens, and each would otherwise cost the issuer
// a request; a rotation needs one.
const (
	RefetchEvery = 10 * time.Second
	RefetchBurst = 3
)

// maxJWKSBytes bounds the issuer's key set document.
const maxJWKSBytes = 1 << 20

// KeySet holds an issuer's published keys. It implements go-oidc's
// KeySet, so go-oidc's verifier checks the claims.
type KeySet struct {
	url    string
	client *http.Client
	algs   []jose.SignatureAlgorithm

	mu      sync.Mutex
	keys    jose.JSONWebKeySet
	fetched bool
	// failedAt is when the last fetch failed, before any succeeded: the
	// first keys are asked for again at most once per retryFirst.
	failedAt time.Time
	refetch  *rate.Limiter
}

// retryFirst is how soon a failed first fetch is tried again.
const retryFirst = time.Second

// fetchTimeout bounds a fetch beyond the client's own timeout.
const fetchTimeout = 30 * time.Second

// New returns the key set published at jwksURL, fetched with client,
// that verifies signatures made with algs only. It makes no call.
func New(client *http.Client, jwksURL string, algs []string) *KeySet {
	k := &KeySet{url: jwksURL, client: client, refetch: rate.NewLimiter(rate.Every(RefetchEvery), RefetchBurst)}
	for _, a := range algs {
		k.algs = append(k.algs, jose.SignatureAlgorithm(a))
	}
	return k
}

// ErrNoKey is a token that no key of the issuer verifies.
var ErrNoKey = errors.New("the token's signature is not by a key of the issuer (unknown kid, or forged)")

// FetchError is a failure to fetch the keys: the token may be fine.
type FetchError struct{ Err error }

func (e *FetchError) Error() string { return "fetching keys: " + e.Err.Error() }
func (e *FetchError) Unwrap() error { return e.Err }

// fetchWatchKey is the context key of a *fetchWatch.
type fetchWatchKey struct{}

// fetchWatch receives the error of a failed key fetch during one
// verification.
type fetchWatch struct{ err error }

// WatchFetch returns ctx for one verification through a go-oidc verifier
// over a KeySet, and a function that reports afterwards whether it failed
// because the keys could not be fetched (the token may be fine: the
// issuer is down or slow) rather than because the token does not verify.
// go-oidc's verifier keeps only the text of a key set's error, so the
// failure is told through ctx.
func WatchFetch(ctx context.Context) (context.Context, func() error) {
	w := new(fetchWatch)
	return context.WithValue(ctx, fetchWatchKey{}, w), func() error { return w.err }
}

// VerifySignature implements go-oidc's KeySet: it returns the payload of
// raw when one of the issuer's keys verifies it with an accepted
// algorithm. A failure to fetch the keys is a *FetchError, and is also
// told to WatchFetch's ctx.
func (k *KeySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	payload, err := k.verifySignature(ctx, raw)
	var fe *FetchError
	if errors.As(err, &fe) {
		if w, ok := ctx.Value(fetchWatchKey{}).(*fetchWatch); ok {
			w.err = err
		}
	}
	return payload, err
}

func (k *KeySet) verifySignature(ctx context.Context, raw string) ([]byte, error) {
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
	if !k.fetched {
		if time.Since(k.failedAt) < retryFirst {
			return nil, &FetchError{errors.New("the last attempt to fetch the keys failed; trying again shortly")}
		}
		if err := k.fetch(ctx); err != nil {
			k.failedAt = time.Now()
			return nil, err
		}
	}
	if payload, ok := k.verify(jws, kid); ok {
		return payload, nil
	}
	if !k.refetch.Allow() {
		return nil, ErrNoKey
	}
	if err := k.fetch(ctx); err != nil {
		return nil, err
	}
	if payload, ok := k.verify(jws, kid); ok {
		return payload, nil
	}
	return nil, ErrNoKey
}

// verify tries the keys of kid (every key when the token names none).
func (k *KeySet) verify(jws *jose.JSONWebSignature, kid string) ([]byte, bool) {
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

// fetch reads the key set. k.mu is held. The fetch serves every request
// waiting for the keys, so it does not end with the one that started it
// (a client that hangs up must not leave the keys unfetched).
func (k *KeySet) fetch(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return &FetchError{err}
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return &FetchError{err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &FetchError{fmt.Errorf("%s answered %s", k.url, resp.Status)}
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxJWKSBytes)).Decode(&set); err != nil {
		return &FetchError{fmt.Errorf("decoding %s: %w", k.url, err)}
	}
	k.keys, k.fetched = set, true
	return nil
}
