package store

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse/internal/metrics"
)

// metricsHook observes every Redis command and pipeline in
// gatehouse_store_command_duration_seconds.
type metricsHook struct{}

var _ redis.Hook = metricsHook{}

func (metricsHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (metricsHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmd)
		metrics.StoreDuration.WithLabelValues(cmd.Name()).Observe(time.Since(start).Seconds())
		return err
	}
}

func (metricsHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmds)
		metrics.StoreDuration.WithLabelValues("pipeline").Observe(time.Since(start).Seconds())
		return err
	}
}
