package store

import (
	"context"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"
)

// SetAdd implements Store: SADD and PEXPIRE in one MULTI/EXEC transaction.
//
// On a key holding a byte value SADD fails with WRONGTYPE, but the
// transaction does not roll back, so the PEXPIRE still resets that value's
// time to live.
func (r *Redis) SetAdd(ctx context.Context, key string, ttl time.Duration, members ...string) error {
	if err := checkTTL("redis setadd", ttl); err != nil {
		return err
	}
	if len(members) == 0 {
		return nil // SADD needs at least one member
	}
	args := stringArgs(members)
	_, err := r.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SAdd(ctx, key, args...)
		p.PExpire(ctx, key, ttl)
		return nil
	})
	if err != nil {
		return redisErr("setadd", err)
	}
	return nil
}

// SetMembers implements Store: SMEMBERS, sorted here. A missing key gives an
// empty slice.
func (r *Redis) SetMembers(ctx context.Context, key string) ([]string, error) {
	members, err := r.c.SMembers(ctx, key).Result()
	if err != nil {
		return nil, redisErr("setmembers", err)
	}
	slices.Sort(members)
	return members, nil
}

// SetRemove implements Store: SREM.
func (r *Redis) SetRemove(ctx context.Context, key string, members ...string) error {
	if len(members) == 0 {
		return nil // SREM needs at least one member
	}
	if err := r.c.SRem(ctx, key, stringArgs(members)...).Err(); err != nil {
		return redisErr("setremove", err)
	}
	return nil
}

// stringArgs converts members to the []any that go-redis takes.
func stringArgs(members []string) []any {
	args := make([]any, len(members))
	for i, m := range members {
		args[i] = m
	}
	return args
}
