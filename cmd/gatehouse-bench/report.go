package main

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// The targets from the spec's "Performance" section.
const (
	specMemoryRatio  = 0.95 // the memory store, and Redis with a warm session cache
	specRedisRatio   = 0.95
	specNoCacheRatio = 0.75 // Redis with session_cache off
	specAddedP99     = 500 * time.Microsecond
	specRoundTrips   = 1.0
	specWarmCache    = 0.01 // "0" Redis round trips per request with a warm cache, allowing for reloads
)

// summary is one target's figures over all rounds.
type summary struct {
	name           string
	rps            float64 // median req/s
	ratio          float64 // median of the per-round ratio to the baseline; NaN without one
	wrkP50, wrkP99 time.Duration
	fixP50, fixP99 float64 // µs
	addedP99       float64 // µs, median of the per-round difference to the baseline; NaN without one
	fixMax         float64 // µs, over all rounds
	errors         int64
	redisCmds      float64 // median per request; NaN when not measured
	redisTrips     float64
}

func summarize(o *options, res *results) []*summary {
	var out []*summary
	_, hasBase := res.rounds[0][targetBaseline]
	for _, name := range o.targets {
		s := &summary{name: name, ratio: math.NaN(), addedP99: math.NaN(), redisCmds: math.NaN(), redisTrips: math.NaN()}
		var rps, ratio, wp50, wp99, fp50, fp99, added, cmds, trips []float64
		for _, round := range res.rounds {
			x := round[name]
			rps = append(rps, x.wrk.RPS)
			wp50 = append(wp50, float64(x.wrk.P50))
			wp99 = append(wp99, float64(x.wrk.P99))
			fp50 = append(fp50, x.fixed.P50)
			fp99 = append(fp99, x.fixed.P99)
			s.fixMax = math.Max(s.fixMax, x.fixed.Max)
			missing := x.wrk.Requests - x.upstream
			if missing < x.wrk.Non2xx3xx {
				missing = x.wrk.Non2xx3xx
			}
			if missing > 0 {
				s.errors += missing
			}
			s.errors += x.wrk.SocketErrors + int64(x.fixed.Errors+x.fixed.Unfinished+x.fixed.Non200)
			if hasBase {
				b := round[targetBaseline]
				ratio = append(ratio, x.wrk.RPS/b.wrk.RPS)
				added = append(added, x.fixed.P99-b.fixed.P99)
			}
			if x.redis != nil {
				cmds = append(cmds, x.redis.commands)
				trips = append(trips, x.redis.roundTrips)
			}
		}
		s.rps, s.fixP50, s.fixP99 = median(rps), median(fp50), median(fp99)
		s.wrkP50, s.wrkP99 = time.Duration(median(wp50)), time.Duration(median(wp99))
		if hasBase {
			s.ratio, s.addedP99 = median(ratio), median(added)
		}
		if len(cmds) > 0 {
			s.redisCmds, s.redisTrips = median(cmds), median(trips)
		}
		out = append(out, s)
	}
	return out
}

func formatReport(o *options, info *runInfo, res *results) string {
	var b strings.Builder
	sums := summarize(o, res)
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	p("Gatehouse load benchmark, %s (make bench / go run ./cmd/gatehouse-bench)\n", info.date.Format("2006-01-02 15:04 MST"))
	p("machine:  %s; load average %s at the start, %s at the end\n", info.machine(), info.loadStart, info.loadEnd)
	p("versions: %s\n", info.versions())
	rate := fmt.Sprintf("%.0f req/s", res.rate)
	if res.rateFrom > 0 {
		rate += fmt.Sprintf(" (%.2f of the baseline's %.0f req/s in round 1)", o.rateFraction, res.rateFrom)
	}
	p("load:     %d rounds (order rotated), per target and round: wrk -t%d -c%d for %v, then %s for %v\n",
		o.rounds, o.threads, o.connections, o.duration, rate, o.duration)
	niced := ""
	if f := res.rounds[0][o.targets[0]].fixed; f.Niced {
		niced = " at nice -10"
	}
	p("          with a constant-rate generator%s (latency from the intended send time); %s in all\n", niced, info.elapsed.Round(time.Second))
	var others, steal []float64
	for _, round := range res.rounds {
		for _, x := range round {
			for _, v := range []cpuShare{x.cpuWrk, x.cpuFixed} {
				if v.others >= 0 {
					others, steal = append(others, v.others), append(steal, v.steal)
				}
			}
		}
	}
	if len(others) > 0 {
		sort.Float64s(others)
		sort.Float64s(steal)
		p("noise:    other processes took %.0f%% of the CPUs in the median load phase (%.0f%% at most), the hypervisor (steal) %.0f%% (%.0f%% at most)\n",
			median(others)*100, others[len(others)-1]*100, median(steal)*100, steal[len(steal)-1]*100)
		if median(others) > 0.10 || median(steal) > 0.05 {
			p("          a busy machine: expect noise, above all in the p99s\n")
		}
	}
	p("\n")

	p("%-12s %9s %6s %8s %8s | %9s %9s %9s %9s | %6s %8s %8s\n",
		"target", "req/s", "×base", "wrk p50", "wrk p99", "fixed p50", "fixed p99", "+p99", "fixed max", "errors", "redis", "redis")
	p("%-12s %9s %6s %8s %8s | %9s %9s %9s %9s | %6s %8s %8s\n",
		"", "", "", "", "", "", "", "vs base", "", "", "cmd/req", "rtt/req")
	for _, s := range sums {
		ratio, added := "-", "-"
		if !math.IsNaN(s.ratio) {
			ratio = fmt.Sprintf("%.2f", s.ratio)
		}
		if !math.IsNaN(s.addedP99) && s.name != targetBaseline {
			added = fmtSignedUs(s.addedP99)
		}
		cmds, trips := "-", "-"
		if !math.IsNaN(s.redisCmds) {
			cmds = fmt.Sprintf("%.3f", s.redisCmds)
			if s.redisTrips >= 0 {
				trips = fmt.Sprintf("%.3f", s.redisTrips)
			}
		}
		p("%-12s %9.0f %6s %8s %8s | %9s %9s %9s %9s | %6d %8s %8s\n",
			s.name, s.rps, ratio, fmtDur(s.wrkP50), fmtDur(s.wrkP99), fmtUs(s.fixP50), fmtUs(s.fixP99), added, fmtUs(s.fixMax), s.errors, cmds, trips)
	}
	p("\nMedians over the rounds; ×base and +p99 are medians of each round's pair with the baseline.\n")
	p("errors: wrk socket errors and answers that did not come from the upstream (with an identity), and the\n")
	p("fixed-rate phase's failed, unfinished and non-200 requests. redis cmd/req: commands per request in the\n")
	p("throughput phase (INFO commandstats); rtt/req: the server's read events per request (total_reads_processed),\n")
	p("about one per round trip.\n")
	var lags []float64
	for _, round := range res.rounds {
		if b := round[targetBaseline]; b != nil {
			lags = append(lags, b.fixed.LagP99)
		}
	}
	if lag := median(lags); lag > float64(specAddedP99/time.Microsecond) {
		p("\nThe fixed rate was not held cleanly: in the baseline's fixed-rate phase the generator's own send lag\n")
		p("p99 was %s (median over rounds), more than the %s budget being measured, so the machine (CPU\n", fmtUs(lag), fmtDur(specAddedP99))
		p("saturation, steal, other processes) dominates the fixed-rate p99s. On a quiet machine, or at a lower\n")
		p("-rate-fraction, they measure Gatehouse.\n")
	}

	p("\nSPEC targets (\"Performance\"):\n")
	by := map[string]*summary{}
	for _, s := range sums {
		by[s.name] = s
	}
	check := func(ok bool, format string, args ...any) {
		mark := "not met"
		if ok {
			mark = "met"
		}
		p("  %-8s %s\n", mark, fmt.Sprintf(format, args...))
	}
	if m := by[targetMemory]; m != nil && !math.IsNaN(m.ratio) {
		check(m.ratio >= specMemoryRatio, "memory store throughput >= %.2f x baseline: %.2f", specMemoryRatio, m.ratio)
	}
	for _, n := range []string{targetRedisCache, targetRedis} {
		if s := by[n]; s != nil && !math.IsNaN(s.ratio) {
			what, want := "Redis with the session cache (default)", specRedisRatio
			if n == targetRedis {
				what, want = "Redis with session_cache off", specNoCacheRatio
			}
			check(s.ratio >= want, "%s throughput >= %.2f x baseline: %.2f", what, want, s.ratio)
		}
	}
	for _, n := range []string{targetMemory, targetRedis, targetRedisCache} {
		if s := by[n]; s != nil && !math.IsNaN(s.addedP99) {
			check(s.addedP99 <= float64(specAddedP99/time.Microsecond), "%s: p99 added at %.0f req/s <= %s: %s",
				n, res.rate, fmtDur(specAddedP99), fmtSignedUs(s.addedP99))
		}
	}
	if s := by[targetRedis]; s != nil && !math.IsNaN(s.redisCmds) {
		v, unit := redisFigure(s)
		check(v < specRoundTrips+0.005, "<= 1 Redis round trip per request (session_cache off): %.3f %s, %.3f commands", v, unit, s.redisCmds)
	}
	if s := by[targetRedisCache]; s != nil && !math.IsNaN(s.redisCmds) {
		v, unit := redisFigure(s)
		check(v < specWarmCache, "0 Redis round trips per request with a warm cache (< %.2f): %.3f %s, %.3f commands", specWarmCache, v, unit, s.redisCmds)
	}
	p("  (allocations per request: the go test -bench -benchmem micro-benchmarks that make bench runs first)\n")

	p("\nRounds:\n")
	for r, round := range res.rounds {
		p("  round %d, order %s\n", r+1, strings.Join(res.orders[r], ", "))
		for _, name := range o.targets {
			x := round[name]
			p("    %-12s wrk %7.0f req/s p50 %s p99 %s max %s (%d requests, %d upstream, %d >=400, %d socket errors)%v\n",
				name, x.wrk.RPS, fmtDur(x.wrk.P50), fmtDur(x.wrk.P99), fmtDur(x.wrk.Max), x.wrk.Requests, x.upstream, x.wrk.Non2xx3xx, x.wrk.SocketErrors,
				x.cpuWrk)
			f := x.fixed
			p("    %-12s fixed %.0f/s p50 %s p90 %s p99 %s p99.9 %s max %s, send lag p99 %s, %d connections, %d ok, %d non-200, %d errors, %d unfinished%v\n",
				"", f.Rate, fmtUs(f.P50), fmtUs(f.P90), fmtUs(f.P99), fmtUs(f.P999), fmtUs(f.Max), fmtUs(f.LagP99), f.Conns, f.OK, f.Non200, f.Errors, f.Unfinished,
				x.cpuFixed)
			if f.FirstError != "" {
				p("    %-12s first error: %s\n", "", f.FirstError)
			}
			if x.redis != nil {
				p("    %-12s redis per request: %.3f commands (%s), %.3f read events\n", "", x.redis.commands, x.redis.perCommand, x.redis.roundTrips)
			}
		}
	}
	return b.String()
}

// redisFigure is the round trips per request when the server reports them,
// else the commands per request.
func redisFigure(s *summary) (float64, string) {
	if s.redisTrips >= 0 {
		return s.redisTrips, "round trips"
	}
	return s.redisCmds, "commands (round trips unknown)"
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// fmtDur prints a latency in milliseconds, or seconds from 10s.
func fmtDur(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms < 10:
		return fmt.Sprintf("%.2fms", ms)
	case ms < 100:
		return fmt.Sprintf("%.1fms", ms)
	case ms < 10000:
		return fmt.Sprintf("%.0fms", ms)
	default:
		return fmt.Sprintf("%.1fs", ms/1000)
	}
}

func fmtUs(us float64) string { return fmtDur(time.Duration(us * float64(time.Microsecond))) }

func fmtSignedUs(us float64) string {
	if us < 0 {
		return "-" + fmtUs(-us)
	}
	return "+" + fmtUs(us)
}
