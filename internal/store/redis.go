package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Store kept in Redis (6.2 or later, for GETEX and GETDEL), or any
// server speaking its protocol. Each method is one command, transaction or
// script, and one round trip (a compare-and-* call takes two the first time
// the server lacks its script). Every call touches one key, so it
// works with Redis Cluster. Errors wrap the client's error with the
// operation's name and never contain keys or values.
type Redis struct {
	c         redis.UniversalClient
	reads     *reads       // Get's batches
	release   func() error // drops the pooled client; nil for NewRedis
	groups    sync.Map     // queue consumer groups known to exist; see redis_queue.go
	closeOnce sync.Once
	closeErr  error
}

// NewRedis wraps a client. The caller keeps ownership of c: Close on the
// returned store does not close it.
func NewRedis(c redis.UniversalClient) *Redis {
	return &Redis{c: c, reads: &reads{c: c}}
}

// Client returns the underlying client, for features that need other
// commands. It must not be closed by the caller.
func (r *Redis) Client() redis.UniversalClient { return r.c }

// Close releases this store's reference to a client from OpenRedis; the
// client is closed when its last reference goes. For a store from NewRedis it
// does nothing. It is safe to call more than once.
func (r *Redis) Close() error {
	r.closeOnce.Do(func() {
		if r.release != nil {
			r.closeErr = r.release()
		}
	})
	return r.closeErr
}

// Get implements Store: GET, or GETEX key PX/EX when touch > 0.
func (r *Redis) Get(ctx context.Context, key string, touch time.Duration) ([]byte, error) {
	b, err := r.reads.get(ctx, key, touch)
	if err != nil {
		return nil, redisErr("get", err)
	}
	return b, nil
}

// Set implements Store: SET key value PX/EX ttl.
func (r *Redis) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := checkTTL("redis set", ttl); err != nil {
		return err
	}
	if err := r.c.Set(ctx, key, value, ttl).Err(); err != nil {
		return redisErr("set", err)
	}
	return nil
}

// SetNX implements Store: SET key value PX/EX ttl NX.
func (r *Redis) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	return setIf(ctx, "setnx", r.c.SetNX, key, value, ttl)
}

// SetXX implements Store: SET key value PX/EX ttl XX.
func (r *Redis) SetXX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	return setIf(ctx, "setxx", r.c.SetXX, key, value, ttl)
}

// setIf runs the conditional SET set (the client's SetNX or SetXX), named
// op in errors, and reports whether it stored value.
func setIf(ctx context.Context, op string, set func(context.Context, string, any, time.Duration) *redis.BoolCmd,
	key string, value []byte, ttl time.Duration) (bool, error) {
	if err := checkTTL("redis "+op, ttl); err != nil {
		return false, err
	}
	ok, err := set(ctx, key, value, ttl).Result()
	if err != nil {
		return false, redisErr(op, err)
	}
	return ok, nil
}

// Take implements Store: GETDEL.
func (r *Redis) Take(ctx context.Context, key string) ([]byte, error) {
	b, err := r.c.GetDel(ctx, key).Bytes()
	if err != nil {
		return nil, redisErr("take", err)
	}
	return b, nil
}

// Delete implements Store: DEL.
func (r *Redis) Delete(ctx context.Context, key string) error {
	if err := r.c.Del(ctx, key).Err(); err != nil {
		return redisErr("delete", err)
	}
	return nil
}

// Ping implements Store: PING (for a Cluster, to one node the client picks).
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.c.Ping(ctx).Err(); err != nil {
		return redisErr("ping", err)
	}
	return nil
}

// redisErr maps redis.Nil to ErrNotFound and wraps anything else, so that
// a WRONGTYPE reply also matches ErrWrongType.
func redisErr(op string, err error) error {
	if errors.Is(err, redis.Nil) {
		return ErrNotFound
	}
	if redis.HasErrorPrefix(err, "WRONGTYPE") {
		err = wrongTypeError{err}
	}
	return fmt.Errorf("store: redis %s: %w", op, err)
}

// wrongTypeError is a server's WRONGTYPE reply, which errors.Is matches
// with ErrWrongType while keeping the server's message.
type wrongTypeError struct{ err error }

func (e wrongTypeError) Error() string        { return e.err.Error() }
func (e wrongTypeError) Unwrap() error        { return e.err }
func (e wrongTypeError) Is(target error) bool { return target == ErrWrongType }

var _ Store = (*Redis)(nil)
