package store

import (
	"bytes"
	"context"
	"fmt"
	"time"
)

// CompareAndDelete implements Store.
func (m *Memory) CompareAndDelete(ctx context.Context, key string, value []byte) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("store: memory compareanddelete: %w", err)
	}
	sh := m.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok, err := sh.lookup(key, m.now(), false); !ok || !bytes.Equal(e.value, value) {
		return false, err
	}
	delete(sh.m, key)
	return true, nil
}

// CompareAndExpire implements Store.
func (m *Memory) CompareAndExpire(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("store: memory compareandexpire: %w", err)
	}
	if err := checkTTL("memory compareandexpire", ttl); err != nil {
		return false, err
	}
	sh := m.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := m.now()
	e, ok, err := sh.lookup(key, now, false)
	if !ok || !bytes.Equal(e.value, value) {
		return false, err
	}
	e.expires = expiry(now, ttl)
	sh.m[key] = e
	return true, nil
}
