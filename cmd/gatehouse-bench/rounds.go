package main

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// phaseGap is the pause between two load phases.
const phaseGap = 300 * time.Millisecond

// sample is one target's figures in one round.
type sample struct {
	wrk      *wrkResult
	fixed    *loadResult
	redis    *redisDelta // nil for targets without Redis
	upstream int64       // requests that reached the upstream during the wrk phase (with an identity for Gatehouse sites)

	// How much of the machine's CPU other processes and the hypervisor took during each phase.
	cpuWrk, cpuFixed cpuShare
}

// results are all the rounds' samples.
type results struct {
	rate     float64 // fixed request rate
	rateFrom float64 // the baseline throughput it was derived from; 0 when given by -rate
	rounds   []map[string]*sample
	orders   [][]string
}

// runRounds warms every target up, then runs the rounds: in each, a
// throughput phase per target, then a fixed-rate phase per target, the
// order rotated by one every round.
func runRounds(ctx context.Context, o *options, env *benchEnv, wrkBin string) (*results, error) {
	res := &results{rate: o.rate}
	probe := &cpuProbe{pids: []int{selfPid(), env.caddy.Process.Pid}}
	var rc *redis.Client
	if env.redis != nil {
		rc = env.redis.Client()
		if pid, err := redisPid(ctx, rc); err == nil {
			probe.pids = append(probe.pids, pid)
		}
	}
	if o.warmup > 0 {
		logf("warm-up: %v of wrk per target", o.warmup)
		for _, t := range env.targets {
			if _, err := runWrk(ctx, wrkBin, t, o.threads, o.connections, o.warmup); err != nil {
				return nil, fmt.Errorf("%s warm-up: %w", t.name, err)
			}
			if err := sleepCtx(ctx, phaseGap); err != nil {
				return nil, err
			}
		}
	}
	for r := range o.rounds {
		order := make([]string, len(o.targets))
		for i := range o.targets {
			order[i] = o.targets[(i+r)%len(o.targets)]
		}
		res.orders = append(res.orders, order)
		round := map[string]*sample{}
		res.rounds = append(res.rounds, round)

		for _, name := range order {
			t := env.byName[name]
			s := &sample{}
			round[name] = s
			var before *redisCounters
			usesRedis := rc != nil && (name == targetRedis || name == targetRedisCache)
			if usesRedis {
				var err error
				if before, err = snapshotRedis(ctx, rc); err != nil {
					return nil, err
				}
			}
			hitsBefore := env.upstream.hits.Load()
			if name != targetBaseline {
				hitsBefore = env.upstream.authed.Load()
			}
			cpu0 := probe.snap()
			w, err := runWrk(ctx, wrkBin, t, o.threads, o.connections, o.duration)
			if err != nil {
				return nil, fmt.Errorf("round %d, %s: %w", r+1, name, err)
			}
			s.cpuWrk = share(cpu0, probe.snap(), w.cpu)
			s.wrk = w
			if name != targetBaseline {
				s.upstream = env.upstream.authed.Load() - hitsBefore
			} else {
				s.upstream = env.upstream.hits.Load() - hitsBefore
			}
			if usesRedis {
				after, err := snapshotRedis(ctx, rc)
				if err != nil {
					return nil, err
				}
				// Per request that reached the upstream: wrk does not count
				// the requests still in flight when it stops.
				d := diffRedis(before, after, max(w.Requests, s.upstream))
				s.redis = &d
			}
			logf("round %d/%d %-12s wrk: %8.0f req/s  p50 %s  p99 %s%s%v", r+1, o.rounds, name, w.RPS, fmtDur(w.P50), fmtDur(w.P99),
				redisLog(s.redis), s.cpuWrk)
			if err := sleepCtx(ctx, phaseGap); err != nil {
				return nil, err
			}
		}
		if res.rate <= 0 {
			base := round[targetBaseline].wrk.RPS
			res.rateFrom = base
			res.rate = float64(int(base*o.rateFraction/100)) * 100 // rounded down to 100/s
			if res.rate < 100 {
				res.rate = 100
			}
			logf("fixed rate: %.0f req/s (%.2f of the baseline's %.0f req/s)", res.rate, o.rateFraction, base)
		}
		for _, name := range order {
			t := env.byName[name]
			cpu0 := probe.snap()
			f, err := runLoadgen(ctx, t, res.rate, o.duration)
			if err != nil {
				return nil, fmt.Errorf("round %d, %s: %w", r+1, name, err)
			}
			round[name].cpuFixed = share(cpu0, probe.snap(), f.cpu)
			round[name].fixed = f
			logf("round %d/%d %-12s fixed %.0f/s: p50 %s  p99 %s  max %s  errors %d  non-200 %d%v", r+1, o.rounds, name, res.rate,
				fmtUs(f.P50), fmtUs(f.P99), fmtUs(f.Max), f.Errors+f.Unfinished, f.Non200, round[name].cpuFixed)
			if err := sleepCtx(ctx, phaseGap); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}

func redisLog(d *redisDelta) string {
	if d == nil {
		return ""
	}
	return fmt.Sprintf("  redis: %.3f cmd/req, %.3f reads/req (%s)", d.commands, d.roundTrips, d.perCommand)
}

// String is "  [other processes 3%, steal 1%]", or "" when unknown.
func (s cpuShare) String() string {
	if s.others < 0 {
		return ""
	}
	return fmt.Sprintf("  [CPU: other processes %.0f%%, steal %.0f%%]", s.others*100, s.steal*100)
}
