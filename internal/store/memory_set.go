package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"
)

// SetAdd implements Store.
func (m *Memory) SetAdd(ctx context.Context, key string, ttl time.Duration, members ...string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: memory setadd: %w", err)
	}
	if err := checkTTL("memory setadd", ttl); err != nil {
		return err
	}
	if len(members) == 0 {
		return nil
	}
	sh := m.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := m.now()
	e, ok, err := sh.lookup(key, now, true)
	if err != nil {
		return err
	}
	if !ok {
		sh.makeRoom(key, now, m.perShard)
		e = memoryEntry{set: make(map[string]struct{}, len(members))}
	}
	for _, member := range members {
		e.set[member] = struct{}{}
	}
	e.expires = expiry(now, ttl)
	sh.m[key] = e
	return nil
}

// SetMembers implements Store. A missing key gives a nil slice.
func (m *Memory) SetMembers(ctx context.Context, key string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: memory setmembers: %w", err)
	}
	sh := m.shard(key)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	e, ok, err := sh.lookup(key, m.now(), true)
	if !ok {
		return nil, err
	}
	return slices.Sorted(maps.Keys(e.set)), nil
}

// SetRemove implements Store.
func (m *Memory) SetRemove(ctx context.Context, key string, members ...string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: memory setremove: %w", err)
	}
	if len(members) == 0 {
		return nil
	}
	sh := m.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok, err := sh.lookup(key, m.now(), true)
	if !ok {
		return err
	}
	for _, member := range members {
		delete(e.set, member)
	}
	if len(e.set) == 0 {
		delete(sh.m, key) // like Redis, no empty sets
	}
	return nil
}
