package store

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisQueueField is the stream entry field holding a message's body.
const redisQueueField = "b"

// extendScript renews the claims of ARGV[3..] held by consumer ARGV[2] of
// group ARGV[1] on stream KEYS[1] (XCLAIM … 0 JUSTID, which resets their
// idle time), and returns the ids the consumer does not hold. Checking the
// owner first keeps a consumer whose claim was taken over from stealing it
// back. Error replies (NOGROUP, a malformed id) are returned as they are.
var extendScript = redis.NewScript(`
local missing = {}
for i = 3, #ARGV do
	local p = redis.pcall("XPENDING", KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2])
	if type(p) == "table" and p.err then
		return p
	end
	local claimed = {}
	if #p > 0 then
		claimed = redis.call("XCLAIM", KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], "JUSTID")
	end
	if #claimed == 0 then
		missing[#missing + 1] = ARGV[i]
	end
end
return missing
`)

// redisGroupKey identifies a consumer group known to exist, in Redis.groups.
type redisGroupKey struct{ stream, group string }

// Enqueue implements Queue: XADD stream * b body. The stream is not
// trimmed: Ack deletes what it acknowledges, so what stays is what waits.
func (r *Redis) Enqueue(ctx context.Context, stream string, body []byte) (string, error) {
	id, err := r.c.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []any{redisQueueField, body}}).Result()
	if err != nil {
		return "", redisErr("enqueue", err)
	}
	return id, nil
}

// Claim implements Queue with a stream consumer group, created on first use
// at the start of the stream (XGROUP CREATE … 0 MKSTREAM): XREADGROUP … 0
// for the consumer's own pending messages (which also resets their idle
// time), XAUTOCLAIM for those idle at least stale, then XREADGROUP … >,
// with BLOCK when it has found nothing yet.
//
// go-redis cannot interrupt a command in flight, so the blocking read runs
// in its own goroutine and a cancelled ctx returns at once, leaving that read
// to end on its own within wait (holding one pooled connection meanwhile).
// Messages it still gets are claimed by consumer: its next Claim returns
// them, or another consumer takes them over after stale.
func (r *Redis) Claim(ctx context.Context, stream, group, consumer string, n int, stale, wait time.Duration) ([]Message, error) {
	if err := checkClaim("redis claim", n, stale); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, redisErr("claim", err)
	}
	var out []Message
	err := r.withGroup(ctx, stream, group, func() error {
		out = make([]Message, 0, n)
		var err error
		if out, err = r.claimOwn(ctx, stream, group, consumer, n, out); err != nil {
			return err
		}
		if out, err = r.claimStale(ctx, stream, group, consumer, n, stale, out); err != nil {
			return err
		}
		out, err = r.claimNew(ctx, stream, group, consumer, n, wait, out)
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, redisErr("claim", err)
	}
	return out, nil
}

// claimOwn appends the consumer's pending messages, up to n in all.
func (r *Redis) claimOwn(ctx context.Context, stream, group, consumer string, n int, out []Message) ([]Message, error) {
	for start := "0"; len(out) < n; {
		count := n - len(out)
		res, err := r.c.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: group, Consumer: consumer, Streams: []string{stream, start}, Count: int64(count), Block: -1,
		}).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return out, err
		}
		msgs := streamMessages(res)
		if len(msgs) == 0 {
			break
		}
		if out, err = r.appendMessages(ctx, stream, group, out, msgs); err != nil {
			return out, err
		}
		if len(msgs) < count {
			break
		}
		start = msgs[len(msgs)-1].ID
	}
	return out, nil
}

// claimStale appends messages idle at least stale, taken over from other
// consumers, up to n in all.
func (r *Redis) claimStale(ctx context.Context, stream, group, consumer string, n int, stale time.Duration, out []Message) ([]Message, error) {
	for start := "0-0"; len(out) < n; {
		msgs, next, err := r.c.XAutoClaim(ctx, &redis.XAutoClaimArgs{
			Stream: stream, Group: group, Consumer: consumer,
			MinIdle: max(stale, time.Millisecond), Start: start, Count: int64(n - len(out)),
		}).Result()
		if err != nil {
			return out, err
		}
		if out, err = r.appendMessages(ctx, stream, group, out, msgs); err != nil {
			return out, err
		}
		if next == "0-0" || next == "" {
			break
		}
		start = next
	}
	return out, nil
}

// claimNew appends new messages, up to n in all, waiting up to wait for one
// if out is still empty.
func (r *Redis) claimNew(ctx context.Context, stream, group, consumer string, n int, wait time.Duration, out []Message) ([]Message, error) {
	if len(out) >= n {
		return out, nil
	}
	args := &redis.XReadGroupArgs{
		Group: group, Consumer: consumer, Streams: []string{stream, ">"}, Count: int64(n - len(out)), Block: -1,
	}
	var (
		res []redis.XStream
		err error
	)
	if len(out) == 0 && wait > 0 {
		block := wait
		if dl, ok := ctx.Deadline(); ok {
			block = min(block, time.Until(dl))
		}
		// BLOCK 0 would wait forever: at least a millisecond.
		args.Block = max(block, time.Millisecond)
		res, err = r.blockingRead(ctx, args)
	} else {
		res, err = r.c.XReadGroup(ctx, args).Result()
	}
	if err != nil && !errors.Is(err, redis.Nil) { // Nil: BLOCK timed out
		return out, err
	}
	return r.appendMessages(ctx, stream, group, out, streamMessages(res))
}

// blockingRead runs a blocking XREADGROUP, returning early with ctx's error
// when ctx is done.
func (r *Redis) blockingRead(ctx context.Context, args *redis.XReadGroupArgs) ([]redis.XStream, error) {
	type result struct {
		streams []redis.XStream
		err     error
	}
	done := make(chan result, 1)
	go func() {
		// The command is bounded by BLOCK (plus go-redis's read timeout),
		// not by ctx.
		s, err := r.c.XReadGroup(context.WithoutCancel(ctx), args).Result()
		done <- result{s, err}
	}()
	select {
	case res := <-done:
		return res.streams, res.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// appendMessages appends msgs to out, acking away entries without a body:
// XREADGROUP … 0 lists a pending entry whose payload was deleted with nil
// fields (as XAUTOCLAIM does on Redis 6.2), and an entry some other writer
// added without the body field is of no use either.
func (r *Redis) appendMessages(ctx context.Context, stream, group string, out []Message, msgs []redis.XMessage) ([]Message, error) {
	var junk []string
	for _, m := range msgs {
		body, ok := m.Values[redisQueueField].(string)
		if !ok {
			junk = append(junk, m.ID)
			continue
		}
		out = append(out, Message{ID: m.ID, Body: []byte(body)})
	}
	if len(junk) > 0 {
		if err := r.ackDel(ctx, stream, group, junk); err != nil {
			return out, err
		}
	}
	return out, nil
}

// streamMessages returns the messages of the one stream a read asked for.
func streamMessages(res []redis.XStream) []redis.XMessage {
	if len(res) == 0 {
		return nil
	}
	return res[0].Messages
}

// Extend implements Queue: a Lua script checking each id's owner with
// XPENDING and renewing it with XCLAIM … 0 JUSTID.
func (r *Redis) Extend(ctx context.Context, stream, group, consumer string, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, 0, 2+len(ids))
	args = append(args, group, consumer)
	for _, id := range ids {
		args = append(args, id)
	}
	var missing []string
	err := r.withGroup(ctx, stream, group, func() error {
		var err error
		missing, err = extendScript.Run(ctx, r.c, []string{stream}, args...).StringSlice()
		return err
	})
	if err != nil {
		return redisErr("extend", err)
	}
	if len(missing) > 0 {
		return &NotClaimedError{IDs: missing}
	}
	return nil
}

// Ack implements Queue: XACK and XDEL in one MULTI/EXEC transaction, so
// that Depth can be XLEN.
func (r *Redis) Ack(ctx context.Context, stream, group string, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	if err := r.ackDel(ctx, stream, group, ids); err != nil {
		return redisErr("ack", err)
	}
	return nil
}

func (r *Redis) ackDel(ctx context.Context, stream, group string, ids []string) error {
	_, err := r.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.XAck(ctx, stream, group, ids...)
		p.XDel(ctx, stream, ids...)
		return nil
	})
	return err
}

// Depth implements Queue: XLEN (acked messages are deleted).
func (r *Redis) Depth(ctx context.Context, stream string) (int64, error) {
	n, err := r.c.XLen(ctx, stream).Result()
	if err != nil {
		return 0, redisErr("depth", err)
	}
	return n, nil
}

// withGroup runs fn once the consumer group exists. Whether it does is
// cached per store; when the group has gone (the stream was deleted, or the
// server lost its data), fn's NOGROUP error makes withGroup create it again
// and run fn once more.
func (r *Redis) withGroup(ctx context.Context, stream, group string, fn func() error) error {
	key := redisGroupKey{stream, group}
	if err := r.ensureGroup(ctx, key); err != nil {
		return err
	}
	err := fn()
	if err == nil || !redis.HasErrorPrefix(err, "NOGROUP") {
		return err
	}
	r.groups.Delete(key)
	if err := r.ensureGroup(ctx, key); err != nil {
		return err
	}
	return fn()
}

// ensureGroup creates the group at the start of the stream, creating the
// stream too, unless it is known to exist.
func (r *Redis) ensureGroup(ctx context.Context, key redisGroupKey) error {
	if _, ok := r.groups.Load(key); ok {
		return nil
	}
	err := r.c.XGroupCreateMkStream(ctx, key.stream, key.group, "0").Err()
	if err != nil && !redis.HasErrorPrefix(err, "BUSYGROUP") {
		return err
	}
	r.groups.Store(key, struct{}{})
	return nil
}
