package authserver

import "time"

// RefreshToken is one issued refresh token; G is the server's own grant.
type RefreshToken[G any] struct {
	ClientID string
	// Expires is when it stops working (zero: never).
	Expires time.Time
	// Rotated is set when it was exchanged under rotation: presenting it
	// again is reuse.
	Rotated bool
	// Revoked is set when the grant was revoked.
	Revoked bool
	Grant   G
}

// RefreshTokens are a server's refresh tokens. The zero value is empty and
// ready; it is not safe for concurrent use (servers guard it with their
// lock).
type RefreshTokens[G any] struct {
	m map[string]*RefreshToken[G]
}

// Issue stores t under token.
func (s *RefreshTokens[G]) Issue(token string, t *RefreshToken[G]) {
	if s.m == nil {
		s.m = map[string]*RefreshToken[G]{}
	}
	s.m[token] = t
}

// Get returns the refresh token (nil when unknown).
func (s *RefreshTokens[G]) Get(token string) *RefreshToken[G] { return s.m[token] }

// DeleteIf forgets the refresh tokens for which drop is true.
func (s *RefreshTokens[G]) DeleteIf(drop func(*RefreshToken[G]) bool) {
	for k, v := range s.m {
		if drop(v) {
			delete(s.m, k)
		}
	}
}

// All calls fn for every refresh token until fn returns false.
func (s *RefreshTokens[G]) All(fn func(token string, t *RefreshToken[G]) bool) {
	for k, v := range s.m {
		if !fn(k, v) {
			return
		}
	}
}

// Sweep forgets the refresh tokens expired by now.
func (s *RefreshTokens[G]) Sweep(now time.Time) {
	for k, v := range s.m {
		if !v.Expires.IsZero() && now.After(v.Expires) {
			delete(s.m, k)
		}
	}
}

// Use checks a refresh_token grant for token by clientID, in this order:
// the token is known, it is clientID's (an empty clientID, a refresh
// without client authentication as Gitee documents it, is not checked),
// it is not revoked, it was not rotated, it has not expired. It changes
// nothing: the server rotates (sets Rotated) or keeps the token. The
// token is returned whenever it is known.
func (s *RefreshTokens[G]) Use(token, clientID string, now time.Time) (*RefreshToken[G], Problem) {
	t := s.m[token]
	switch {
	case t == nil:
		return nil, Unknown
	case clientID != "" && t.ClientID != clientID:
		return t, WrongClient
	case t.Revoked:
		return t, Revoked
	case t.Rotated:
		return t, Used
	case !t.Expires.IsZero() && now.After(t.Expires):
		return t, Expired
	}
	return t, OK
}

// Granted is t's Grant, the zero G for no token (nil).
func (t *RefreshToken[G]) Granted() G {
	if t == nil {
		var zero G
		return zero
	}
	return t.Grant
}
