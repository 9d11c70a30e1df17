// Package store defines the small key-value interface Gatehouse keeps its
// state in, with an in-memory and a Redis implementation.
//
// A key holds either a value, opaque bytes (callers encrypt what they
// store), or a set of strings. Keys are built by callers and already carry
// the configured key prefix.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned when a key does not exist or has expired.
var ErrNotFound = errors.New("store: key not found")

// ErrWrongType is matched (errors.Is) by the error of an operation on a key
// holding the other kind of value: a byte operation such as Get on a set, or
// a set operation on a byte value. Like Redis's WRONGTYPE, it means a
// caller's key spaces collide.
var ErrWrongType = errors.New("store: key holds the wrong kind of value")

// Store is the state backend. Implementations are safe for concurrent use.
// An error other than ErrNotFound and ErrWrongType means the store could not
// answer.
type Store interface {
	// Get returns the value of key. When touch > 0 the key's time to live is
	// reset to touch in the same round trip (sliding expiry).
	Get(ctx context.Context, key string, touch time.Duration) ([]byte, error)
	// Set stores value under key for ttl (which must be > 0), replacing
	// whatever key held, a set included.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// SetNX stores value under key for ttl only if key does not exist yet
	// (holding neither a value nor a set), and reports whether it did.
	SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)
	// SetXX stores value under key for ttl only if key exists, replacing
	// what it held, and reports whether it did: a write that must not
	// bring back a key deleted meanwhile.
	SetXX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)
	// Take returns the value of key and deletes it atomically, so that of
	// several concurrent callers exactly one gets the value.
	Take(ctx context.Context, key string) ([]byte, error)
	// Delete removes key, whatever it holds. Deleting a missing key is not an
	// error.
	Delete(ctx context.Context, key string) error

	// SetAdd adds members to the set at key, creating it if key is missing,
	// and sets the key's time to live to ttl (which must be > 0), whether that
	// extends or shortens it. With no members it does nothing.
	SetAdd(ctx context.Context, key string, ttl time.Duration, members ...string) error
	// SetMembers returns the members of the set at key, sorted. A missing key
	// is an empty set (no error). It does not change the key's time to live.
	SetMembers(ctx context.Context, key string) ([]string, error)
	// SetRemove removes members from the set at key; members not in the set
	// and a missing key are not errors. Removing the last member deletes the
	// key. It does not change the key's time to live.
	SetRemove(ctx context.Context, key string, members ...string) error

	// CompareAndDelete deletes key only if it holds exactly value, atomically,
	// and reports whether it did. A missing key reports false.
	CompareAndDelete(ctx context.Context, key string, value []byte) (bool, error)
	// CompareAndExpire resets key's time to live to ttl (which must be > 0)
	// only if it holds exactly value, atomically, and reports whether it did.
	// A missing key reports false and is not created.
	CompareAndExpire(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)

	// Incr adds one to the counter at key and returns its new value. A
	// missing key starts from zero and expires after ttl (which must be
	// > 0); incrementing does not change the time to live. A key holding
	// something other than a decimal counter is an error.
	Incr(ctx context.Context, key string, ttl time.Duration) (int64, error)

	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
}
