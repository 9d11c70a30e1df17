// Package backoff is Gatehouse's one way of waiting between attempts:
// waits that double from a minimum up to a maximum, spread by jitter so
// that many waiters do not retry in step. Webhook forwarding, lock
// acquisition and provider token refreshes all wait through it.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff yields exponentially growing waits: Min, then twice the last,
// up to Max, each spread by ±Jitter and never above Max. The zero value
// is not usable; set Min and Max. A Backoff is not safe for concurrent
// use: each retry loop has its own.
type Backoff struct {
	// Min is the first wait (before jitter).
	Min time.Duration
	// Max bounds every wait, jitter included.
	Max time.Duration
	// Jitter is the relative spread of each wait, from 0 (none) to 1;
	// 0.2 spreads a 1s wait over [0.8s, 1.2s).
	Jitter float64

	cur time.Duration
}

// Next returns the next wait.
func (b *Backoff) Next() time.Duration {
	switch {
	case b.cur == 0:
		b.cur = b.Min
	case b.cur > b.Max/2:
		b.cur = b.Max
	default:
		b.cur *= 2
	}
	return max(min(Spread(b.cur, b.Jitter), b.Max), 0)
}

// Reset starts the waits again from Min, after a success.
func (b *Backoff) Reset() { b.cur = 0 }

// Wait sleeps for the next wait, or until ctx ends; it reports whether
// the whole wait passed.
func (b *Backoff) Wait(ctx context.Context) bool {
	return Sleep(ctx, b.Next())
}

// Spread returns d spread uniformly over [d(1-j), d(1+j)).
func Spread(d time.Duration, j float64) time.Duration {
	s := time.Duration(float64(d) * min(j, 1))
	if s <= 0 {
		return d
	}
	return d - s + rand.N(2*s)
}

// Sleep waits for d, or until ctx ends; it reports whether the whole wait
// passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
