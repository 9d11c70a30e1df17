package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
)

// High-availability setups for tests: a Sentinel group (master, replica,
// three sentinels) and a three-master Redis Cluster, all real redis-server
// processes on free 127.0.0.1 ports with their configuration in temp dirs.
// Tests skip when redis-server is missing, or fail if GATEHOUSE_REQUIRE_REDIS
// is "1".

const (
	// haSetupTimeout bounds waiting for a group or cluster to be ready, and
	// for a failover to finish.
	haSetupTimeout = 20 * time.Second
	// haPoll is the pause between polls while waiting.
	haPoll = 50 * time.Millisecond
)

// haNode is one redis-server process of an HA setup.
type haNode struct {
	addr string
	dir  string
	mu   sync.Mutex
	proc *redisProc // nil once killed
}

// kill SIGKILLs the node, if it still runs.
func (n *haNode) kill() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc != nil {
		_ = n.proc.kill()
		n.proc = nil
	}
}

// running reports whether the node's process has not been killed.
func (n *haNode) running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.proc != nil
}

// haServerBin returns the redis-server path, skipping tb if it is missing
// (failing it when GATEHOUSE_REQUIRE_REDIS is "1").
func haServerBin(tb testing.TB, what string) string {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		haUnavailable(tb, fmt.Sprintf("%s needs redis-server: %v", what, err))
	}
	return bin
}

// haUnavailable skips tb, or fails it when RequireRedisEnv is "1".
func haUnavailable(tb testing.TB, msg string) {
	tb.Helper()
	if os.Getenv(RequireRedisEnv) == "1" {
		tb.Fatalf("redistest: %s (%s=1)", msg, RequireRedisEnv)
	}
	tb.Skipf("redistest: %s; skipping (set %s=1 to fail instead)", msg, RequireRedisEnv)
}

// startHANode writes conf (with "PORT" standing for the port and "DIR" for
// the node's dir) to a config file in a fresh dir under root and starts
// redis-server on it (with --sentinel if sentinel), retrying on another port
// if the chosen one was taken. The node is killed at tb's end. A start that
// fails because the directives are unknown skips tb (see haUnavailable).
func startHANode(tb testing.TB, bin, root, name, conf string, sentinel bool) *haNode {
	tb.Helper()
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	n := &haNode{dir: dir}
	tb.Cleanup(n.kill)
	for attempt := 1; ; attempt++ {
		port, err := testsupport.FreePort()
		if err != nil {
			tb.Fatal(err)
		}
		n.addr = fmt.Sprintf("127.0.0.1:%d", port)
		text := strings.NewReplacer("PORT", strconv.Itoa(port), "DIR", dir).Replace(conf)
		cfg := filepath.Join(dir, "redis.conf")
		if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
			tb.Fatal(err)
		}
		p, err := launchHA(bin, cfg, dir, n.addr, sentinel)
		if err == nil {
			n.mu.Lock()
			n.proc = p
			n.mu.Unlock()
			return n
		}
		if errors.Is(err, errAddrInUse) && attempt < redisStartAttempts {
			continue
		}
		if s := err.Error(); strings.Contains(s, "Bad directive") || strings.Contains(s, "sentinel mode") ||
			strings.Contains(s, "Unrecognized") {
			haUnavailable(tb, fmt.Sprintf("redis-server lacks %s support: %v", name, err))
		}
		tb.Fatalf("redistest: %s: %v", name, err)
	}
}

// launchHA starts redis-server with config file cfg and waits until it
// answers PING at addr.
func launchHA(bin, cfg, dir, addr string, sentinel bool) (*redisProc, error) {
	args := []string{cfg}
	if sentinel {
		args = append(args, "--sentinel")
	}
	return startRedisProc(bin, dir, addr, args...)
}

// waitFor polls cond until it returns nil or timeout passes, then fails tb
// with what, the last error and the logs of nodes.
func waitFor(tb testing.TB, timeout time.Duration, what string, nodes []*haNode, cond func(ctx context.Context) error) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := cond(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			var logs strings.Builder
			for _, n := range nodes {
				fmt.Fprintf(&logs, "=== %s (%s)\n%s\n", filepath.Base(n.dir), n.addr, logTail(n.dir))
			}
			tb.Fatalf("redistest: %s: not after %v: %v\n%s", what, timeout, err, logs.String())
		}
		time.Sleep(haPoll)
	}
}

// infoField returns field's value in an INFO reply, or "".
func infoField(info, field string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v
		}
	}
	return ""
}

// quickClient returns a client for one-off commands to addr that fails
// fast.
func quickClient(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr: addr, DialerRetries: 1, MaxRetries: -1, Protocol: 2,
		DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second,
	})
}

// ---- Sentinel ----

// SentinelGroup is a master, its replica and three sentinels watching them
// (quorum 2), started by StartSentinelGroup.
type SentinelGroup struct {
	// MasterName is the master set name the sentinels know it by.
	MasterName string
	// Sentinels are the sentinels' host:port addresses.
	Sentinels []string

	servers   []*haNode // master and replica, in start order
	sentinels []*haNode
}

// StartSentinelGroup starts a master, one replica and three sentinels
// (quorum 2, down-after-milliseconds 1000, failover-timeout 5000) on free
// ports, waits until the sentinels see the replica and each other, and stops
// everything at tb's end. It skips tb if redis-server is missing (see
// RequireRedisEnv).
func StartSentinelGroup(tb testing.TB) *SentinelGroup {
	tb.Helper()
	bin := haServerBin(tb, "a Sentinel group")
	root := tb.TempDir()
	g := &SentinelGroup{MasterName: "gatehouse-ha"}
	const server = "port PORT\nbind 127.0.0.1\nprotected-mode no\ndaemonize no\ndir DIR\nlogfile DIR/redis.log\nsave \"\"\nappendonly no\n"
	master := startHANode(tb, bin, root, "master", server, false)
	replica := startHANode(tb, bin, root, "replica", server+"replicaof "+strings.Replace(master.addr, ":", " ", 1)+"\n", false)
	g.servers = []*haNode{master, replica}
	waitFor(tb, haSetupTimeout, "replica in sync", g.servers, func(ctx context.Context) error {
		c := quickClient(replica.addr)
		defer c.Close()
		info, err := c.Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		if s := infoField(info, "master_link_status"); s != "up" {
			return fmt.Errorf("master_link_status %q", s)
		}
		return nil
	})

	mhost, mport, _ := strings.Cut(master.addr, ":")
	sconf := fmt.Sprintf("port PORT\nbind 127.0.0.1\nprotected-mode no\ndaemonize no\ndir DIR\nlogfile DIR/redis.log\n"+
		"sentinel monitor %[1]s %[2]s %[3]s 2\n"+
		"sentinel down-after-milliseconds %[1]s 1000\n"+
		"sentinel failover-timeout %[1]s 5000\n"+
		"sentinel parallel-syncs %[1]s 1\n", g.MasterName, mhost, mport)
	for i := range 3 {
		s := startHANode(tb, bin, root, fmt.Sprintf("sentinel%d", i+1), sconf, true)
		g.sentinels = append(g.sentinels, s)
		g.Sentinels = append(g.Sentinels, s.addr)
	}
	// Sentinels INFO the servers every 10s, so they would see an old master
	// turned replica only that much later: make it every second where the
	// sentinel knows SENTINEL DEBUG (7.0 and later).
	for _, s := range g.Sentinels {
		c := quickClient(s)
		_ = c.Do(context.Background(), "SENTINEL", "DEBUG", "info-period", 1000).Err()
		c.Close()
	}
	waitFor(tb, haSetupTimeout, "sentinels see the replica and each other", g.all(), func(ctx context.Context) error {
		return g.checkSentinels(ctx, master.addr)
	})
	return g
}

func (g *SentinelGroup) all() []*haNode {
	return append(append([]*haNode(nil), g.servers...), g.sentinels...)
}

// checkSentinels reports nil when every sentinel has master as the master,
// knows the two other sentinels, and sees a healthy replica.
func (g *SentinelGroup) checkSentinels(ctx context.Context, master string) error {
	for _, s := range g.Sentinels {
		sc := redis.NewSentinelClient(&redis.Options{Addr: s, DialerRetries: 1, MaxRetries: -1, Protocol: 2,
			DialTimeout: time.Second, ReadTimeout: time.Second})
		err := func() error {
			m, err := sc.Master(ctx, g.MasterName).Result()
			if err != nil {
				return err
			}
			if a := m["ip"] + ":" + m["port"]; a != master {
				return fmt.Errorf("sentinel %s: master %s, want %s", s, a, master)
			}
			if m["flags"] != "master" {
				return fmt.Errorf("sentinel %s: master flags %q", s, m["flags"])
			}
			if m["num-other-sentinels"] != "2" {
				return fmt.Errorf("sentinel %s: %s other sentinels", s, m["num-other-sentinels"])
			}
			reps, err := sc.Replicas(ctx, g.MasterName).Result()
			if err != nil {
				return err
			}
			for _, r := range reps {
				if r["flags"] == "slave" && r["master-link-status"] == "ok" {
					return nil
				}
			}
			return fmt.Errorf("sentinel %s: no healthy replica in %v", s, reps)
		}()
		sc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// Master returns the current master's address according to the sentinels
// (the first that answers), or "" if none answers.
func (g *SentinelGroup) Master() string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, s := range g.Sentinels {
		sc := redis.NewSentinelClient(&redis.Options{Addr: s, DialerRetries: 1, MaxRetries: -1, Protocol: 2,
			DialTimeout: time.Second, ReadTimeout: time.Second})
		a, err := sc.GetMasterAddrByName(ctx, g.MasterName).Result()
		sc.Close()
		if err == nil && len(a) == 2 {
			return a[0] + ":" + a[1]
		}
	}
	return ""
}

// node returns the server process listening on addr, or nil.
func (g *SentinelGroup) node(addr string) *haNode {
	for _, n := range g.servers {
		if n.addr == addr {
			return n
		}
	}
	return nil
}

// Failover runs SENTINEL FAILOVER once the sentinels see a healthy replica,
// and waits until every sentinel names a new master and it accepts writes.
func (g *SentinelGroup) Failover(tb testing.TB) {
	tb.Helper()
	old := g.Master()
	waitFor(tb, haSetupTimeout, "a healthy replica before failover", g.all(), func(ctx context.Context) error {
		return g.checkSentinels(ctx, old)
	})
	waitFor(tb, haSetupTimeout, "SENTINEL FAILOVER accepted", g.all(), func(ctx context.Context) error {
		sc := redis.NewSentinelClient(&redis.Options{Addr: g.Sentinels[0], DialerRetries: 1, MaxRetries: -1, Protocol: 2})
		defer sc.Close()
		return sc.Failover(ctx, g.MasterName).Err()
	})
	addr := g.WaitNewMaster(tb, old)
	// The sentinels turn the old master into a replica of the new one only
	// after it has reported the wrong role for 8s or more; do it now, as
	// they would, so that a KillMaster soon after finds a replica to
	// promote.
	if n := g.node(old); n != nil && n.running() {
		host, port, _ := strings.Cut(addr, ":")
		waitFor(tb, haSetupTimeout, "the old master replicating the new one", g.all(), func(ctx context.Context) error {
			c := quickClient(old)
			defer c.Close()
			info, err := c.Info(ctx, "replication").Result()
			if err != nil {
				return err
			}
			if infoField(info, "role") != "slave" || infoField(info, "master_port") != port {
				return c.ReplicaOf(ctx, host, port).Err()
			}
			if s := infoField(info, "master_link_status"); s != "up" {
				return fmt.Errorf("master_link_status %q", s)
			}
			return nil
		})
	}
}

// KillMaster SIGKILLs the current master once the sentinels see a healthy
// replica to promote. It does not wait for the failover: see WaitNewMaster.
// It returns the killed master's address.
func (g *SentinelGroup) KillMaster(tb testing.TB) string {
	tb.Helper()
	old := g.Master()
	waitFor(tb, haSetupTimeout, "a healthy replica before killing the master", g.all(), func(ctx context.Context) error {
		return g.checkSentinels(ctx, old)
	})
	n := g.node(old)
	if n == nil {
		tb.Fatalf("redistest: master %s is not one of the group's servers", old)
	}
	n.kill()
	return old
}

// WaitNewMaster waits until every sentinel names a master other than old and
// that master accepts writes, and returns its address.
func (g *SentinelGroup) WaitNewMaster(tb testing.TB, old string) string {
	tb.Helper()
	var addr string
	waitFor(tb, haSetupTimeout, "a new master", g.all(), func(ctx context.Context) error {
		addr = ""
		for _, s := range g.Sentinels {
			sc := redis.NewSentinelClient(&redis.Options{Addr: s, DialerRetries: 1, MaxRetries: -1, Protocol: 2,
				DialTimeout: time.Second, ReadTimeout: time.Second})
			a, err := sc.GetMasterAddrByName(ctx, g.MasterName).Result()
			sc.Close()
			if err != nil {
				return fmt.Errorf("sentinel %s: %w", s, err)
			}
			cur := a[0] + ":" + a[1]
			if cur == old {
				return fmt.Errorf("sentinel %s: master still %s", s, old)
			}
			if addr != "" && cur != addr {
				return fmt.Errorf("sentinels disagree: %s and %s", addr, cur)
			}
			addr = cur
		}
		c := quickClient(addr)
		defer c.Close()
		return c.Set(ctx, "testsupport:ha:probe", time.Now().String(), time.Minute).Err()
	})
	return addr
}

// ---- Cluster ----

// Cluster is a three-master Redis Cluster started by StartCluster.
type Cluster struct {
	// Addrs are the nodes' host:port addresses.
	Addrs []string

	nodes []*haNode
}

// StartCluster starts a three-master Redis Cluster (cluster-enabled yes,
// cluster-node-timeout 2000, no replicas) on free ports, assigns the slots
// evenly (CLUSTER ADDSLOTS) and joins the nodes (CLUSTER MEET), waits until
// every node reports cluster_state:ok, and stops it at tb's end. It skips tb
// if redis-server is missing (see RequireRedisEnv).
func StartCluster(tb testing.TB) *Cluster {
	tb.Helper()
	bin := haServerBin(tb, "a Redis Cluster")
	root := tb.TempDir()
	const conf = "port PORT\nbind 127.0.0.1\nprotected-mode no\ndaemonize no\ndir DIR\nlogfile DIR/redis.log\nsave \"\"\nappendonly no\n" +
		"cluster-enabled yes\ncluster-config-file DIR/nodes.conf\ncluster-node-timeout 2000\n"
	c := &Cluster{}
	for i := range 3 {
		n := startHANode(tb, bin, root, fmt.Sprintf("cluster%d", i+1), conf, false)
		c.nodes = append(c.nodes, n)
		c.Addrs = append(c.Addrs, n.addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const slots = 16384
	for i, a := range c.Addrs {
		cl := quickClient(a)
		err := cl.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err()
		if err == nil {
			err = cl.ClusterAddSlotsRange(ctx, i*slots/3, (i+1)*slots/3-1).Err()
		}
		if err == nil && i > 0 {
			host, port, _ := strings.Cut(c.Addrs[0], ":")
			err = cl.ClusterMeet(ctx, host, port).Err()
		}
		cl.Close()
		if err != nil {
			if strings.Contains(err.Error(), "cluster support disabled") {
				haUnavailable(tb, "redis-server lacks cluster support: "+err.Error())
			}
			tb.Fatalf("redistest: cluster setup on %s: %v", a, err)
		}
	}
	waitFor(tb, haSetupTimeout, "cluster_state:ok on every node", c.nodes, func(ctx context.Context) error {
		for _, a := range c.Addrs {
			cl := quickClient(a)
			info, err := cl.ClusterInfo(ctx).Result()
			cl.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", a, err)
			}
			if infoField(info, "cluster_state") != "ok" || infoField(info, "cluster_known_nodes") != "3" ||
				infoField(info, "cluster_slots_ok") != strconv.Itoa(slots) {
				return fmt.Errorf("%s: cluster_state %s, known nodes %s, slots ok %s", a,
					infoField(info, "cluster_state"), infoField(info, "cluster_known_nodes"), infoField(info, "cluster_slots_ok"))
			}
		}
		return nil
	})
	return c
}
