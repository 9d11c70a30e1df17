package jwks

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// issuer publishes its keys and signs with them.
type issuer struct {
	mu      sync.Mutex
	keys    []jose.JSONWebKey
	fetches atomic.Int32
	srv     *httptest.Server
}

func newIssuer(t *testing.T) *issuer {
	i := &issuer{}
	i.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		i.fetches.Add(1)
		i.mu.Lock()
		defer i.mu.Unlock()
		var pub []jose.JSONWebKey
		for _, k := range i.keys {
			pub = append(pub, k.Public())
		}
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: pub})
	}))
	t.Cleanup(i.srv.Close)
	return i
}

// rotate adds a new key and returns it.
func (i *issuer) rotate(kid string) jose.JSONWebKey {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k := jose.JSONWebKey{Key: priv, KeyID: kid, Algorithm: "ES256", Use: "sig"}
	i.mu.Lock()
	i.keys = append(i.keys, k)
	i.mu.Unlock()
	return k
}

func sign(t *testing.T, k jose.JSONWebKey, payload string) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k}, nil)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s.Sign([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := obj.CompactSerialize()
	return out
}

// A key published after the first fetch (a rotation) verifies; forged
// tokens and unknown kids cannot make the set fetch more than its burst
// allows; an algorithm not accepted is refused without a fetch.
func TestRotationAndRefetchLimit(t *testing.T) {
	iss := newIssuer(t)
	first := iss.rotate("k1")
	ks := New(http.DefaultClient, iss.srv.URL, []string{"ES256"})
	ctx := context.Background()
	if got, err := ks.VerifySignature(ctx, sign(t, first, "a")); err != nil || string(got) != "a" {
		t.Fatalf("first key: %q %v", got, err)
	}
	second := iss.rotate("k2")
	if got, err := ks.VerifySignature(ctx, sign(t, second, "b")); err != nil || string(got) != "b" {
		t.Fatalf("a key published after the first fetch: %q %v", got, err)
	}
	before := iss.fetches.Load()
	forger, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for i := range 50 {
		kid := "k1"
		if i%2 == 0 {
			kid = "unknown"
		}
		if _, err := ks.VerifySignature(ctx, sign(t, jose.JSONWebKey{Key: forger, KeyID: kid}, "x")); !errors.Is(err, ErrNoKey) {
			t.Fatalf("forgery %d: %v", i, err)
		}
	}
	if n := iss.fetches.Load() - before; n > RefetchBurst {
		t.Fatalf("50 forgeries made %d fetches, more than the burst of %d", n, RefetchBurst)
	}
	if _, err := ks.VerifySignature(ctx, "eyJhbGciOiJub25lIn0.eyJ4IjoxfQ."); err == nil {
		t.Fatal("alg none verified")
	}
}

// A set whose issuer is down reports a FetchError (the token may be
// fine), and asks the issuer again only within the limit.
func TestFetchFailure(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer down.Close()
	iss := newIssuer(t)
	k := iss.rotate("k1")
	ks := New(http.DefaultClient, down.URL, []string{"ES256"})
	var fe *FetchError
	if _, err := ks.VerifySignature(context.Background(), sign(t, k, "a")); !errors.As(err, &fe) {
		t.Fatalf("issuer down: %v, want a FetchError", err)
	}
}

// A client that hangs up while the first keys are fetched does not leave
// them unfetched, nor spend the refetch limit: many such requests later,
// a real token verifies at once.
func TestFirstFetchOutlivesItsRequest(t *testing.T) {
	iss := newIssuer(t)
	k := iss.rotate("k1")
	ks := New(http.DefaultClient, iss.srv.URL, []string{"ES256"})
	forger, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for range 5 {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // gone before the fetch
		_, _ = ks.VerifySignature(ctx, sign(t, jose.JSONWebKey{Key: forger, KeyID: "x"}, "x"))
	}
	if got, err := ks.VerifySignature(context.Background(), sign(t, k, "ok")); err != nil || string(got) != "ok" {
		t.Fatalf("after hung-up requests: %q %v", got, err)
	}
}
