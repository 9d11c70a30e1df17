package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// rawLen counts entries including expired ones not swept yet.
func (s *memoryState) rawLen() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		n += len(sh.m)
		sh.mu.RUnlock()
	}
	return n
}

func TestMemoryJanitor(t *testing.T) {
	m := newMemory(20 * time.Millisecond)
	defer m.Close()
	ctx := context.Background()
	for i := range 100 {
		ttl := 30 * time.Millisecond
		if i%2 == 0 {
			ttl = time.Minute
		}
		if err := m.Set(ctx, fmt.Sprint("k", i), []byte("v"), ttl); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(3 * time.Second)
	for m.rawLen() != 50 {
		if time.Now().After(deadline) {
			t.Fatalf("janitor left %d entries, want 50", m.rawLen())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := m.Len(); n != 50 {
		t.Errorf("Len = %d, want 50", n)
	}
}

func TestMemoryCloseStopsJanitor(t *testing.T) {
	m := NewMemory()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-m.done:
	default:
		t.Fatal("janitor still running after Close")
	}
}

func TestMemoryHugeTTL(t *testing.T) {
	m := NewMemory()
	defer m.Close()
	ctx := context.Background()
	huge := time.Duration(1<<63 - 1)
	if err := m.Set(ctx, "k", []byte("v"), huge); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(ctx, "k", huge); err != nil {
		t.Fatalf("Get after Set with a huge ttl: %v", err)
	}
	if _, err := m.Get(ctx, "k", 0); err != nil {
		t.Fatalf("Get after touch with a huge ttl: %v", err)
	}
}

func TestMemoryBounded(t *testing.T) {
	m := NewMemoryLimit(memoryShards * 10) // 10 keys per shard
	defer m.Close()
	ctx := context.Background()
	// A long-lived key first, then a flood of short-lived ones.
	if err := m.Set(ctx, "keep", []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10_000; i++ {
		if err := m.Set(ctx, fmt.Sprintf("flood-%d", i), []byte("x"), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if n := m.rawLen(); n > memoryShards*10 {
		t.Fatalf("memory store holds %d keys, limit %d", n, memoryShards*10)
	}
	if m.Evicted() == 0 {
		t.Fatal("nothing counted as evicted")
	}
	// Keys that expire first go first: the hour-long key survives.
	if _, err := m.Get(ctx, "keep", 0); err != nil {
		t.Fatalf("long-lived key evicted before short-lived ones: %v", err)
	}
}
