package store

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// incrScript increments KEYS[1] and, when that created it, sets its time
// to live to ARGV[1] milliseconds, in one step: a counter never outlives
// its window because a client went away between two commands.
var incrScript = redis.NewScript(`
local n = redis.call("INCR", KEYS[1])
if n == 1 then
	redis.call("PEXPIRE", KEYS[1], ARGV[1])
end
return n
`)

// Incr implements Store: a Lua script doing INCR and, for a new key,
// PEXPIRE, run with EVALSHA (EVAL the first time the server lacks it).
func (r *Redis) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	if err := checkTTL("redis incr", ttl); err != nil {
		return 0, err
	}
	n, err := incrScript.Run(ctx, r.c, []string{key}, max(ttl.Milliseconds(), 1)).Int64()
	if err != nil {
		return 0, redisErr("incr", err)
	}
	return n, nil
}
