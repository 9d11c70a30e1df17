package store

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// go-redis's own messages (here: a failed dial) reach Caddy's logger as
// warnings, and not stderr.
func TestRedisLogsThroughCaddy(t *testing.T) {
	core, logs := observer.New(zap.WarnLevel)
	redisLogTo.Store(zap.New(core))
	t.Cleanup(func() { redisLogTo.Store(nil) })

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	r, err := OpenRedis(RedisOptions{Addrs: []string{addr}, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.Ping(ctx); err == nil {
		t.Fatal("ping to a closed port succeeded")
	}
	deadline := time.Now().Add(5 * time.Second)
	for logs.Len() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	var lines []string
	for _, e := range logs.All() {
		lines = append(lines, e.Message)
	}
	if !strings.Contains(strings.Join(lines, "\n"), addr) {
		t.Fatalf("go-redis logged %q through Caddy's logger; want its failed dial to %s", lines, addr)
	}
}
