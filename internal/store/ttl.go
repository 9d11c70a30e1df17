package store

import (
	"fmt"
	"time"
)

// checkTTL reports an error for a time to live that is not positive. A zero
// or negative TTL would mean "keep forever" in Redis, which Gatehouse never
// wants, so both backends refuse it the same way.
func checkTTL(op string, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("store: %s: ttl must be > 0, got %v", op, ttl)
	}
	return nil
}
