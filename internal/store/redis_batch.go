package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// maxBatch bounds the reads sent in one pipeline.
const maxBatch = 64

// reads sends concurrent Gets to Redis together: while one batch is on
// its way, the reads that arrive queue up and go as the next batch, in
// one pipeline (one write, one read event on the server) instead of a
// round trip each. A read that finds no batch on its way sends at once,
// so a quiet instance waits for nothing. Every request whose session the
// cache does not hold makes one such read: under load this saves most of
// the system calls on both sides of the connection, which share the CPUs.
//
// The read that finds no batch on its way leads: it sends the queue,
// hands out the results and, when more reads queued meanwhile, hands the
// lead to the first of them. A read waits for its batch; each batch is
// bounded by the client's read and write timeouts.
type reads struct {
	c     redis.UniversalClient
	mu    sync.Mutex
	queue []*read
	busy  bool // a batch is on its way, led by someone
}

// read is one Get waiting for its batch.
type read struct {
	key   string
	touch time.Duration
	// wake is signalled once: the result is in (done), or the read is to
	// lead the next batch.
	wake chan struct{}
	done bool
	val  []byte
	err  error
}

func (b *reads) get(ctx context.Context, key string, touch time.Duration) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rd := &read{key: key, touch: touch, wake: make(chan struct{}, 1)}
	b.mu.Lock()
	b.queue = append(b.queue, rd)
	lead := !b.busy
	b.busy = true
	b.mu.Unlock()
	if !lead {
		<-rd.wake
		if rd.done {
			return rd.val, rd.err
		}
	}
	b.run(ctx)
	return rd.val, rd.err
}

// run sends the queued reads (the leader's among them) as one batch and
// passes the lead on. When Redis could not be reached, every read still
// queued fails with the batch at once: each would otherwise wait its turn
// for a batch that fails the same way, one timeout after another.
func (b *reads) run(ctx context.Context) {
	b.mu.Lock()
	n := min(len(b.queue), maxBatch)
	batch := make([]*read, n)
	copy(batch, b.queue)
	b.queue = append(b.queue[:0], b.queue[n:]...)
	b.mu.Unlock()

	var next *read
	defer func() {
		// Even if the batch panicked: no read is left waiting.
		b.mu.Lock()
		if v := recover(); v != nil {
			for _, rd := range batch {
				if !rd.done {
					rd.err = fmt.Errorf("reading from redis: panic: %v", v)
				}
			}
		}
		if failed := connectionError(batch); failed != nil {
			batch = append(batch, b.queue...)
			b.queue = b.queue[:0]
			for _, rd := range batch {
				if rd.err == nil && rd.val == nil {
					rd.err = failed
				}
			}
		}
		if len(b.queue) > 0 {
			next = b.queue[0]
		} else {
			b.busy = false
		}
		b.mu.Unlock()
		for _, rd := range batch {
			rd.done = true
			rd.wake <- struct{}{}
		}
		if next != nil {
			next.wake <- struct{}{} // lead the next batch
		}
	}()

	// The batch carries other requests' reads: it must not end with the
	// leader's request (the client's timeouts bound it).
	ctx = context.WithoutCancel(ctx)
	if len(batch) == 1 {
		batch[0].val, batch[0].err = getCmd(ctx, b.c, batch[0]).Bytes()
		return
	}
	cmds := make([]*redis.StringCmd, len(batch))
	_, _ = b.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, rd := range batch {
			cmds[i] = getCmd(ctx, p, rd)
		}
		return nil
	})
	for i, rd := range batch {
		rd.val, rd.err = cmds[i].Bytes()
	}
}

// connectionError is the error of a batch that did not reach Redis (not
// a missing key, not a reply such as WRONGTYPE); nil otherwise.
func connectionError(batch []*read) error {
	for _, rd := range batch {
		var reply redis.Error
		if rd.err != nil && !errors.Is(rd.err, redis.Nil) && !errors.As(rd.err, &reply) {
			return rd.err
		}
	}
	return nil
}

// getCmd is GET key, or GETEX key with a new time to live when touching.
func getCmd(ctx context.Context, c redis.Cmdable, rd *read) *redis.StringCmd {
	if rd.touch > 0 {
		return c.GetEx(ctx, rd.key, rd.touch)
	}
	return c.Get(ctx, rd.key)
}
