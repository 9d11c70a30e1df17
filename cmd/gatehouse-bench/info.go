package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// runInfo describes the machine and the software versions of a run.
type runInfo struct {
	date                 time.Time
	nproc                int
	cpu, kernel          string
	loadStart, loadEnd   string
	goVersion, caddy     string
	redis, wrk, revision string
	elapsed              time.Duration
}

func collectInfo(ctx context.Context, o *options, repo string, env *benchEnv, wrkBin string) *runInfo {
	i := &runInfo{date: time.Now(), nproc: runtime.NumCPU(), cpu: cpuModel(), kernel: firstLine(readFile("/proc/sys/kernel/osrelease"))}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	i.goVersion = firstLine(output(ctx, repo, nil, "go", "env", "GOVERSION"))
	if i.goVersion == "" {
		i.goVersion = runtime.Version()
	}
	i.caddy = firstLine(output(ctx, "", nil, env.caddyBin, "version"))
	if f := strings.Fields(i.caddy); len(f) > 0 {
		i.caddy = f[0]
	}
	if env.redis != nil {
		for _, f := range strings.Fields(output(ctx, "", nil, "redis-server", "--version")) {
			if v, ok := strings.CutPrefix(f, "v="); ok {
				i.redis = v
			}
		}
	}
	i.wrk = firstLine(output(ctx, "", nil, wrkBin, "-v"))
	if f := strings.Fields(i.wrk); len(f) >= 2 {
		i.wrk = f[1]
	}
	// Read-only git: GIT_OPTIONAL_LOCKS=0 keeps status from refreshing the index.
	gitEnv := []string{"GIT_OPTIONAL_LOCKS=0"}
	i.revision = firstLine(output(ctx, repo, gitEnv, "git", "rev-parse", "--short", "HEAD"))
	if i.revision != "" && strings.TrimSpace(output(ctx, repo, gitEnv, "git", "status", "--porcelain", "--untracked-files=no")) != "" {
		i.revision += " with local changes"
	}
	if o.caddyBin != "" {
		i.revision = "binary " + o.caddyBin
	}
	return i
}

func (i *runInfo) machine() string {
	return fmt.Sprintf("%d CPUs (nproc), %s, Linux %s", i.nproc, i.cpu, i.kernel)
}

func (i *runInfo) versions() string {
	v := fmt.Sprintf("%s, Caddy %s", i.goVersion, i.caddy)
	if i.redis != "" {
		v += ", redis-server " + i.redis
	}
	v += ", wrk " + i.wrk
	if i.revision != "" {
		v += ", gatehouse " + i.revision
	}
	return v
}

// output runs a command and returns its stdout (and stderr), or "" on a
// failure to start. Some tools (wrk -v) exit non-zero after printing.
func output(ctx context.Context, dir string, env []string, name string, args ...string) string {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil && len(out) == 0 {
		return ""
	}
	return string(out)
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// loadAvg returns the 1, 5 and 15 minute load averages.
func loadAvg() string {
	f := strings.Fields(readFile("/proc/loadavg"))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(s)
}
