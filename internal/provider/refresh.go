package provider

import (
	"context"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/backoff"
)

// Refresh policy shared by sessions and linked accounts.
const (
	// RefreshMargin: an access token this close to expiry is refreshed
	// (or a third of its lifetime before, for shorter-lived tokens).
	RefreshMargin = time.Minute
	// RefreshRetry: after a transient failure a refresh waits this long
	// before it is tried again; the still-valid credentials are kept.
	RefreshRetry = 30 * time.Second
	// refreshAttempts within one refresh, with exponential backoff from
	// refreshBackoff.
	refreshAttempts = 3
	refreshBackoff  = 200 * time.Millisecond
)

// RefreshDue reports whether an access token issued at issued (zero:
// unknown) and expiring at expiry should be refreshed now.
func RefreshDue(expiry, issued, now time.Time) bool {
	if expiry.IsZero() {
		return false
	}
	margin := RefreshMargin
	if !issued.IsZero() {
		margin = min(margin, expiry.Sub(issued)/3)
	}
	return !now.Add(margin).Before(expiry)
}

// RetryRefresh calls refresh up to three times while it fails for a
// transient reason (permanent reports the others, e.g. invalid_grant),
// waiting 200 ms, then twice that, ±25%, and giving up early when ctx
// ends.
func RetryRefresh[T any](ctx context.Context, permanent func(error) bool, refresh func(context.Context) (T, error)) (T, error) {
	wait := backoff.Backoff{Min: refreshBackoff, Max: 4 * refreshBackoff, Jitter: 0.25}
	for attempt := 1; ; attempt++ {
		t, err := refresh(ctx)
		if err == nil || permanent(err) || attempt == refreshAttempts || !wait.Wait(ctx) {
			return t, err
		}
	}
}
