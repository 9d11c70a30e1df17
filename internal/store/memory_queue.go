package store

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"
)

// memoryQueues holds a Memory's queues (see Queue). They live in the
// process only, like the rest of a Memory: "durable" holds for consumers
// that stop and start again, not for the process itself. They are bounded by
// nothing but memory: NewMemoryLimit's limit counts keys, not queued
// messages, and an undelivered message stays until it is acked.
//
// One mutex guards all queues; every operation is short (Claim waits
// outside it).
type memoryQueues struct {
	mu      sync.Mutex
	streams map[string]*memoryStream
}

// memoryStream is one queue.
type memoryStream struct {
	last   uint64          // sequence number of the last message enqueued
	msgs   []memoryMessage // messages not acked, by sequence number
	groups map[string]*memoryGroup
	wake   chan struct{} // closed, and replaced, when a message is enqueued
}

type memoryMessage struct {
	seq  uint64
	body []byte // never mutated: copied on the way in and out
}

// memoryGroup is a consumer group: like a Redis one, it has handed out
// every message up to delivered, and pending holds those not acked yet.
type memoryGroup struct {
	delivered uint64
	pending   map[uint64]memoryClaim
}

type memoryClaim struct {
	consumer string
	at       time.Time // when consumer claimed or last extended it
}

// stream returns the queue named name, creating it. The caller holds q.mu.
func (q *memoryQueues) stream(name string) *memoryStream {
	s := q.streams[name]
	if s == nil {
		if q.streams == nil {
			q.streams = map[string]*memoryStream{}
		}
		s = &memoryStream{groups: map[string]*memoryGroup{}, wake: make(chan struct{})}
		q.streams[name] = s
	}
	return s
}

// group returns the consumer group named name, creating it so that it
// starts at the beginning of the stream (like XGROUP CREATE … 0).
func (s *memoryStream) group(name string) *memoryGroup {
	g := s.groups[name]
	if g == nil {
		g = &memoryGroup{pending: map[uint64]memoryClaim{}}
		s.groups[name] = g
	}
	return g
}

// find returns the index of the message with sequence number seq.
func (s *memoryStream) find(seq uint64) (int, bool) {
	return slices.BinarySearchFunc(s.msgs, seq, func(m memoryMessage, seq uint64) int { return cmp.Compare(m.seq, seq) })
}

// claim hands out up to n messages to consumer as Queue.Claim describes,
// without waiting. The caller holds the queues' lock.
func (s *memoryStream) claim(group, consumer string, n int, stale time.Duration, now time.Time) []Message {
	g := s.group(group)
	out := make([]Message, 0, n)
	take := func(seq uint64) {
		i, ok := s.find(seq)
		if !ok { // acked meanwhile; Ack normally drops the claim too
			delete(g.pending, seq)
			return
		}
		g.pending[seq] = memoryClaim{consumer: consumer, at: now}
		out = append(out, Message{ID: formatMemoryID(seq), Body: bytes.Clone(s.msgs[i].body)})
	}
	// The consumer's own claims first, then those gone stale.
	for _, stolen := range []bool{false, true} {
		for _, seq := range slices.Sorted(maps.Keys(g.pending)) {
			if len(out) == n {
				return out
			}
			c := g.pending[seq]
			switch {
			case !stolen && c.consumer == consumer:
				take(seq)
			case stolen && c.consumer != consumer && now.Sub(c.at) >= stale:
				take(seq)
			}
		}
	}
	// Then new ones.
	i, _ := s.find(g.delivered + 1)
	for ; i < len(s.msgs) && len(out) < n; i++ {
		seq := s.msgs[i].seq
		g.delivered = seq
		take(seq)
	}
	return out
}

// Enqueue implements Queue. Sequence numbers, the ids, start at 1. The
// memory store's queues are bounded by nothing but memory, and live only as
// long as the process.
func (m *Memory) Enqueue(ctx context.Context, stream string, body []byte) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("store: memory enqueue: %w", err)
	}
	msg := memoryMessage{body: bytes.Clone(body)}
	q := &m.queues
	q.mu.Lock()
	defer q.mu.Unlock()
	s := q.stream(stream)
	s.last++
	msg.seq = s.last
	s.msgs = append(s.msgs, msg)
	close(s.wake)
	s.wake = make(chan struct{})
	return formatMemoryID(msg.seq), nil
}

// Claim implements Queue. A waiting Claim wakes on every Enqueue to the
// stream.
func (m *Memory) Claim(ctx context.Context, stream, group, consumer string, n int, stale, wait time.Duration) ([]Message, error) {
	if err := checkClaim("memory claim", n, stale); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("store: memory claim: %w", err)
		}
		q := &m.queues
		q.mu.Lock()
		s := q.stream(stream)
		msgs := s.claim(group, consumer, n, stale, time.Now())
		wake := s.wake
		q.mu.Unlock()
		left := time.Until(deadline)
		if len(msgs) > 0 || left <= 0 {
			return msgs, nil
		}
		if timer == nil {
			timer = time.NewTimer(left)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("store: memory claim: %w", ctx.Err())
		case <-wake:
		case <-timer.C:
			// One last look, then the loop returns what it found.
		}
	}
}

// Extend implements Queue.
func (m *Memory) Extend(ctx context.Context, stream, group, consumer string, ids ...string) error {
	return m.onMessages(ctx, "memory extend", ids, func(q *memoryQueues, seqs []uint64) error {
		var g *memoryGroup
		if s := q.streams[stream]; s != nil {
			g = s.groups[group]
		}
		now := time.Now()
		var missing []string
		for i, seq := range seqs {
			var c memoryClaim
			ok := false
			if g != nil {
				c, ok = g.pending[seq]
			}
			if !ok || c.consumer != consumer {
				missing = append(missing, ids[i])
				continue
			}
			c.at = now
			g.pending[seq] = c
		}
		if len(missing) > 0 {
			return &NotClaimedError{IDs: missing}
		}
		return nil
	})
}

// Ack implements Queue. It removes the messages from the stream and from
// every group's claims, as XACK and XDEL do together.
func (m *Memory) Ack(ctx context.Context, stream, _ string, ids ...string) error {
	return m.onMessages(ctx, "memory ack", ids, func(q *memoryQueues, seqs []uint64) error {
		s := q.streams[stream]
		if s == nil {
			return nil
		}
		for _, seq := range seqs {
			if i, ok := s.find(seq); ok {
				s.msgs = slices.Delete(s.msgs, i, i+1)
			}
			for _, g := range s.groups {
				delete(g.pending, seq)
			}
		}
		return nil
	})
}

// Depth implements Queue.
func (m *Memory) Depth(ctx context.Context, stream string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("store: memory depth: %w", err)
	}
	q := &m.queues
	q.mu.Lock()
	defer q.mu.Unlock()
	if s := q.streams[stream]; s != nil {
		return int64(len(s.msgs)), nil
	}
	return 0, nil
}

func formatMemoryID(seq uint64) string { return strconv.FormatUint(seq, 10) }

// onMessages runs fn on the message ids of op, parsed, under the queues'
// lock, unless ctx is done already or an id is malformed (refused as Redis
// does).
func (m *Memory) onMessages(ctx context.Context, op string, ids []string, fn func(q *memoryQueues, seqs []uint64) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	seqs, err := parseMemoryIDs(op, ids)
	if err != nil {
		return err
	}
	q := &m.queues
	q.mu.Lock()
	defer q.mu.Unlock()
	return fn(q, seqs)
}

// parseMemoryIDs parses message ids, refusing malformed ones as Redis does.
func parseMemoryIDs(op string, ids []string) ([]uint64, error) {
	seqs := make([]uint64, len(ids))
	for i, id := range ids {
		seq, err := strconv.ParseUint(id, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("store: %s: invalid message id %q", op, id)
		}
		seqs[i] = seq
	}
	return seqs, nil
}
