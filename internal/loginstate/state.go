// Package loginstate keeps the state of logins in progress.
//
// Each login gets a random state value that travels through the provider,
// and a record in the store holding the PKCE verifier, the nonce and the
// post-login target. The record is single-use (taken atomically at the
// callback), expires after ten minutes, and is bound to the browser that
// started it through a random binding cookie whose hash it stores.
package loginstate

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/keys"
	"github.com/gatehouse-auth/gatehouse/internal/sealed"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// TTL is how long a login may take from start to callback.
const TTL = 10 * time.Minute

// Pending is what is remembered about a login in progress; its Owner's
// Flow is the provider the login went to.
type Pending struct {
	Owner
	// Verifier is the PKCE code verifier.
	Verifier string `json:"v"`
	// Nonce is the OIDC nonce sent in the authorization request.
	Nonce string `json:"n"`
	// Redirect is where to send the browser afterwards (validated again at
	// the callback).
	Redirect string `json:"rd"`
	// RedirectURI is the redirect_uri sent to the provider.
	RedirectURI string `json:"ru"`
}

// States stores logins in progress (the provider's, or the GitHub App's).
type States struct{ Flows }

// New returns a States keeping its records in st under prefix.
func New(st store.Store, ring *keys.Ring, prefix string) *States {
	return &States{NewFlows(st, ring, prefix+"login:")}
}

// NewFlows returns a Flows keeping its records in st under prefix.
func NewFlows(st store.Store, ring *keys.Ring, prefix string) Flows {
	return Flows{records: sealed.Store{Store: st, Ring: ring}, prefix: prefix, now: time.Now}
}

var b64 = base64.RawURLEncoding

// Random returns n random bytes, base64url encoded.
func Random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b64.EncodeToString(b)
}

// NewBinding returns a fresh value for the browser binding cookie.
func NewBinding() string { return Random(32) }

// ValidBinding reports whether v has the shape of a binding value.
func ValidBinding(v string) bool {
	if len(v) != 43 {
		return false
	}
	_, err := b64.DecodeString(v)
	return err == nil
}

// BindingHash is what is stored of a browser binding: its hex SHA-256.
func BindingHash(binding string) string { return hashHex(binding) }

// SameBrowser reports, in constant time, whether binding is the one whose
// hash was stored. An empty binding never matches.
func SameBrowser(storedHash, binding string) bool {
	return binding != "" && hmac.Equal([]byte(hashHex(binding)), []byte(storedHash))
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Begin records p, a login with provider p.Flow, for the browser holding
// binding and returns the state value to send to the provider.
func (s *States) Begin(ctx context.Context, binding string, p Pending) (string, error) {
	state := Random(32)
	if err := s.Put(ctx, state, binding, &p); err != nil {
		return "", fmt.Errorf("login: %w", err)
	}
	return state, nil
}

// Finish takes the login recorded under state for provider. The record is
// consumed only by the browser that started the login (and for the
// provider it went to), so a state value works at most once and a
// callback from elsewhere cannot use it up.
func (s *States) Finish(ctx context.Context, state, binding, provider string) (*Pending, error) {
	p := new(Pending)
	if err := s.Take(ctx, state, binding, provider, "", p); err != nil {
		return nil, err
	}
	return p, nil
}
