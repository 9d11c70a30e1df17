package storetest

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// NewMemory returns a memory store closed when tb ends.
func NewMemory(tb testing.TB) *store.Memory {
	m := store.NewMemory()
	tb.Cleanup(func() { m.Close() })
	return m
}

// OpenRedis opens a store on the Redis server at addr, closed when tb
// ends; it fails tb when it cannot.
func OpenRedis(tb testing.TB, addr string) *store.Redis {
	tb.Helper()
	r, err := store.OpenRedis(store.RedisOptions{Addrs: []string{addr}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { r.Close() })
	return r
}
