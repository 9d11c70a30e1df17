package authserver

import (
	"sync"
	"time"
)

// Clock is an authorization server's clock: the real time moved forward
// by Advance, so that codes, tokens and rate-limit windows expire without
// waiting. The zero value is the real time. It is safe for concurrent use
// and has a lock of its own, so servers may read it with theirs held.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now is the clock's time. Sign what the server must accept (app JWTs,
// id_tokens) with it after Advance.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// Set sets *field to v with mu held: the setters of a server's test hooks.
func Set[T any](mu *sync.Mutex, field *T, v T) {
	mu.Lock()
	defer mu.Unlock()
	*field = v
}
