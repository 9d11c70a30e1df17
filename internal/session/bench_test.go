package session

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse/internal/identity"
	"github.com/gatehouse-auth/gatehouse/internal/keys"
	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/store/storetest"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/redistest"
)

// sample is a session of typical size.
func sample() *Session {
	return &Session{
		User:        identity.User{UserID: "github:1234567", Login: "alice", Email: "alice@example.com", Name: "Alice Example", Avatar: "https://avatars.githubusercontent.com/u/1234567?v=4", Provider: "github", Groups: []string{"acme", "acme/backend"}, Repos: []string{"acme/api", "acme/web"}},
		Host:        "app.example.com",
		AccessToken: "gho_" + fmt.Sprint(time.Now().UnixNano()),
	}
}

func BenchmarkParseToken(b *testing.B) {
	ring, _ := keys.Derive(secret)
	_, tok := newToken(ring)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := parseToken(ring, tok); err != nil {
			b.Fatal(err)
		}
	}
}

func benchLoad(b *testing.B, st store.Store, cacheTTL time.Duration) {
	ring, _ := keys.Derive(secret)
	m := NewManager(Options{Store: st, Ring: ring, KeyPrefix: "bench:", CacheTTL: cacheTTL})
	defer m.Close()
	ctx := context.Background()
	tok, err := m.Create(ctx, sample())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Load(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad is the store lookup of one request: token check, read
// (sliding the idle timeout), decrypt and decode — or a cache hit.
func BenchmarkLoad(b *testing.B) {
	b.Run("memory", func(b *testing.B) { benchLoad(b, store.NewMemory(), 0) })
	b.Run("memory+cache", func(b *testing.B) { benchLoad(b, store.NewMemory(), time.Minute) })
	b.Run("redis", func(b *testing.B) { benchLoad(b, redisStore(b), 0) })
	b.Run("redis+cache", func(b *testing.B) { benchLoad(b, redisStore(b), time.Minute) })
}

func redisStore(b *testing.B) store.Store {
	return storetest.OpenRedis(b, redistest.Shared.Addr)
}

// BenchmarkRedisBytesPerSession reports what one session costs in Redis
// (MEMORY USAGE of its key, value sealed with AES-GCM).
func BenchmarkRedisBytesPerSession(b *testing.B) {
	st := redisStore(b)
	ring, _ := keys.Derive(secret)
	m := NewManager(Options{Store: st, Ring: ring, KeyPrefix: "size:"})
	ctx := context.Background()
	var total int64
	for i := 0; i < b.N; i++ {
		tok, err := m.Create(ctx, sample())
		if err != nil {
			b.Fatal(err)
		}
		t, _ := parseToken(ring, tok)
		n, err := redistest.Shared.Client().MemoryUsage(ctx, m.key(t)).Result()
		if err != nil {
			b.Fatal(err)
		}
		total += n
	}
	b.ReportMetric(float64(total)/float64(b.N), "bytes/session")
}

// BenchmarkRedisLoadAmong1MSessions looks one session up while Redis
// holds a million (set GATEHOUSE_BENCH_SESSIONS to change the count).
func BenchmarkRedisLoadAmong1MSessions(b *testing.B) {
	count := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("GATEHOUSE_BENCH_SESSIONS")); err == nil && v > 0 {
		count = v
	}
	ctx := context.Background()
	c := redistest.Shared.Client()
	ring, _ := keys.Derive(secret)
	m := NewManager(Options{Store: redisStore(b), Ring: ring, KeyPrefix: "million:"})
	if n, _ := c.DBSize(ctx).Result(); n < int64(count) {
		// Fill with sealed values of realistic size, pipelined.
		value, _ := ring.SealJSON(sample(), "x")
		for done := 0; done < count; {
			_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
				for j := 0; j < 10_000 && done < count; j++ {
					p.Set(ctx, fmt.Sprintf("million:session:%064d", done), value, time.Hour)
					done++
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	tok, err := m.Create(ctx, sample())
	if err != nil {
		b.Fatal(err)
	}
	used, _ := c.Info(ctx, "memory").Result()
	b.Logf("redis holds %d keys; %s", count, firstLine(used, "used_memory_human:"))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Load(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

func firstLine(info, prefix string) string {
	for _, l := range strings.Split(info, "\r\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}
