package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/caddyserver/caddy/v2"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

// redisLogTo, when set, takes go-redis's log lines instead of Caddy's
// logger (for tests).
var redisLogTo atomic.Pointer[zap.Logger]

// routeRedisLog makes go-redis log through Caddy's logger, once per
// process: its default logger writes to stderr, outside Caddy's log
// configuration and format. go-redis logs connection trouble (failed
// dials, Sentinel switching masters, Cluster slot moves), never commands,
// values or credentials.
var routeRedisLog = sync.OnceFunc(func() { redis.SetLogger(redisLog{}) })

type redisLog struct{}

func (redisLog) Printf(_ context.Context, format string, v ...any) {
	l := redisLogTo.Load()
	if l == nil {
		l = caddy.Log().Named("gatehouse.redis")
	}
	l.Warn(fmt.Sprintf(format, v...))
}
