package provider

import (
	"context"
	"time"
)

// LogoutVerifier is implemented by providers whose back-channel logout
// tokens (OpenID Connect Back-Channel Logout 1.0) Gatehouse can verify:
// OpenID Connect providers, with the keys that sign their id_tokens.
type LogoutVerifier interface {
	// VerifyLogoutToken verifies raw as a logout token of this provider
	// for this client (signature, algorithm, iss, aud, iat, exp when
	// present, events, no nonce, sid or sub) and returns what it says.
	// Its jti is not checked for reuse: the caller does that. Errors are
	// *Error: ErrCodeInvalidLogoutToken for a token that is not valid,
	// provider_unavailable or provider_timeout when the provider's keys
	// could not be fetched. They never contain the token.
	VerifyLogoutToken(ctx context.Context, raw string) (*LogoutClaims, error)
}

// LogoutClaims is what a verified logout token says: which of the
// provider's sessions, or which of its users, signed out.
type LogoutClaims struct {
	// Session is the sid: the provider's session that ended; "" when the
	// token names only the user.
	Session string
	// Subject is the sub: the user who signed out; "" when the token
	// names only the session (Ory Hydra sends no sub).
	Subject string
	// ID is the jti, which makes the token single-use.
	ID string
	// IssuedAt is the iat.
	IssuedAt time.Time
	// Expiry is the exp, zero when the token has none (Ory Hydra sends
	// none).
	Expiry time.Time
}

// ErrCodeInvalidLogoutToken is the Error.Code of a logout token that does
// not verify.
const ErrCodeInvalidLogoutToken = "invalid_logout_token"

// How old a logout token may be. A logout token need not carry an exp
// (Ory Hydra sends none), so its age is bounded by its iat instead.
const (
	// LogoutTokenMaxAge is the oldest iat accepted.
	LogoutTokenMaxAge = 5 * time.Minute
	// LogoutTokenSkew is how far the provider's clock may be ahead of
	// Gatehouse's (an iat in the future) or behind it (an exp just past).
	LogoutTokenSkew = time.Minute
	// LogoutTokenWindow is how long a token is acceptable at most, so how
	// long its jti must be remembered to keep it single-use.
	LogoutTokenWindow = LogoutTokenMaxAge + 2*LogoutTokenSkew
)
