package authserver

import "time"

// Problem is why a code or refresh token is refused; each server answers
// it in its own words.
type Problem int

// The problems of [Codes.Redeem] and [RefreshTokens.Use].
const (
	OK             Problem = iota
	Unknown                // no such code or token
	WrongClient            // issued to another client
	Used                   // a code redeemed before, or a refresh token rotated
	Revoked                // a refresh token revoked
	Expired                // past its lifetime
	RedirectDiffer         // redirect_uri differs from the authorization request's
	NoVerifier             // the code has a PKCE challenge and no code_verifier came
	BadVerifier            // code_verifier does not match the challenge
)

// Code is one issued authorization code and what it was issued for; G is
// the server's own grant (user, scopes, nonce…).
type Code[G any] struct {
	ClientID    string
	RedirectURI string
	// Challenge and Method are the PKCE code_challenge and its method
	// (empty Challenge: the code has none).
	Challenge, Method string
	Expires           time.Time
	// Used is set by the first redemption attempt that gets past the
	// client check, successful or not: a code is single-use.
	Used  bool
	Grant G
}

// Codes are a server's authorization codes. The zero value is empty and
// ready; it is not safe for concurrent use (servers guard it with their
// lock).
type Codes[G any] struct {
	// RedirectOptional accepts a redemption without redirect_uri (GitHub's
	// token endpoint); a redirect_uri given must still match.
	RedirectOptional bool

	m map[string]*Code[G]
}

// Issue stores c under code, first forgetting the codes expired by now.
func (s *Codes[G]) Issue(code string, c *Code[G], now time.Time) {
	if s.m == nil {
		s.m = map[string]*Code[G]{}
	}
	for k, v := range s.m {
		if now.After(v.Expires) {
			delete(s.m, k)
		}
	}
	s.m[code] = c
}

// Get returns the code without redeeming it (nil when unknown).
func (s *Codes[G]) Get(code string) *Code[G] { return s.m[code] }

// Redeem checks a token request for code by clientID, in this order:
// the code is known, it is clientID's, it was not used; then it is spent,
// and it must not have expired, redirectURI must match (RFC 6749 §4.1.3)
// and verifier must answer its PKCE challenge (RFC 7636 §4.6). The code
// is returned whenever it is known, so that a server can, say, revoke the
// tokens of a code presented twice.
func (s *Codes[G]) Redeem(code, clientID, redirectURI, verifier string, now time.Time) (*Code[G], Problem) {
	c := s.m[code]
	switch {
	case c == nil:
		return nil, Unknown
	case c.ClientID != clientID:
		return c, WrongClient
	case c.Used:
		return c, Used
	}
	c.Used = true
	switch {
	case now.After(c.Expires):
		return c, Expired
	case redirectURI != c.RedirectURI && !(s.RedirectOptional && redirectURI == ""):
		return c, RedirectDiffer
	case c.Challenge != "" && verifier == "":
		return c, NoVerifier
	case !VerifyPKCE(c.Challenge, c.Method, verifier):
		return c, BadVerifier
	}
	return c, OK
}

// DeleteIf forgets the codes for which drop is true (a user's codes when
// they revoke an app).
func (s *Codes[G]) DeleteIf(drop func(*Code[G]) bool) {
	for k, v := range s.m {
		if drop(v) {
			delete(s.m, k)
		}
	}
}

// Granted is c's Grant, the zero G for no code (nil).
func (c *Code[G]) Granted() G {
	if c == nil {
		var zero G
		return zero
	}
	return c.Grant
}
