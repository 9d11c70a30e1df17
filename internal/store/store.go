// Package store defines the small key-value interface Gatehouse keeps its
// state in, with an in-memory and a Redis implementation.
//
// Values are opaque bytes (callers encrypt what they store). Keys are built
// by callers and already carry the configured key prefix.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned when a key does not exist or has expired.
var ErrNotFound = errors.New("store: key not found")

// Store is the state backend. Implementations are safe for concurrent use.
// An error other than ErrNotFound means the store could not answer.
type Store interface {
	// Get returns the value of key. When touch > 0 the key's time to live is
	// reset to touch in the same round trip (sliding expiry).
	Get(ctx context.Context, key string, touch time.Duration) ([]byte, error)
	// Set stores value under key for ttl (which must be > 0).
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// SetNX stores value under key for ttl only if key does not exist yet, and
	// reports whether it did.
	SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)
	// Take returns the value of key and deletes it atomically, so that of
	// several concurrent callers exactly one gets the value.
	Take(ctx context.Context, key string) ([]byte, error)
	// Delete removes key. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
}
