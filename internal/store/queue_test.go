package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/store/storetest"
)

// prefixedQueue puts every stream of a Queue under its own prefix, so that
// tests sharing one server do not see each other's messages.
type prefixedQueue struct {
	q      store.Queue
	prefix string
}

func (p prefixedQueue) Enqueue(ctx context.Context, stream string, body []byte) (string, error) {
	return p.q.Enqueue(ctx, p.prefix+stream, body)
}

func (p prefixedQueue) Claim(ctx context.Context, stream, group, consumer string, n int, stale, wait time.Duration) ([]store.Message, error) {
	return p.q.Claim(ctx, p.prefix+stream, group, consumer, n, stale, wait)
}

func (p prefixedQueue) Extend(ctx context.Context, stream, group, consumer string, ids ...string) error {
	return p.q.Extend(ctx, p.prefix+stream, group, consumer, ids...)
}

func (p prefixedQueue) Ack(ctx context.Context, stream, group string, ids ...string) error {
	return p.q.Ack(ctx, p.prefix+stream, group, ids...)
}

func (p prefixedQueue) Depth(ctx context.Context, stream string) (int64, error) {
	return p.q.Depth(ctx, p.prefix+stream)
}

// openTestRedis opens a store on testRedis and a key prefix unique to t.
func openTestRedis(t *testing.T) (*store.Redis, string) {
	t.Helper()
	return storetest.OpenRedis(t, testRedis.Addr), fmt.Sprintf("test:%s#%d:", t.Name(), prefixSeq.Add(1))
}

func TestMemoryQueue(t *testing.T) {
	storetest.RunQueue(t, func(t *testing.T) store.Queue { return storetest.NewMemory(t) })
}

func TestRedisQueue(t *testing.T) {
	storetest.RunQueue(t, func(t *testing.T) store.Queue {
		r, prefix := openTestRedis(t)
		return prefixedQueue{q: r, prefix: prefix}
	})
}

// TestRedisQueueDeletedPayload checks that a pending entry deleted behind
// the queue's back (XDEL without XACK) is acked away rather than returned
// with no body.
func TestRedisQueueDeletedPayload(t *testing.T) {
	ctx := t.Context()
	r, prefix := openTestRedis(t)
	stream := prefix + "q"
	var ids []string
	for _, b := range []string{"keep", "gone", "also kept"} {
		id, err := r.Enqueue(ctx, stream, []byte(b))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if msgs, err := r.Claim(ctx, stream, "g", "a", 10, time.Minute, 0); err != nil || len(msgs) != 3 {
		t.Fatalf("Claim = %d messages, %v; want 3", len(msgs), err)
	}
	c := testRedis.Client()
	if err := c.XDel(ctx, stream, ids[1]).Err(); err != nil {
		t.Fatal(err)
	}
	msgs, err := r.Claim(ctx, stream, "g", "a", 10, time.Minute, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range msgs {
		got = append(got, string(m.Body))
	}
	if !slices.Equal(got, []string{"keep", "also kept"}) {
		t.Fatalf("Claim after XDEL = %q; want [keep also kept]", got)
	}
	pending, err := c.XPending(ctx, stream, "g").Result()
	if err != nil {
		t.Fatal(err)
	}
	if pending.Count != 2 {
		t.Errorf("pending after Claim = %d; want 2 (the deleted entry acked away)", pending.Count)
	}
}

// TestRedisQueueGroupRecreated checks that the store notices when its
// cached consumer group has gone with the stream, and creates it again.
func TestRedisQueueGroupRecreated(t *testing.T) {
	ctx := t.Context()
	r, prefix := openTestRedis(t)
	stream := prefix + "q"
	if _, err := r.Enqueue(ctx, stream, []byte("first")); err != nil {
		t.Fatal(err)
	}
	msgs, err := r.Claim(ctx, stream, "g", "a", 10, time.Minute, 0)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Claim = %d messages, %v; want 1", len(msgs), err)
	}
	if err := testRedis.Client().Del(ctx, stream).Err(); err != nil {
		t.Fatal(err)
	}
	if err := r.Extend(ctx, stream, "g", "a", msgs[0].ID); err == nil {
		t.Error("Extend of a message in a deleted stream succeeded")
	}
	if _, err := r.Enqueue(ctx, stream, []byte("second")); err != nil {
		t.Fatal(err)
	}
	msgs, err = r.Claim(ctx, stream, "g", "a", 10, time.Minute, time.Second)
	if err != nil || len(msgs) != 1 || string(msgs[0].Body) != "second" {
		t.Fatalf("Claim after the stream was deleted = %v, %v; want [second]", msgs, err)
	}
}
