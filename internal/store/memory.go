package store

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"hash/maphash"
	"math"
	"runtime"
	"sync"
	"time"
)

// memoryShards is the number of independently locked maps a Memory spreads
// its keys over, so that concurrent requests rarely contend on one mutex.
const memoryShards = 32

// DefaultSweepInterval is how often a Memory's janitor removes expired keys
// (1 minute). Expired keys are invisible to readers immediately; the sweep
// only frees their memory.
const DefaultSweepInterval = time.Minute

// Memory is an in-process Store: a sharded map with per-key expiry. It is
// meant for single-instance deployments and tests; its state is lost when
// the process exits and is not shared between Caddy instances.
//
// Values are copied on Set and on Get, so callers may reuse their buffers.
// Sets live in the same key space, with the same expiry.
// A janitor goroutine sweeps expired keys every DefaultSweepInterval until
// Close is called. The zero value is not usable; call NewMemory.
type Memory struct {
	*memoryState
	bus       localBus
	queues    memoryQueues // see memory_queue.go
	stop      chan struct{}
	done      chan struct{}
	cleanup   runtime.Cleanup
	closeOnce sync.Once
}

// memoryState is what the janitor goroutine holds, kept apart from Memory so
// that a Memory nobody closed can still be garbage collected (its cleanup
// then stops the janitor).
type memoryState struct {
	perShard int // most keys a shard holds
	seed     maphash.Seed
	epoch    time.Time
	shards   [memoryShards]memoryShard
}

type memoryShard struct {
	mu      sync.RWMutex
	evicted int64
	m       map[string]memoryEntry
}

// memoryEntry is one key: a byte value, or a set when set is non-nil.
//
// A value is never mutated once stored (entries holding one are replaced),
// so it may be read outside the shard's lock. A set is mutated in place, so
// it is only touched under the lock: written under the write lock, read
// under either.
type memoryEntry struct {
	value   []byte
	set     map[string]struct{}
	expires int64 // nanoseconds since memoryState.epoch (monotonic clock)
}

// isSet reports whether e holds a set rather than a byte value.
func (e memoryEntry) isSet() bool { return e.set != nil }

// lookup returns the entry at key and true when it is live at now; false
// when it is missing or has expired; ErrWrongType when it is live but a
// set where set is false, or a value where set is true. The caller holds
// the shard's lock.
func (sh *memoryShard) lookup(key string, now int64, set bool) (memoryEntry, bool, error) {
	e, ok := sh.m[key]
	switch {
	case !ok || e.expires <= now:
		return memoryEntry{}, false, nil
	case e.isSet() != set:
		return memoryEntry{}, false, ErrWrongType
	}
	return e, true, nil
}

// NewMemory returns an empty Memory store whose janitor sweeps expired keys
// every DefaultSweepInterval. Call Close to stop the janitor.
func NewMemory() *Memory {
	return NewMemoryLimit(DefaultMaxEntries)
}

func newMemory(sweep time.Duration) *Memory {
	s := &memoryState{seed: maphash.MakeSeed(), epoch: time.Now()}
	for i := range s.shards {
		s.shards[i].m = make(map[string]memoryEntry)
	}
	m := &Memory{memoryState: s, stop: make(chan struct{}), done: make(chan struct{})}
	go s.janitor(sweep, m.stop, m.done)
	// A Memory that is dropped without Close still stops its janitor.
	m.cleanup = runtime.AddCleanup(m, func(stop chan struct{}) { close(stop) }, m.stop)
	return m
}

// Close stops the janitor goroutine. It is safe to call more than once. The
// store keeps answering after Close; expired keys are then no longer swept
// but stay invisible.
func (m *Memory) Close() error {
	m.closeOnce.Do(func() {
		m.cleanup.Stop()
		close(m.stop)
		<-m.done
	})
	return nil
}

// Len returns the number of keys that have not expired, sets included.
func (m *Memory) Len() int {
	now := m.now()
	n := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.RLock()
		for _, e := range sh.m {
			if e.expires > now {
				n++
			}
		}
		sh.mu.RUnlock()
	}
	return n
}

// Get implements Store.
func (m *Memory) Get(ctx context.Context, key string, touch time.Duration) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: memory get: %w", err)
	}
	sh := m.shard(key)
	now := m.now()
	if touch <= 0 {
		sh.mu.RLock()
		e, ok, err := sh.lookup(key, now, false)
		sh.mu.RUnlock()
		if !ok {
			return nil, cmp.Or(err, ErrNotFound)
		}
		// Values are never mutated in place, so e.value can be copied
		// outside the lock.
		return bytes.Clone(e.value), nil
	}
	sh.mu.Lock()
	e, ok, err := sh.lookup(key, now, false)
	if !ok {
		sh.mu.Unlock()
		return nil, cmp.Or(err, ErrNotFound)
	}
	e.expires = expiry(now, touch)
	sh.m[key] = e
	sh.mu.Unlock()
	return bytes.Clone(e.value), nil
}

// Set implements Store.
func (m *Memory) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: memory set: %w", err)
	}
	if err := checkTTL("memory set", ttl); err != nil {
		return err
	}
	e := memoryEntry{value: bytes.Clone(value), expires: expiry(m.now(), ttl)}
	sh := m.shard(key)
	sh.mu.Lock()
	sh.makeRoom(key, m.now(), m.perShard)
	sh.m[key] = e
	sh.mu.Unlock()
	return nil
}

// SetNX implements Store.
func (m *Memory) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	return m.setIf(ctx, "setnx", key, value, ttl, false)
}

// SetXX implements Store.
func (m *Memory) SetXX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	return m.setIf(ctx, "setxx", key, value, ttl, true)
}

// setIf stores value under key for ttl only if key exists (exists) or
// does not (!exists), and reports whether it did.
func (m *Memory) setIf(ctx context.Context, op, key string, value []byte, ttl time.Duration, exists bool) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("store: memory %s: %w", op, err)
	}
	if err := checkTTL("memory "+op, ttl); err != nil {
		return false, err
	}
	v := bytes.Clone(value)
	sh := m.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := m.now()
	if e, ok := sh.m[key]; (ok && e.expires > now) != exists {
		return false, nil
	}
	if !exists {
		sh.makeRoom(key, now, m.perShard)
	}
	sh.m[key] = memoryEntry{value: v, expires: expiry(now, ttl)}
	return true, nil
}

// Take implements Store.
func (m *Memory) Take(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: memory take: %w", err)
	}
	sh := m.shard(key)
	sh.mu.Lock()
	e, ok := sh.m[key]
	live := ok && e.expires > m.now()
	if live && e.isSet() {
		sh.mu.Unlock()
		return nil, ErrWrongType
	}
	if ok {
		delete(sh.m, key)
	}
	sh.mu.Unlock()
	if !live {
		return nil, ErrNotFound
	}
	// The entry is out of the map, so nobody else can see its value: no copy
	// needed.
	return e.value, nil
}

// Delete implements Store.
func (m *Memory) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: memory delete: %w", err)
	}
	sh := m.shard(key)
	sh.mu.Lock()
	delete(sh.m, key)
	sh.mu.Unlock()
	return nil
}

// Ping implements Store. It only fails for a done context.
func (m *Memory) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: memory ping: %w", err)
	}
	return nil
}

func (s *memoryState) now() int64 { return int64(time.Since(s.epoch)) }

// expiry returns now+d, saturating instead of overflowing for huge d.
func expiry(now int64, d time.Duration) int64 {
	if int64(d) > math.MaxInt64-now {
		return math.MaxInt64
	}
	return now + int64(d)
}

func (s *memoryState) shard(key string) *memoryShard {
	return &s.shards[maphash.String(s.seed, key)%memoryShards]
}

// janitor sweeps expired entries every interval until stop is closed.
func (s *memoryState) janitor(interval time.Duration, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			s.sweep()
		}
	}
}

// sweep deletes the entries that have expired, one shard at a time.
func (s *memoryState) sweep() {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		now := s.now()
		for k, e := range sh.m {
			if e.expires <= now {
				delete(sh.m, k)
			}
		}
		sh.mu.Unlock()
	}
}

var _ Store = (*Memory)(nil)
