package store

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// Incr implements Store. The counter is kept as decimal text, as Redis
// keeps it.
func (m *Memory) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("store: memory incr: %w", err)
	}
	if err := checkTTL("memory incr", ttl); err != nil {
		return 0, err
	}
	sh := m.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := m.now()
	e, ok, err := sh.lookup(key, now, false)
	var n int64
	switch {
	case err != nil:
		return 0, err
	case !ok:
		sh.makeRoom(key, now, m.perShard)
		e = memoryEntry{expires: expiry(now, ttl)}
	default:
		v, err := strconv.ParseInt(string(e.value), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("store: memory incr %s: the value is not a counter", key)
		}
		n = v
	}
	n++
	e.value = strconv.AppendInt(nil, n, 10)
	sh.m[key] = e
	return n, nil
}
