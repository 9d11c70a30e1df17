// Command gatehouse-bench runs Gatehouse's side-by-side load benchmark in
// one go: the same Caddy process serves a plain reverse_proxy site (the
// baseline) and the same proxy behind Gatehouse with the memory store, with
// Redis and with Redis plus the local session cache, and every site is
// loaded in turn with the same authenticated GET.
//
// It starts everything it needs on 127.0.0.1 and stops it on exit (also on
// Ctrl-C): a small upstream, a redis-server of its own, the development
// OIDC provider (internal/devidp), and Caddy with Gatehouse compiled in,
// built from this repository and run as a separate process. Each
// Gatehouse site gets a real session cookie from a real login.
//
// Each round loads every target twice, in an order rotated from round to
// round: for throughput with wrk (closed loop, as fast as it answers), then
// at a fixed request rate of half the baseline's throughput with a
// constant-rate generator (this command's "loadgen" mode, run as a child
// process) that measures every latency from the request's intended send
// time, so that a stall is not hidden by the generator waiting for it
// (coordinated omission); it runs at nice -10 when allowed, so that its
// timestamps wait less for a CPU than the server it measures. For the
// Redis targets it also counts the Redis commands and round trips per
// request during the throughput phase. It also records how much CPU other
// processes and the hypervisor (steal) took during each phase: on a shared
// machine that is what the p99s mostly measure.
//
// The summary (medians over the rounds, and the targets from the
// "Performance" section of the spec, met or not) is printed and written to
// bench-results/latest.txt.
//
// Usage:
//
//	go run ./cmd/gatehouse-bench [-rounds 3] [-duration 5s] [-connections 32]
//		[-targets baseline,memory,redis,redis+cache] [-rate-fraction 0.5 | -rate N] [-keep]
//
// wrk is installed with apt-get when it is missing (and this runs as root);
// redis-server must be on PATH.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "loadgen" {
		os.Exit(loadgenMain(os.Args[2:]))
	}
	os.Exit(benchMain(os.Args[1:]))
}

// Target names, in their default order. The baseline is the plain proxy.
const (
	targetBaseline   = "baseline"
	targetMemory     = "memory"
	targetRedis      = "redis"
	targetRedisCache = "redis+cache"
	// targetForwardAuth is the plain proxy asking Gatehouse's /auth
	// endpoint first (Caddy's forward_auth, as nginx's auth_request or
	// Traefik's ForwardAuth would).
	targetForwardAuth = "forward_auth"
	// targetJWT is the memory site called by a machine with a trusted
	// issuer's JWT (GitHub Actions' shape) instead of a session cookie:
	// the verification is remembered, so it measures the bearer path.
	targetJWT = "jwt"
	// targetHeaders is the baseline sending the upstream the identity
	// headers a memory session gets (the same names and sizes, static
	// header_up values, X-Auth-Jwt included): what those bytes cost
	// through Caddy's proxy, without Gatehouse.
	targetHeaders = "headers"
)

var allTargets = []string{targetBaseline, targetHeaders, targetMemory, targetRedis, targetRedisCache, targetForwardAuth, targetJWT}

// options are the command-line flags of the benchmark.
type options struct {
	rounds       int
	duration     time.Duration
	warmup       time.Duration
	connections  int
	threads      int
	targets      []string
	rate         float64
	rateFraction float64
	keep         bool
	out          string
	repo         string
	caddyBin     string
	noInstall    bool
}

func parseFlags(args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("gatehouse-bench", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: gatehouse-bench [flags]\n\n"+
			"Runs the side-by-side load benchmark of Gatehouse against a plain Caddy reverse_proxy\n"+
			"(targets: %s) and writes the summary to bench-results/latest.txt.\n\nFlags:\n", strings.Join(allTargets, ", "))
		fs.PrintDefaults()
	}
	fs.IntVar(&o.rounds, "rounds", 5, "rounds; every target is loaded once per round, the order rotating (the spec's medians are over 5 at least)")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "length of each phase (throughput and fixed rate) per target and round")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured wrk load per target before the first round (0 to skip)")
	fs.IntVar(&o.connections, "connections", 32, "wrk connections in the throughput phase")
	fs.IntVar(&o.threads, "threads", 2, "wrk threads in the throughput phase")
	targets := fs.String("targets", strings.Join(allTargets, ","), "comma-separated targets to run")
	fs.Float64Var(&o.rate, "rate", 0, "fixed request rate per second (default: -rate-fraction of the baseline's throughput in the first round)")
	fs.Float64Var(&o.rateFraction, "rate-fraction", 0.25, "fixed request rate as a fraction of the baseline's throughput: one the machine can hold (on 2 vCPUs half the baseline already saturates them)")
	fs.BoolVar(&o.keep, "keep", false, "leave Caddy, Redis, the IdP and the upstream running after the report, with Caddy's admin API (pprof) on 127.0.0.1, until Ctrl-C")
	fs.StringVar(&o.out, "out", "", "results file (default <repo>/bench-results/latest.txt; \"-\" for none)")
	fs.StringVar(&o.repo, "repo", "", "repository root (default: found from the working directory)")
	fs.StringVar(&o.caddyBin, "caddy-bin", "", "use this Gatehouse Caddy binary instead of building ./cmd/gatehouse")
	fs.BoolVar(&o.noInstall, "no-install", false, "do not install wrk with apt-get when it is missing")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if o.rounds < 1 {
		return nil, errors.New("-rounds must be at least 1")
	}
	if o.duration < time.Second {
		return nil, errors.New("-duration must be at least 1s")
	}
	if o.connections < 1 || o.threads < 1 || o.threads > o.connections {
		return nil, errors.New("-connections and -threads must be positive, with threads <= connections")
	}
	seen := map[string]bool{}
	for _, t := range strings.Split(*targets, ",") {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		known := false
		for _, a := range allTargets {
			known = known || a == t
		}
		if !known {
			return nil, fmt.Errorf("unknown target %q (known: %s)", t, strings.Join(allTargets, ", "))
		}
		if !seen[t] {
			seen[t] = true
			o.targets = append(o.targets, t)
		}
	}
	if len(o.targets) == 0 {
		return nil, errors.New("-targets is empty")
	}
	if o.rateFraction <= 0 || o.rateFraction > 1 {
		return nil, errors.New("-rate-fraction must be in (0, 1]")
	}
	if !seen[targetBaseline] && o.rate <= 0 {
		return nil, errors.New("without the baseline target, give the fixed request rate with -rate")
	}
	return o, nil
}

func benchMain(args []string) int {
	o, err := parseFlags(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(os.Stderr, "gatehouse-bench:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var cl cleanups
	defer cl.run()
	if err := run(ctx, o, &cl); err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "gatehouse-bench: interrupted, cleaning up")
			return 130
		}
		fmt.Fprintln(os.Stderr, "gatehouse-bench:", err)
		return 1
	}
	return 0
}

func run(ctx context.Context, o *options, cl *cleanups) error {
	start, loadStart := time.Now(), loadAvg()
	repo, err := findRepo(o.repo)
	if err != nil {
		return err
	}
	if o.out == "" {
		o.out = filepath.Join(repo, "bench-results", "latest.txt")
	}
	wrkBin, err := ensureWrk(ctx, !o.noInstall)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "gatehouse-bench-")
	if err != nil {
		return err
	}
	cl.add(func() { _ = os.RemoveAll(tmp) })

	env, err := setup(ctx, o, repo, tmp, cl)
	if err != nil {
		return err
	}
	info := collectInfo(ctx, o, repo, env, wrkBin)
	info.loadStart = loadStart
	logf("machine: %s", info.machine())

	res, err := runRounds(ctx, o, env, wrkBin)
	if err != nil {
		return err
	}
	info.loadEnd = loadAvg()
	info.elapsed = time.Since(start)
	report := formatReport(o, info, res)
	fmt.Println()
	fmt.Print(report)
	if o.out != "-" {
		if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(o.out, []byte(report), 0o644); err != nil {
			return err
		}
		logf("written to %s", o.out)
	}
	if o.keep {
		env.printKeep()
		<-ctx.Done()
		return nil
	}
	return nil
}

// cleanups runs registered functions in reverse order, once.
type cleanups struct {
	fns []func()
}

func (c *cleanups) add(f func()) { c.fns = append(c.fns, f) }

func (c *cleanups) run() {
	for i := len(c.fns) - 1; i >= 0; i-- {
		c.fns[i]()
	}
	c.fns = nil
}

// logf prints a progress line on stderr.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "gatehouse-bench: "+format+"\n", args...)
}

// findRepo returns the repository root: dir when given, else the nearest
// directory above the working directory whose go.mod declares Gatehouse's
// module.
func findRepo(dir string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && strings.Contains(string(data), "module github.com/gatehouse-auth/gatehouse\n") {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("cannot find the Gatehouse repository above %s; run from inside it or pass -repo", wd)
		}
	}
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
