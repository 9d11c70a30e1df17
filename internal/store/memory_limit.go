package store

// DefaultMaxEntries bounds the memory store: about a million sessions,
// some hundreds of MB. Past it the keys closest to expiry are evicted, so
// a flood of logins or login attempts cannot grow the process without
// limit.
const DefaultMaxEntries = 1_000_000

// evictionSample is how many keys are looked at to choose one to evict.
const evictionSample = 8

// makeRoom is called with the shard locked before a new key is inserted:
// when the shard is full it drops expired keys, and if none, the one that
// expires first among a few sampled (as Redis's volatile-ttl policy does).
func (sh *memoryShard) makeRoom(key string, now int64, limit int) {
	if limit <= 0 || len(sh.m) < limit {
		return
	}
	if _, exists := sh.m[key]; exists {
		return // an overwrite adds nothing
	}
	victim, soonest, seen := "", int64(0), 0
	for k, e := range sh.m { // map order is random: a cheap sample
		if e.expires <= now {
			delete(sh.m, k)
			if len(sh.m) < limit {
				return
			}
			continue
		}
		if victim == "" || e.expires < soonest {
			victim, soonest = k, e.expires
		}
		if seen++; seen >= evictionSample {
			break
		}
	}
	if victim != "" && len(sh.m) >= limit {
		delete(sh.m, victim)
		sh.evicted++
	}
}

// Evicted returns how many live keys were dropped to stay within the
// limit.
func (m *Memory) Evicted() int64 {
	var n int64
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.RLock()
		n += sh.evicted
		sh.mu.RUnlock()
	}
	return n
}

// NewMemoryLimit returns a memory store holding at most about maxEntries
// keys (DefaultMaxEntries when <= 0).
func NewMemoryLimit(maxEntries int) *Memory {
	m := newMemory(DefaultSweepInterval)
	m.setLimit(maxEntries)
	return m
}

func (s *memoryState) setLimit(maxEntries int) {
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	s.perShard = max(1, maxEntries/memoryShards)
}
