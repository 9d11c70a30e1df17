package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Queue is a durable work queue shared by every instance using the same
// store: messages survive until acknowledged, and a message claimed by a
// consumer that dies is taken over by another after `stale`.
//
// Delivery is at least once: a consumer that claims a message and dies
// before Ack, or whose claim grows older than stale without Extend, may see
// it handled again by another consumer. Every group sees every message, but
// Ack removes the message for good, for all groups; in practice one queue
// has one group. Stream and group names are built by callers and already
// carry the configured key prefix.
type Queue interface {
	// Enqueue appends body to the queue named stream and returns the
	// message id.
	Enqueue(ctx context.Context, stream string, body []byte) (string, error)
	// Claim returns up to n messages for consumer of group: first those this
	// consumer claimed earlier and has not acked (e.g. after a restart), then
	// those another consumer claimed more than stale ago without acking, then
	// new ones; when none is available it waits up to wait for a new one
	// (returning an empty slice, not an error, when none comes; it returns
	// promptly with ctx's error when ctx is cancelled). n and stale must be
	// > 0; wait <= 0 does not wait.
	Claim(ctx context.Context, stream, group, consumer string, n int, stale, wait time.Duration) ([]Message, error)
	// Extend renews consumer's claim on ids, so others do not take them
	// over while a delivery is still being retried. Ids that are not
	// claimed by consumer (any more: acked, or taken over after stale) are
	// left alone and reported by an error matching ErrNotClaimed, which
	// errors.As turns into a *NotClaimedError listing them; the other ids
	// are renewed all the same.
	Extend(ctx context.Context, stream, group, consumer string, ids ...string) error
	// Ack removes delivered messages for good. Unknown ids are ignored.
	Ack(ctx context.Context, stream, group string, ids ...string) error
	// Depth is the number of messages not yet acked.
	Depth(ctx context.Context, stream string) (int64, error)
}

// Message is one queued message.
type Message struct {
	ID   string
	Body []byte
}

// ErrNotClaimed is matched (errors.Is) by Extend's error when some ids are
// not claimed by the consumer.
var ErrNotClaimed = errors.New("store: message not claimed by this consumer")

// NotClaimedError is Extend's error for ids the consumer does not hold.
type NotClaimedError struct {
	IDs []string
}

func (e *NotClaimedError) Error() string {
	return fmt.Sprintf("store: %d message(s) not claimed by this consumer: %s", len(e.IDs), strings.Join(e.IDs, ", "))
}

// Is makes errors.Is(err, ErrNotClaimed) true.
func (e *NotClaimedError) Is(target error) bool { return target == ErrNotClaimed }

var (
	_ Queue = (*Memory)(nil)
	_ Queue = (*Redis)(nil)
)

// checkClaim validates Claim's arguments the same way for both backends.
func checkClaim(op string, n int, stale time.Duration) error {
	switch {
	case n <= 0:
		return fmt.Errorf("store: %s: n must be > 0, got %d", op, n)
	case stale <= 0:
		return fmt.Errorf("store: %s: stale must be > 0, got %v", op, stale)
	}
	return nil
}
