package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/keys"
	"github.com/gatehouse-auth/gatehouse/internal/metrics"
	"github.com/gatehouse-auth/gatehouse/internal/sealed"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// ErrNoSession is returned when a well-formed token has no live session:
// it expired, was ended by logout, or never existed.
var ErrNoSession = errors.New("session: no such session")

// Manager creates, loads and deletes sessions in a store.
type Manager struct {
	store    store.Store
	ring     *keys.Ring
	prefix   string
	lifetime time.Duration
	idle     time.Duration
	now      func() time.Time
	cache    *cache
}

// Options configures a Manager.
type Options struct {
	// Store holds the sessions. Required.
	Store store.Store
	// Ring provides the MAC and encryption keys. Required.
	Ring *keys.Ring
	// KeyPrefix is prepended to every store key. Default: "gatehouse:".
	KeyPrefix string
	// Lifetime is the absolute session lifetime. Default: 168h.
	Lifetime time.Duration
	// IdleTimeout ends a session after this long without use. Default: 24h.
	IdleTimeout time.Duration
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// CacheTTL enables the in-process session cache with this bound on
	// staleness (see DefaultCacheTTL). Zero or negative: no cache.
	CacheTTL time.Duration
}

// Default session lifetimes.
const (
	DefaultLifetime    = 168 * time.Hour
	DefaultIdleTimeout = 24 * time.Hour
)

// NewManager returns a Manager for opts.
func NewManager(opts Options) *Manager {
	m := &Manager{
		store:    opts.Store,
		ring:     opts.Ring,
		prefix:   opts.KeyPrefix,
		lifetime: opts.Lifetime,
		idle:     opts.IdleTimeout,
		now:      opts.Now,
	}
	if m.prefix == "" {
		m.prefix = "gatehouse:"
	}
	if m.lifetime <= 0 {
		m.lifetime = DefaultLifetime
	}
	if m.idle <= 0 {
		m.idle = DefaultIdleTimeout
	}
	if m.idle > m.lifetime {
		m.idle = m.lifetime
	}
	if m.now == nil {
		m.now = time.Now
	}
	if opts.CacheTTL > 0 {
		bus, _ := opts.Store.(store.Notifier)
		m.cache = newCache(opts.CacheTTL, bus, m.prefix+"invalidate")
	}
	return m
}

// Close stops the cache's subscription.
func (m *Manager) Close() {
	if m.cache != nil {
		m.cache.close()
	}
}

// invalidate drops key from every instance's cache.
func (m *Manager) invalidate(ctx context.Context, key string) {
	if m.cache != nil {
		m.cache.invalidate(ctx, key)
	}
}

// Lifetime returns the absolute session lifetime.
func (m *Manager) Lifetime() time.Duration { return m.lifetime }

func (m *Manager) key(t token) string { return m.prefix + "session:" + t.hash() }

// Create stores s under a new token and returns the token. CreatedAt and
// ExpiresAt are set from the manager's clock and lifetime; an ExpiresAt
// already set earlier than that is kept (a session derived from another,
// a device's, ends when the one it came from would).
func (m *Manager) Create(ctx context.Context, s *Session) (string, error) {
	now := m.now()
	s.CreatedAt = now.UTC().Truncate(time.Second)
	if exp := now.Add(m.lifetime).UTC().Truncate(time.Second); s.ExpiresAt.IsZero() || exp.Before(s.ExpiresAt) {
		s.ExpiresAt = exp
	}
	ttl := min(m.idle, s.ExpiresAt.Sub(now))
	if ttl <= 0 {
		return "", ErrNoSession
	}
	s.LastSeenAt = s.CreatedAt
	t, str := newToken(m.ring)
	if err := m.save(ctx, t, s, ttl); err != nil {
		return "", err
	}
	if err := m.index(ctx, s.UserID, m.key(t)); err != nil {
		return "", err
	}
	if s.IdPSession != "" {
		if err := m.store.SetAdd(ctx, m.idpSessionKey(s.Provider, s.IdPSession), m.lifetime, m.key(t)); err != nil {
			return "", fmt.Errorf("session: indexing the provider's session: %w", err)
		}
	}
	m.pruneIndex(ctx, s.UserID, m.key(t))
	return str, nil
}

// Update writes s back under its existing token, keeping its lifetime.
func (m *Manager) Update(ctx context.Context, tok string, s *Session) error {
	t, err := parseToken(m.ring, tok)
	if err != nil {
		return err
	}
	ttl := min(m.idle, s.ExpiresAt.Sub(m.now()))
	if ttl <= 0 {
		return ErrNoSession
	}
	// Only a session that still exists is written back: a request that
	// loaded it before a logout must not bring it back after.
	return m.replaceKey(ctx, m.key(t), s, ttl)
}

func (m *Manager) save(ctx context.Context, t token, s *Session, ttl time.Duration) error {
	if err := m.records().Put(ctx, m.key(t), s, ttl); err != nil {
		return fmt.Errorf("session: saving: %w", err)
	}
	return nil
}

// replaceKey writes s over the session stored under key, if there still is
// one; ErrNoSession if it has ended meanwhile. Every instance's cached
// copy is dropped.
func (m *Manager) replaceKey(ctx context.Context, key string, s *Session, ttl time.Duration) error {
	ok, err := m.records().Replace(ctx, key, s, ttl)
	if err != nil {
		return fmt.Errorf("session: saving: %w", err)
	}
	m.invalidate(ctx, key)
	if !ok {
		return ErrNoSession
	}
	return nil
}

// Load returns the session for tok and slides its idle timeout. It returns
// ErrMalformed (without a store call) for a token Gatehouse did not make,
// ErrNoSession when the session is gone, and any other error when the
// store could not answer.
func (m *Manager) Load(ctx context.Context, tok string) (*Session, error) {
	s, cached, err := m.peek(ctx, tok)
	if cached {
		cp := *s
		return &cp, nil
	}
	return s, err
}

// Peek is Load for a caller that only reads the session (the request
// path): a session served from the cache is the cache's own, not a copy,
// so it must not be modified (Clone it first).
func (m *Manager) Peek(ctx context.Context, tok string) (*Session, error) {
	s, _, err := m.peek(ctx, tok)
	return s, err
}

func (m *Manager) peek(ctx context.Context, tok string) (*Session, bool, error) {
	var now time.Time
	if m.cache != nil {
		now = m.now()
		if s, ok := m.cache.get(tok, now); ok {
			metrics.LookupCache.Inc()
			return s, true, nil
		}
	}
	s, err := m.loadStored(ctx, tok, now)
	switch {
	case err == nil:
		metrics.LookupStore.Inc()
	case errors.Is(err, ErrNoSession), errors.Is(err, ErrMalformed):
		metrics.LookupMissing.Inc()
	default:
		metrics.LookupError.Inc()
	}
	return s, false, err
}

// Reload reads the session for tok from the store, bypassing and then
// refreshing this instance's cache: for a writer that must see what
// another instance may have written meanwhile.
func (m *Manager) Reload(ctx context.Context, tok string) (*Session, error) {
	return m.loadStored(ctx, tok, m.now())
}

// loadStored reads the session for tok from the store, sliding its idle
// timeout, and caches it as of now.
func (m *Manager) loadStored(ctx context.Context, tok string, now time.Time) (*Session, error) {
	t, err := parseToken(m.ring, tok)
	if err != nil {
		return nil, err
	}
	key := m.key(t)
	s, err := m.loadKey(ctx, key, m.idle)
	if err != nil || m.cache == nil {
		return s, err
	}
	m.cache.put(tok, key, s, now)
	return s, nil
}

// ID returns a stable name of the session for tok that reveals nothing
// of the token (the hash its store key is made of), e.g. to lock on; ""
// for a malformed token.
func (m *Manager) ID(tok string) string {
	t, err := parseToken(m.ring, tok)
	if err != nil {
		return ""
	}
	return t.hash()
}

// Delete ends the session for tok and drops it from its user's index. A
// malformed token is ignored.
func (m *Manager) Delete(ctx context.Context, tok string) error {
	t, err := parseToken(m.ring, tok)
	if err != nil {
		return nil
	}
	key := m.key(t)
	owner := m.owner(ctx, tok, key)
	m.invalidate(ctx, key)
	if err := m.store.Delete(ctx, key); err != nil {
		return fmt.Errorf("session: deleting: %w", err)
	}
	if owner != "" {
		// Best effort: the session has ended either way, and the index
		// tolerates members whose session is gone.
		_ = m.store.SetRemove(ctx, m.indexKey(owner), key)
	}
	return nil
}

// owner returns the user id of the session stored under key (for tok),
// from the cache when it holds it, else from the store; "" when the
// session is gone or cannot be read.
func (m *Manager) owner(ctx context.Context, tok, key string) string {
	if m.cache != nil {
		if id, ok := m.cache.owner(tok); ok {
			return id
		}
	}
	s, err := m.loadKey(ctx, key, 0)
	if err != nil {
		return ""
	}
	return s.UserID
}

// Valid reports whether tok has the shape and MAC of a Gatehouse token.
func (m *Manager) Valid(tok string) bool {
	_, err := parseToken(m.ring, tok)
	return err == nil
}

// CSRFToken returns the token a form must echo to act on session tok.
func (m *Manager) CSRFToken(tok string) string {
	t, err := parseToken(m.ring, tok)
	if err != nil {
		return ""
	}
	return b64.EncodeToString(m.ring.CSRFMAC(append([]byte("logout:"), t.id[:]...))[:24])
}

// CheckCSRF reports, in constant time, whether csrf belongs to session tok
// (made under the current secret or a previous one).
func (m *Manager) CheckCSRF(tok, csrf string) bool {
	t, err := parseToken(m.ring, tok)
	if err != nil {
		return false
	}
	got, err := b64.DecodeString(csrf)
	return err == nil && len(got) == 24 && m.ring.CheckCSRFMAC(append([]byte("logout:"), t.id[:]...), got)
}

// records is the sealed store the sessions are kept in.
func (m *Manager) records() sealed.Store { return sealed.Store{Store: m.store, Ring: m.ring} }
