package session

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// DefaultCacheTTL bounds how long a session is served from an instance's
// memory before the store is read (and the idle timeout slid) again.
const DefaultCacheTTL = 5 * time.Second

// maxCached bounds the cache; past it, arbitrary entries are dropped.
const maxCached = 100_000

// cache holds decoded sessions by store key. Entries are dropped at once
// on this instance's own changes and, through the store's Notifier, on
// every other instance's; ttl bounds staleness if a message is lost.
//
// Entries are found by the token itself, so a hit costs no MAC or hash: a
// token only ever enters the cache after its MAC was checked. byKey maps
// store keys (what invalidations name) back to tokens.
type cache struct {
	// live is set while the cache hears every invalidation (its
	// subscription is confirmed); it serves and keeps nothing otherwise.
	live  atomic.Bool
	ttl   time.Duration
	mu    sync.RWMutex
	m     map[string]cached // by token
	byKey map[string]string // store key → token
	stop  func()
	bus   store.Notifier
	chn   string
}

type cached struct {
	s       *Session // never modified once cached
	key     string
	fetched time.Time
}

func newCache(ttl time.Duration, bus store.Notifier, channel string) *cache {
	c := &cache{ttl: ttl, m: make(map[string]cached), byKey: make(map[string]string), bus: bus, chn: channel}
	if bus != nil {
		c.stop = bus.Subscribe(channel, c.drop, c.setLive)
	} else {
		c.live.Store(true) // nothing to hear: the ttl alone bounds staleness
	}
	return c
}

// get returns the cached session for tok when it is fresh. It is shared:
// the caller must not modify it.
func (c *cache) get(tok string, now time.Time) (*Session, bool) {
	if !c.live.Load() {
		return nil, false
	}
	c.mu.RLock()
	e, ok := c.m[tok]
	c.mu.RUnlock()
	if !ok || now.Sub(e.fetched) >= c.ttl || !now.Before(e.s.ExpiresAt) {
		return nil, false
	}
	return e.s, true
}

// owner returns the user id of the cached session for tok, fresh or not
// (a session's user never changes).
func (c *cache) owner(tok string) (string, bool) {
	c.mu.RLock()
	e, ok := c.m[tok]
	c.mu.RUnlock()
	if !ok {
		return "", false
	}
	return e.s.UserID, true
}

// put caches s (which then shares the entry's Memo).
func (c *cache) put(tok, key string, s *Session, now time.Time) {
	if !c.live.Load() {
		return
	}
	c.mu.Lock()
	if len(c.m) >= maxCached {
		for t, e := range c.m { // map order is arbitrary: a cheap random eviction
			delete(c.m, t)
			delete(c.byKey, e.key)
			if len(c.m) < maxCached*9/10 {
				break
			}
		}
	}
	cp := *s.Share() // s and the copies served from this entry share its Memo
	c.m[tok] = cached{s: &cp, key: key, fetched: now}
	c.byKey[key] = tok
	c.mu.Unlock()
}

// drop removes the entry for a store key.
func (c *cache) drop(key string) {
	c.mu.Lock()
	if tok, ok := c.byKey[key]; ok {
		delete(c.m, tok)
		delete(c.byKey, key)
	}
	c.mu.Unlock()
}

// setLive drops every entry (an invalidation may have been missed) and
// lets the cache serve only while live.
func (c *cache) setLive(live bool) {
	if !live {
		c.live.Store(false)
	}
	c.clear()
	if live {
		c.live.Store(true)
	}
}

func (c *cache) clear() {
	c.mu.Lock()
	clear(c.m)
	clear(c.byKey)
	c.mu.Unlock()
}

// invalidate drops key here and on every other instance.
func (c *cache) invalidate(ctx context.Context, key string) {
	c.drop(key)
	if c.bus != nil {
		_ = c.bus.Publish(ctx, c.chn, key)
	}
}

func (c *cache) close() {
	if c.stop != nil {
		c.stop()
	}
}
