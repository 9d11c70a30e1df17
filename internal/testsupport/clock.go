package testsupport

import (
	"sync"
	"time"
)

// clock is a fake's clock: the real time moved forward by Advance, so
// that codes, tokens and rate-limit windows expire without waiting. Every
// fake authorization server embeds one.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now is the fake's time. Sign what the fake must accept (app JWTs,
// id_tokens) with it after Advance.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// now is Now; fakes call it with their own lock held (the clock's is
// separate).
func (c *clock) now() time.Time { return c.Now() }

// Advance moves the fake's clock forward by d.
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}
