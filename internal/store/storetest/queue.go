package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

const (
	// queueStale is the claim age after which tests expect a takeover.
	queueStale = 150 * time.Millisecond
	// queueNoStale is a stale that no test reaches.
	queueNoStale = time.Minute
	// queueBound is how long a test waits for something that should happen
	// at once, or a takeover that should happen after queueStale.
	queueBound = 3 * time.Second
	// queueConcurrent is how many messages two consumers race for.
	queueConcurrent = 50
)

// RunQueue runs the conformance suite for store.Queue against queues made
// by newQueue, which is called once per subtest and should register its
// own cleanup. Subtests run in parallel and each uses the stream "q" and
// the group "g", so newQueue must return queues that do not share streams
// (for a shared server, prefix the stream names).
func RunQueue(t *testing.T, newQueue func(t *testing.T) store.Queue) {
	tests := []suiteTest[store.Queue]{
		{"FIFO", testQueueFIFO},
		{"AckRemoves", testQueueAckRemoves},
		{"RestartGetsOwnClaims", testQueueRestart},
		{"StaleTakeover", testQueueStaleTakeover},
		{"ExtendPreventsTakeover", testQueueExtend},
		{"ClaimWakesOnEnqueue", testQueueClaimWakes},
		{"ClaimEmptyAfterWait", testQueueClaimEmpty},
		{"CancelledContext", testQueueCancelled},
		{"ConcurrentConsumers", testQueueConcurrent},
		{"CopiesBodies", testQueueCopiesBodies},
		{"BadArguments", testQueueBadArguments},
	}
	runParallel(t, tests, newQueue)
}

func enqueue(t *testing.T, q store.Queue, bodies ...string) []string {
	t.Helper()
	ids := make([]string, len(bodies))
	for i, b := range bodies {
		id, err := q.Enqueue(t.Context(), "q", []byte(b))
		if err != nil {
			t.Fatalf("Enqueue(%q): %v", b, err)
		}
		if id == "" || slices.Contains(ids[:i], id) {
			t.Fatalf("Enqueue(%q) = id %q; want a new, non-empty id (earlier: %q)", b, id, ids[:i])
		}
		ids[i] = id
	}
	return ids
}

// claim calls Claim without waiting and fails t on an error.
func claim(t *testing.T, q store.Queue, consumer string, n int, stale time.Duration) []store.Message {
	t.Helper()
	msgs, err := q.Claim(t.Context(), "q", "g", consumer, n, stale, 0)
	if err != nil {
		t.Fatalf("Claim(%s): %v", consumer, err)
	}
	if msgs == nil {
		t.Fatalf("Claim(%s) = nil slice; want an empty one", consumer)
	}
	return msgs
}

func bodies(msgs []store.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = string(m.Body)
	}
	return out
}

func messageIDs(msgs []store.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}

func wantDepth(t *testing.T, q store.Queue, want int64) {
	t.Helper()
	if n, err := q.Depth(t.Context(), "q"); err != nil || n != want {
		t.Fatalf("Depth = %d, %v; want %d", n, err, want)
	}
}

func ack(t *testing.T, q store.Queue, ids ...string) {
	t.Helper()
	if err := q.Ack(t.Context(), "q", "g", ids...); err != nil {
		t.Fatalf("Ack(%q): %v", ids, err)
	}
}

func testQueueFIFO(t *testing.T, q store.Queue) {
	wantDepth(t, q, 0)
	if n, err := q.Depth(t.Context(), "missing"); err != nil || n != 0 {
		t.Fatalf("Depth of a missing stream = %d, %v; want 0", n, err)
	}
	want := []string{"one", "two", "", "three\x00\xff", "four", "five"}
	ids := enqueue(t, q, want...)
	wantDepth(t, q, int64(len(want)))
	got := claim(t, q, "a", 2, queueNoStale)
	got = append(got, claim(t, q, "b", 10, queueNoStale)...)
	if !slices.Equal(bodies(got), want) || !slices.Equal(messageIDs(got), ids) {
		t.Fatalf("claimed %q (ids %q); want %q (ids %q)", bodies(got), messageIDs(got), want, ids)
	}
	if more := claim(t, q, "c", 10, queueNoStale); len(more) != 0 {
		t.Fatalf("Claim after all were claimed = %q; want none", bodies(more))
	}
	// Claiming does not remove anything.
	wantDepth(t, q, int64(len(want)))
}

func testQueueAckRemoves(t *testing.T, q store.Queue) {
	ids := enqueue(t, q, "a", "b", "c", "d", "e")
	msgs := claim(t, q, "a", 5, queueNoStale)
	if len(msgs) != 5 {
		t.Fatalf("claimed %d; want 5", len(msgs))
	}
	ack(t, q, ids[1], ids[3])
	wantDepth(t, q, 3)
	ack(t, q, ids[1]) // again: ignored
	ack(t, q)         // no ids
	wantDepth(t, q, 3)
	// The rest is still this consumer's, and comes back in order.
	if got := claim(t, q, "a", 10, queueNoStale); !slices.Equal(bodies(got), []string{"a", "c", "e"}) {
		t.Fatalf("Claim after Ack = %q; want [a c e]", bodies(got))
	}
	ack(t, q, ids[0], ids[2], ids[4])
	wantDepth(t, q, 0)
	if got := claim(t, q, "a", 10, queueNoStale); len(got) != 0 {
		t.Fatalf("Claim after acking all = %q; want none", bodies(got))
	}
}

func testQueueRestart(t *testing.T, q store.Queue) {
	enqueue(t, q, "1", "2", "3", "4")
	if got := claim(t, q, "a", 2, queueNoStale); !slices.Equal(bodies(got), []string{"1", "2"}) {
		t.Fatalf("first Claim = %q; want [1 2]", bodies(got))
	}
	// Another consumer does not get them before they are stale.
	if got := claim(t, q, "b", 1, queueNoStale); !slices.Equal(bodies(got), []string{"3"}) {
		t.Fatalf("Claim by another consumer = %q; want [3]", bodies(got))
	}
	// The restarted consumer gets its own first, then new ones.
	if got := claim(t, q, "a", 2, queueNoStale); !slices.Equal(bodies(got), []string{"1", "2"}) {
		t.Fatalf("Claim after restart, n=2 = %q; want [1 2]", bodies(got))
	}
	if got := claim(t, q, "a", 10, queueNoStale); !slices.Equal(bodies(got), []string{"1", "2", "4"}) {
		t.Fatalf("Claim after restart = %q; want [1 2 4]", bodies(got))
	}
	if got := claim(t, q, "b", 10, queueNoStale); !slices.Equal(bodies(got), []string{"3"}) {
		t.Fatalf("Claim by the other consumer = %q; want its own [3]", bodies(got))
	}
}

// waitTakeover polls Claim by consumer until it returns something, failing
// t after queueBound.
func waitTakeover(t *testing.T, q store.Queue, consumer string) []store.Message {
	t.Helper()
	deadline := time.Now().Add(queueBound)
	for {
		if got := claim(t, q, consumer, 10, queueStale); len(got) > 0 {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s took nothing over within %v", consumer, queueBound)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testQueueStaleTakeover(t *testing.T, q store.Queue) {
	ids := enqueue(t, q, "x", "y")
	claimed := time.Now()
	if got := claim(t, q, "dead", 10, queueStale); len(got) != 2 {
		t.Fatalf("Claim = %q; want both", bodies(got))
	}
	if got := claim(t, q, "b", 10, queueStale); len(got) != 0 && time.Since(claimed) < queueStale {
		t.Fatalf("Claim by another consumer before stale = %q; want none", bodies(got))
	}
	got := waitTakeover(t, q, "b")
	// Redis measures idle time in whole milliseconds.
	if elapsed := time.Since(claimed); elapsed < queueStale-5*time.Millisecond {
		t.Errorf("taken over after %v; want at least %v", elapsed, queueStale)
	}
	if !slices.Equal(messageIDs(got), ids) || !slices.Equal(bodies(got), []string{"x", "y"}) {
		t.Fatalf("taken over %q (ids %q); want [x y] (ids %q)", bodies(got), messageIDs(got), ids)
	}
	// Now b holds them: the dead consumer, back, does not get them again.
	if got := claim(t, q, "dead", 10, queueStale); len(got) != 0 {
		t.Fatalf("Claim by the former owner = %q; want none", bodies(got))
	}
	if err := q.Extend(t.Context(), "q", "g", "dead", ids...); !errors.Is(err, store.ErrNotClaimed) {
		t.Fatalf("Extend by the former owner = %v; want ErrNotClaimed", err)
	}
	ack(t, q, ids...)
	wantDepth(t, q, 0)
}

func testQueueExtend(t *testing.T, q store.Queue) {
	ctx := t.Context()
	ids := enqueue(t, q, "held", "other")
	if got := claim(t, q, "a", 1, queueStale); !slices.Equal(bodies(got), []string{"held"}) {
		t.Fatalf("Claim = %q; want [held]", bodies(got))
	}
	// Extending every third of stale, for twice stale: no takeover.
	start := time.Now()
	for time.Since(start) < 2*queueStale {
		time.Sleep(queueStale / 3)
		if err := q.Extend(ctx, "q", "g", "a", ids[0]); err != nil {
			t.Fatalf("Extend: %v", err)
		}
		if got := claim(t, q, "b", 10, queueStale); slices.Contains(bodies(got), "held") {
			t.Fatalf("extended message taken over after %v", time.Since(start))
		}
	}
	// Extend renews what the consumer holds and reports the rest.
	err := q.Extend(ctx, "q", "g", "a", ids[0], ids[1])
	lastExtend := time.Now()
	var nc *store.NotClaimedError
	if !errors.Is(err, store.ErrNotClaimed) || !errors.As(err, &nc) || !slices.Equal(nc.IDs, ids[1:]) {
		t.Fatalf("Extend of a message b holds = %v; want a NotClaimedError for %q", err, ids[1:])
	}
	// Once a stops extending, b takes it over.
	ack(t, q, ids[1])
	if got := waitTakeover(t, q, "b"); !slices.Equal(bodies(got), []string{"held"}) {
		t.Fatalf("taken over %q; want [held]", bodies(got))
	}
	if elapsed := time.Since(lastExtend); elapsed < queueStale-5*time.Millisecond {
		t.Errorf("taken over %v after the last Extend; want at least %v", elapsed, queueStale)
	}
	if err := q.Extend(ctx, "q", "g", "b", ids[0]); err != nil {
		t.Fatalf("Extend by the new owner: %v", err)
	}
	if err := q.Extend(ctx, "q", "g", "a", ids[0]); !errors.Is(err, store.ErrNotClaimed) {
		t.Fatalf("Extend by the former owner = %v; want ErrNotClaimed", err)
	}
	ack(t, q, ids[0])
	if err := q.Extend(ctx, "q", "g", "b", ids[0]); !errors.As(err, &nc) || !slices.Equal(nc.IDs, ids[:1]) {
		t.Fatalf("Extend of an acked message = %v; want a NotClaimedError for it", err)
	}
	if err := q.Extend(ctx, "q", "g", "b"); err != nil {
		t.Fatalf("Extend of no ids: %v", err)
	}
}

func testQueueClaimWakes(t *testing.T, q store.Queue) {
	const wait = 10 * time.Second
	type result struct {
		msgs []store.Message
		err  error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		msgs, err := q.Claim(t.Context(), "q", "g", "a", 5, queueNoStale, wait)
		done <- result{msgs, err}
	}()
	time.Sleep(50 * time.Millisecond) // let it block
	enqueue(t, q, "late")
	select {
	case res := <-done:
		if res.err != nil || !slices.Equal(bodies(res.msgs), []string{"late"}) {
			t.Fatalf("waiting Claim = %q, %v; want [late]", bodies(res.msgs), res.err)
		}
		if elapsed := time.Since(start); elapsed > queueBound {
			t.Fatalf("waiting Claim returned after %v", elapsed)
		}
	case <-time.After(queueBound):
		t.Fatalf("waiting Claim did not wake within %v of Enqueue", queueBound)
	}
}

func testQueueClaimEmpty(t *testing.T, q store.Queue) {
	const wait = 100 * time.Millisecond
	start := time.Now()
	msgs, err := q.Claim(t.Context(), "q", "g", "a", 5, queueNoStale, wait)
	elapsed := time.Since(start)
	if err != nil || msgs == nil || len(msgs) != 0 {
		t.Fatalf("Claim on an empty queue = %q (nil: %v), %v; want an empty slice", bodies(msgs), msgs == nil, err)
	}
	if elapsed < wait-5*time.Millisecond || elapsed > queueBound {
		t.Errorf("Claim on an empty queue returned after %v; want about %v", elapsed, wait)
	}
	// wait 0 does not wait.
	start = time.Now()
	if got := claim(t, q, "a", 5, queueNoStale); len(got) != 0 {
		t.Fatalf("Claim = %q; want none", bodies(got))
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("Claim without wait took %v", elapsed)
	}
}

func testQueueCancelled(t *testing.T, q store.Queue) {
	const wait = 10 * time.Second
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	if _, err := q.Claim(ctx, "q", "g", "a", 5, queueNoStale, wait); !errors.Is(err, context.Canceled) {
		t.Fatalf("Claim with a cancelled context = %v; want context.Canceled", err)
	}
	if _, err := q.Enqueue(ctx, "q", []byte("x")); err == nil {
		t.Error("Enqueue with a cancelled context succeeded")
	}

	// Cancelled while waiting.
	ctx, cancel = context.WithCancel(t.Context())
	start = time.Now()
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := q.Claim(ctx, "q", "g", "a", 5, queueNoStale, wait)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Claim cancelled while waiting = %v; want context.Canceled", err)
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Fatalf("Claim cancelled while waiting returned after %v", elapsed)
	}

	// A deadline shorter than wait ends the wait too.
	ctx, cancel = context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start = time.Now()
	msgs, err := q.Claim(ctx, "q", "g", "a", 5, queueNoStale, wait)
	if err == nil && len(msgs) != 0 {
		t.Fatalf("Claim with a deadline = %q; want none", bodies(msgs))
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Fatalf("Claim with a 50ms deadline returned after %v", elapsed)
	}
}

func testQueueConcurrent(t *testing.T, q store.Queue) {
	want := make([]string, queueConcurrent)
	for i := range want {
		want[i] = fmt.Sprintf("m%02d", i)
	}
	ids := enqueue(t, q, want...)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[string][]string{} // id → consumers that got it
		errs []error
	)
	for _, consumer := range []string{"a", "b"} {
		wg.Go(func() {
			for {
				msgs, err := q.Claim(t.Context(), "q", "g", consumer, 3, queueNoStale, 0)
				if err == nil && len(msgs) > 0 {
					err = q.Ack(t.Context(), "q", "g", messageIDs(msgs)...)
				}
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				}
				for _, m := range msgs {
					seen[m.ID] = append(seen[m.ID], consumer)
				}
				mu.Unlock()
				if err != nil || len(msgs) == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	for _, id := range ids {
		if got := seen[id]; len(got) != 1 {
			t.Errorf("message %s claimed by %q; want exactly one consumer", id, got)
		}
	}
	if len(seen) != len(ids) {
		t.Errorf("claimed %d distinct messages; want %d", len(seen), len(ids))
	}
	wantDepth(t, q, 0)
}

func testQueueCopiesBodies(t *testing.T, q store.Queue) {
	buf := []byte("original")
	if _, err := q.Enqueue(t.Context(), "q", buf); err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXXXXXXX")
	got := claim(t, q, "a", 1, queueNoStale)
	if len(got) != 1 || string(got[0].Body) != "original" {
		t.Fatalf("Claim after the caller changed its buffer = %q; want [original]", bodies(got))
	}
	copy(got[0].Body, "YYYYYYYY")
	if again := claim(t, q, "a", 1, queueNoStale); len(again) != 1 || string(again[0].Body) != "original" {
		t.Fatalf("Claim after the caller changed a claimed body = %q; want [original]", bodies(again))
	}
}

func testQueueBadArguments(t *testing.T, q store.Queue) {
	ctx := t.Context()
	if _, err := q.Claim(ctx, "q", "g", "a", 0, queueNoStale, 0); err == nil {
		t.Error("Claim with n = 0 succeeded")
	}
	if _, err := q.Claim(ctx, "q", "g", "a", 1, 0, 0); err == nil {
		t.Error("Claim with stale = 0 succeeded")
	}
}
