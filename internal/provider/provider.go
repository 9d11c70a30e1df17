// Package provider defines what every identity provider (OIDC, GitHub, …)
// gives Gatehouse: an authorization URL to send the browser to, and an
// exchange of the returned code for a verified identity.
package provider

import (
	"context"
	"errors"
	"time"
)

// Provider is one way to sign in.
type Provider interface {
	// AuthURL returns the URL that starts a login. state, nonce and the
	// PKCE verifier are fresh for this login; providers without OIDC
	// ignore the nonce.
	AuthURL(ctx context.Context, redirectURI, state, nonce, verifier string) (string, error)
	// Exchange redeems the authorization code and returns the identity it
	// proves. Errors are *Error.
	Exchange(ctx context.Context, code, redirectURI, verifier, nonce string) (*Identity, *Tokens, error)
}

// Identity is what a successful login proves about the user.
type Identity struct {
	// Subject is the provider's stable id for the user.
	Subject string
	// Username is the login or preferred username.
	Username string
	// Email is set only when the provider verified it.
	Email         string
	EmailVerified bool
	Name          string
	Picture       string
	// Groups, e.g. OIDC groups, or GitHub "org" and "org/team".
	Groups []string
	// Session is the provider's own session id (an OIDC id_token's sid),
	// "" when it sends none.
	Session string
}

// Tokens are the provider's tokens from the code exchange.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	IDToken      string
	Expiry       time.Time
}

// Error is a login failure with a code safe to show to the user.
type Error struct {
	// Code is a short machine-readable reason, e.g. "exchange_failed".
	Code string
	// Status is the HTTP status to answer with.
	Status int
	// Err is the cause, for logs.
	Err error
}

func (e *Error) Error() string { return e.Code + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// ErrInvalidGrant is matched (errors.Is) by a Refresher's error when the
// provider refused the refresh token for good (revoked, expired, the user
// removed): the session must end. Any other error is transient.
var ErrInvalidGrant = errors.New("the provider refused the refresh token (invalid_grant)")

// Refresher is implemented by providers whose access tokens expire and
// can be renewed with a refresh token.
type Refresher interface {
	// Refresh redeems refreshToken for new tokens. A provider that does
	// not rotate refresh tokens returns the one it was given. Errors
	// match ErrInvalidGrant when the session must end.
	Refresh(ctx context.Context, refreshToken string) (*Tokens, error)
}

// Revoker is implemented by providers that can revoke the tokens of a
// session at logout.
type Revoker interface {
	// Revoke revokes t at the provider (the refresh token when there is
	// one, which revokes the access token too at most providers).
	Revoke(ctx context.Context, t *Tokens) error
}

// EndSessioner is implemented by providers with RP-initiated logout.
type EndSessioner interface {
	// EndSessionURL returns where to send the browser to end its session
	// at the provider, then come back to postLogout; ok is false when the
	// provider has no end_session_endpoint.
	EndSessionURL(ctx context.Context, idToken, postLogout, state string) (u string, ok bool)
}
