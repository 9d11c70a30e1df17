package backoff

import (
	"context"
	"time"
)

// Every calls fn every d, the first time d from now, until ctx ends or fn
// returns false. A call that outlasts d delays the next one; ticks missed
// meanwhile are dropped.
func Every(ctx context.Context, d time.Duration, fn func() bool) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !fn() {
			return
		}
	}
}
