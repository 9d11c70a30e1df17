package store

import (
	"context"
	"errors"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestOpenRedisReferences(t *testing.T) {
	// Nothing listens here; OpenRedis does not dial.
	opts := RedisOptions{Addrs: []string{"127.0.0.1:1"}, Password: "pool-refs-test"}
	key := opts.poolKey()
	refs := func() int {
		n, _ := redisClients.References(key)
		return n
	}
	a, err := OpenRedis(opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenRedis(opts)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		do   func() error
		want int
	}{
		{"two opened", func() error { return nil }, 2},
		{"close a", a.Close, 1},
		{"close a again", a.Close, 1},
		{"close b", b.Close, 0},
		{"close b again", b.Close, 0},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if n := refs(); n != st.want {
			t.Fatalf("after %s: references = %d, want %d", st.name, n, st.want)
		}
	}
	if err := a.Client().Ping(context.Background()).Err(); !errors.Is(err, redis.ErrClosed) {
		t.Errorf("Ping after the last Close = %v, want redis.ErrClosed", err)
	}
}

func TestRedisPoolKeyDefaultsTimeout(t *testing.T) {
	a := RedisOptions{Addrs: []string{"h:6379"}}
	b := RedisOptions{Addrs: []string{"h:6379"}, Timeout: DefaultRedisTimeout}
	if a.poolKey() != b.poolKey() {
		t.Error("default and explicit default timeout give different pool keys")
	}
	c := RedisOptions{Addrs: []string{"h:6379", "i:6379"}}
	if a.poolKey() == c.poolKey() {
		t.Error("different addresses give equal pool keys")
	}
}
