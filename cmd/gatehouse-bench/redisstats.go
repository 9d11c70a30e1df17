package main

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// redisCounters is a snapshot of the server's counters.
type redisCounters struct {
	calls map[string]int64 // per command, from INFO commandstats, without this command's own INFO
	reads int64            // total_reads_processed: read events, about one per round trip
}

// ownCommands are the commands of the benchmark's own Redis client
// (connection setup and the INFO snapshots), left out of the counts.
var ownCommands = map[string]bool{"info": true, "hello": true, "client|setinfo": true}

// snapshotRedis reads the counters with one INFO call, on a connection of
// its own (the counters then include this one read event, subtracted by
// redisDelta).
func snapshotRedis(ctx context.Context, c *redis.Client) (*redisCounters, error) {
	s, err := c.Info(ctx, "commandstats", "stats").Result()
	if err != nil {
		return nil, fmt.Errorf("redis INFO: %w", err)
	}
	return parseRedisInfo(s)
}

func parseRedisInfo(s string) (*redisCounters, error) {
	rc := &redisCounters{calls: map[string]int64{}}
	sawReads := false
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "cmdstat_"); ok {
			name, fields, ok := strings.Cut(rest, ":")
			if !ok || ownCommands[name] {
				continue
			}
			for _, f := range strings.Split(fields, ",") {
				if v, ok := strings.CutPrefix(f, "calls="); ok {
					n, err := strconv.ParseInt(v, 10, 64)
					if err != nil {
						return nil, fmt.Errorf("redis INFO: bad line %q", line)
					}
					rc.calls[name] = n
				}
			}
		} else if v, ok := strings.CutPrefix(line, "total_reads_processed:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("redis INFO: bad line %q", line)
			}
			rc.reads = n
			sawReads = true
		}
	}
	if !sawReads {
		rc.reads = -1 // Redis before 6.0
	}
	return rc, nil
}

// redisDelta is what happened between two snapshots, per request.
type redisDelta struct {
	commands   float64 // commands per request
	roundTrips float64 // read events per request; -1 when unknown
	perCommand string  // "getex 1.00, publish 0.01"
}

func diffRedis(before, after *redisCounters, requests int64) redisDelta {
	if requests <= 0 {
		return redisDelta{commands: -1, roundTrips: -1}
	}
	type kv struct {
		name string
		n    int64
	}
	var total int64
	var cmds []kv
	for name, n := range after.calls {
		if d := n - before.calls[name]; d > 0 {
			total += d
			cmds = append(cmds, kv{name, d})
		}
	}
	sort.Slice(cmds, func(i, j int) bool {
		return cmds[i].n > cmds[j].n || cmds[i].n == cmds[j].n && cmds[i].name < cmds[j].name
	})
	var parts []string
	for _, c := range cmds {
		parts = append(parts, fmt.Sprintf("%s %.3f", c.name, float64(c.n)/float64(requests)))
	}
	d := redisDelta{commands: float64(total) / float64(requests), roundTrips: -1, perCommand: strings.Join(parts, ", ")}
	if d.perCommand == "" {
		d.perCommand = "none"
	}
	if before.reads >= 0 && after.reads >= 0 {
		// The second INFO's own read event is counted in after.reads.
		reads := after.reads - before.reads - 1
		if reads < 0 {
			reads = 0
		}
		d.roundTrips = float64(reads) / float64(requests)
	}
	return d
}

// redisPid is the server's process id (INFO server).
func redisPid(ctx context.Context, c *redis.Client) (int, error) {
	s, err := c.Info(ctx, "server").Result()
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			return strconv.Atoi(v)
		}
	}
	return 0, fmt.Errorf("no process_id in INFO server")
}
