package store

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// The scripts read KEYS[1] with redis.pcall and return its error reply
// as is, so that GET on a set answers WRONGTYPE on every server version
// (redis.call would wrap it in a script error on Redis 6.2).

// compareAndDeleteScript deletes KEYS[1] if it holds ARGV[1] and returns
// the number of keys deleted (0 or 1).
var compareAndDeleteScript = redis.NewScript(`
local v = redis.pcall("GET", KEYS[1])
if type(v) == "table" and v.err then
	return v
end
if v == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0
`)

// compareAndExpireScript sets the time to live of KEYS[1] to ARGV[2]
// milliseconds if it holds ARGV[1] and returns 1 if it did, 0 if not.
var compareAndExpireScript = redis.NewScript(`
local v = redis.pcall("GET", KEYS[1])
if type(v) == "table" and v.err then
	return v
end
if v == ARGV[1] then
	return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0
`)

// CompareAndDelete implements Store: a Lua script doing GET and DEL, run
// with EVALSHA (EVAL the first time the server lacks the script).
func (r *Redis) CompareAndDelete(ctx context.Context, key string, value []byte) (bool, error) {
	n, err := compareAndDeleteScript.Run(ctx, r.c, []string{key}, value).Int()
	if err != nil {
		return false, redisErr("compareanddelete", err)
	}
	return n == 1, nil
}

// CompareAndExpire implements Store: a Lua script doing GET and PEXPIRE,
// run with EVALSHA (EVAL the first time the server lacks the script). A ttl
// under a millisecond is rounded up to one.
func (r *Redis) CompareAndExpire(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if err := checkTTL("redis compareandexpire", ttl); err != nil {
		return false, err
	}
	ms := max(ttl.Milliseconds(), 1)
	n, err := compareAndExpireScript.Run(ctx, r.c, []string{key}, value, ms).Int()
	if err != nil {
		return false, redisErr("compareandexpire", err)
	}
	return n == 1, nil
}
