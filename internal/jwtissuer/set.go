package jwtissuer

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// maxTokenLen bounds the bearer tokens looked at, in bytes.
const maxTokenLen = 16 << 10

// maxCached bounds the verified tokens kept.
const maxCached = 10_000

// Set is the trusted issuers of a site, with the tokens they verified.
type Set struct {
	byIssuer map[string]*Issuer
	now      func() time.Time

	cache  sync.Map // raw token → *cached
	size   atomic.Int64
	sweepM sync.Mutex
}

type cached struct {
	s *session.Session
}

// NewSet returns the set of issuers; two may not share an issuer URL.
func NewSet(issuers []*Issuer) (*Set, error) {
	s := &Set{byIssuer: map[string]*Issuer{}, now: time.Now}
	for _, i := range issuers {
		if other, dup := s.byIssuer[i.cfg.Issuer]; dup {
			return nil, fmt.Errorf("jwt_issuer %s and %s have the same issuer %s; merge their audiences into one", other.cfg.Name, i.cfg.Name, i.cfg.Issuer)
		}
		s.byIssuer[i.cfg.Issuer] = i
	}
	return s, nil
}

// Authenticate returns the identity the bearer token raw proves, as a
// session that is never stored (shared: the caller must not modify it).
// ok is false when raw is not a JWT of a trusted issuer (another kind of
// token: not Gatehouse's business); err is set when it is one and does
// not verify (a *provider.Error of provider.Unavailable when the issuer
// could not be reached). A verified token is remembered until it expires.
func (s *Set) Authenticate(ctx context.Context, raw string) (sess *session.Session, ok bool, err error) {
	now := s.now()
	if v, hit := s.cache.Load(raw); hit {
		c := v.(*cached)
		if now.Before(c.s.ExpiresAt) {
			return c.s, true, nil
		}
		if s.cache.CompareAndDelete(raw, v) {
			s.size.Add(-1)
		}
	}
	if len(raw) > maxTokenLen {
		return nil, false, nil
	}
	iss := s.byIssuer[peekIssuer(raw)]
	if iss == nil {
		return nil, false, nil
	}
	sess, err = iss.Verify(ctx, raw)
	if err != nil {
		return nil, true, fmt.Errorf("jwt_issuer %s: %w", iss.cfg.Name, err)
	}
	s.remember(raw, sess, now)
	return sess, true, nil
}

// Forget drops the verified token raw, if remembered: one the allow rules
// refuse keeps no room from the tokens they admit.
func (s *Set) Forget(raw string) {
	if _, ok := s.cache.LoadAndDelete(raw); ok {
		s.size.Add(-1)
	}
}

// remember keeps a verified token, within maxCached: past it, expired
// tokens are dropped, and if none has expired the token is not kept.
func (s *Set) remember(raw string, sess *session.Session, now time.Time) {
	if s.size.Load() >= maxCached {
		s.sweepM.Lock()
		if s.size.Load() >= maxCached {
			s.cache.Range(func(k, v any) bool {
				if !now.Before(v.(*cached).s.ExpiresAt) && s.cache.CompareAndDelete(k, v) {
					s.size.Add(-1)
				}
				return true
			})
		}
		full := s.size.Load() >= maxCached
		s.sweepM.Unlock()
		if full {
			return
		}
	}
	if _, loaded := s.cache.LoadOrStore(raw, &cached{s: sess.Share()}); !loaded {
		s.size.Add(1)
	}
}
