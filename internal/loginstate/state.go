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
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/keys"
	"github.com/gatehouse-auth/gatehouse/internal/sealed"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// TTL is how long a login may take from start to callback.
const TTL = 10 * time.Minute

// Errors returned by Finish. Each means the callback must be refused.
var (
	ErrNoState      = errors.New("the login request has no state parameter")
	ErrUnknownState = errors.New("the login state is unknown, expired or already used")
	ErrNoBinding    = errors.New("the login cookie is missing: the login was started in another browser, or cookies are blocked")
	ErrForeign      = errors.New("the login was started in another browser")
	ErrWrongSite    = errors.New("the login was started for another provider")
)

// Pending is what is remembered about a login in progress.
type Pending struct {
	// Provider is the name of the provider the login went to.
	Provider string `json:"p"`
	// Verifier is the PKCE code verifier.
	Verifier string `json:"v"`
	// Nonce is the OIDC nonce sent in the authorization request.
	Nonce string `json:"n"`
	// Redirect is where to send the browser afterwards (validated again at
	// the callback).
	Redirect string `json:"rd"`
	// RedirectURI is the redirect_uri sent to the provider.
	RedirectURI string `json:"ru"`
	// Binding is the hex SHA-256 of the browser binding cookie.
	Binding string `json:"b"`
	// Created is when the login started.
	Created time.Time `json:"c"`
}

// States stores logins in progress.
type States struct {
	records sealed.Store
	prefix  string
	now     func() time.Time
}

// New returns a States keeping its records in st under prefix.
func New(st store.Store, ring *keys.Ring, prefix string) *States {
	return &States{records: sealed.Store{Store: st, Ring: ring}, prefix: prefix, now: time.Now}
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

func (s *States) key(state string) string { return s.prefix + "login:" + hashHex(state) }

// Begin records p for the browser holding binding and returns the state
// value to send to the provider.
func (s *States) Begin(ctx context.Context, binding string, p Pending) (string, error) {
	state := Random(32)
	p.Binding = hashHex(binding)
	p.Created = s.now().UTC()
	key := s.key(state)
	if err := s.records.Put(ctx, key, p, TTL); err != nil {
		return "", fmt.Errorf("login: saving state: %w", err)
	}
	return state, nil
}

// Finish takes the login recorded under state for provider. The record is
// consumed only by the browser that started the login (and for the
// provider it went to), so a state value works at most once and a
// callback from elsewhere cannot use it up.
// Errors other than the ones declared in this package mean the store could
// not answer.
func (s *States) Finish(ctx context.Context, state, binding, provider string) (*Pending, error) {
	if state == "" {
		return nil, ErrNoState
	}
	if len(state) > 128 {
		return nil, ErrUnknownState
	}
	key := s.key(state)
	p := new(Pending)
	err := s.records.TakeOwned(ctx, key, p, func() error {
		if s.now().Sub(p.Created) > TTL {
			return ErrUnknownState
		}
		if binding == "" {
			return ErrNoBinding
		}
		if !SameBrowser(p.Binding, binding) {
			return ErrForeign
		}
		if p.Provider != provider {
			return ErrWrongSite
		}
		return nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, ErrUnknownState
	case err != nil:
		return nil, err
	}
	return p, nil
}
