package github

import "errors"

// OAuth error codes GitHub's token endpoint sends (with HTTP 200).
const (
	// ErrCodeBadVerificationCode: the code is unknown, used, expired
	// (10 minutes) or does not match the PKCE verifier.
	ErrCodeBadVerificationCode = "bad_verification_code"
	// ErrCodeBadRefreshToken: the refresh token is unknown, used or
	// expired.
	ErrCodeBadRefreshToken = "bad_refresh_token"
	// ErrCodeIncorrectClientCredentials: wrong client_id or client_secret.
	ErrCodeIncorrectClientCredentials = "incorrect_client_credentials"
	// ErrCodeRedirectURIMismatch: redirect_uri differs from the authorize
	// request's or the registered callback URL.
	ErrCodeRedirectURIMismatch = "redirect_uri_mismatch"
	// ErrCodeUnverifiedUserEmail: the user has no verified primary email.
	ErrCodeUnverifiedUserEmail = "unverified_user_email"
)

// OAuthError is an error answer of GitHub's token endpoint, e.g.
// bad_verification_code, bad_refresh_token, incorrect_client_credentials
// or redirect_uri_mismatch.
type OAuthError struct {
	// Code is the "error" field.
	Code string
	// Description is the "error_description" field (may be "").
	Description string
	// URI is the "error_uri" field (may be "").
	URI string
}

// Error returns the code and description.
func (e *OAuthError) Error() string {
	if e.Description == "" {
		return "github oauth error " + e.Code
	}
	return "github oauth error " + e.Code + ": " + e.Description
}

// IsInvalidGrant reports whether err says the code or refresh token is
// dead (bad_verification_code, bad_refresh_token): retrying cannot help;
// the user has to sign in again.
func IsInvalidGrant(err error) bool {
	var oe *OAuthError
	if !errors.As(err, &oe) {
		return false
	}
	return oe.Code == ErrCodeBadVerificationCode || oe.Code == ErrCodeBadRefreshToken
}
