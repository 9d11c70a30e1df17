package lock

import (
	"context"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/backoff"
)

// renewalsPerTTL is how many times per lease the lease is renewed, so that
// a renewal or two may fail without losing the lock.
const renewalsPerTTL = 3

// renew extends the lease every ttl/renewalsPerTTL until ctx is cancelled
// (by Release) or the lock is found lost. leased is when the current lease
// was last set or renewed (when that request was sent, so the lease lasts
// at least until leased+ttl).
func (l *Lock) renew(ctx context.Context, leased time.Time) {
	defer close(l.renewalDone)
	every := l.ttl / renewalsPerTTL
	backoff.Every(ctx, every, func() bool {
		sent := time.Now()
		callCtx, cancel := context.WithTimeout(ctx, every)
		ok, err := l.st.CompareAndExpire(callCtx, l.key, l.token, l.ttl)
		cancel()
		switch {
		case ctx.Err() != nil:
			return false // released meanwhile
		case err == nil && ok:
			leased = sent
		case err == nil:
			l.lose() // gone, or another holder's
			return false
		case time.Until(leased.Add(l.ttl)) <= every:
			// The lease may run out before the next attempt.
			l.lose()
			return false
		}
		return true // a failed renewal is retried at the next tick
	})
}
