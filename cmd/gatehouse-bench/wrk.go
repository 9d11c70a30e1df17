package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ensureWrk returns the path of wrk, installing the Debian package with
// apt-get when it is missing and install is true.
func ensureWrk(ctx context.Context, install bool) (string, error) {
	if p, err := exec.LookPath("wrk"); err == nil {
		return p, nil
	}
	const hint = "install it (Debian/Ubuntu: apt-get install -y wrk)"
	if !install {
		return "", errors.New("wrk is not on PATH; " + hint)
	}
	if os.Geteuid() != 0 {
		return "", errors.New("wrk is not on PATH and installing it needs root; " + hint)
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return "", errors.New("wrk is not on PATH and there is no apt-get; " + hint)
	}
	fmt.Fprintln(os.Stderr, "gatehouse-bench: wrk is not installed: installing the Debian package wrk (apt-get update && apt-get install -y wrk)")
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	for _, args := range [][]string{{"update", "-q"}, {"install", "-y", "-q", "--no-install-recommends", "wrk"}} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("apt-get %s: %w", strings.Join(args, " "), err)
		}
	}
	p, err := exec.LookPath("wrk")
	if err != nil {
		return "", errors.New("apt-get installed wrk but it is still not on PATH")
	}
	fmt.Fprintln(os.Stderr, "gatehouse-bench: installed wrk at", p)
	return p, nil
}

// wrkResult is what one wrk run reports.
type wrkResult struct {
	Requests     int64
	Elapsed      time.Duration
	RPS          float64
	P50, P75     time.Duration
	P90, P99     time.Duration
	Max          time.Duration
	Non2xx3xx    int64 // responses with a status >= 400
	SocketErrors int64 // connect, read, write and timeout errors

	cpu time.Duration // wrk's own CPU time
}

// runWrk loads t with wrk for d and parses its report.
func runWrk(ctx context.Context, bin string, t *target, threads, conns int, d time.Duration) (*wrkResult, error) {
	secs := int((d + time.Second/2) / time.Second)
	if secs < 1 {
		secs = 1
	}
	args := []string{
		"-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns), "-d", strconv.Itoa(secs) + "s",
		"--latency", "--timeout", "5s",
		"-H", "Host: " + t.host,
	}
	if t.header != "" {
		args = append(args, "-H", t.header)
	}
	args = append(args, "http://"+t.dial+"/")
	ctx, cancel := context.WithTimeout(ctx, time.Duration(secs)*time.Second+20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.SysProcAttr = childProcAttr()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("wrk: %w: %s%s", err, out.String(), errOut.String())
	}
	res, err := parseWrk(out.String())
	if err != nil {
		return nil, fmt.Errorf("wrk: %w in:\n%s", err, out.String())
	}
	res.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return res, nil
}

var (
	wrkTotalRe   = regexp.MustCompile(`(?m)^\s*(\d+) requests in ([\d.]+[a-z]+),`)
	wrkRPSRe     = regexp.MustCompile(`(?m)^Requests/sec:\s+([\d.]+)`)
	wrkPctRe     = regexp.MustCompile(`(?m)^\s+(50|75|90|99)%\s+([\d.]+[a-z]+)\s*$`)
	wrkLatencyRe = regexp.MustCompile(`(?m)^\s+Latency\s+\S+\s+\S+\s+([\d.]+[a-z]+)`)
	wrkNon2xxRe  = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	wrkSocketRe  = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// parseWrk reads the report of wrk --latency.
func parseWrk(out string) (*wrkResult, error) {
	r := &wrkResult{}
	m := wrkTotalRe.FindStringSubmatch(out)
	if m == nil {
		return nil, errors.New("no request count")
	}
	r.Requests, _ = strconv.ParseInt(m[1], 10, 64)
	var err error
	if r.Elapsed, err = parseWrkDuration(m[2]); err != nil {
		return nil, err
	}
	m = wrkRPSRe.FindStringSubmatch(out)
	if m == nil {
		return nil, errors.New("no Requests/sec")
	}
	r.RPS, _ = strconv.ParseFloat(m[1], 64)
	found := 0
	for _, m := range wrkPctRe.FindAllStringSubmatch(out, -1) {
		d, err := parseWrkDuration(m[2])
		if err != nil {
			return nil, err
		}
		found++
		switch m[1] {
		case "50":
			r.P50 = d
		case "75":
			r.P75 = d
		case "90":
			r.P90 = d
		case "99":
			r.P99 = d
		}
	}
	if found != 4 {
		return nil, errors.New("no latency distribution (was --latency given?)")
	}
	if m := wrkLatencyRe.FindStringSubmatch(out); m != nil {
		if r.Max, err = parseWrkDuration(m[1]); err != nil {
			return nil, err
		}
	}
	if m := wrkNon2xxRe.FindStringSubmatch(out); m != nil {
		r.Non2xx3xx, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := wrkSocketRe.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.ParseInt(s, 10, 64)
			r.SocketErrors += n
		}
	}
	return r, nil
}

// parseWrkDuration reads wrk's durations: 812.00us, 1.20ms, 2.01s, 1.00m.
func parseWrkDuration(s string) (time.Duration, error) {
	i := strings.IndexFunc(s, func(r rune) bool { return r >= 'a' && r <= 'z' })
	if i <= 0 {
		return 0, fmt.Errorf("bad wrk duration %q", s)
	}
	v, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0, fmt.Errorf("bad wrk duration %q", s)
	}
	unit := map[string]float64{
		"us": float64(time.Microsecond), "ms": float64(time.Millisecond), "s": float64(time.Second),
		"m": float64(time.Minute), "h": float64(time.Hour),
	}[s[i:]]
	if unit == 0 {
		return 0, fmt.Errorf("bad wrk duration unit in %q", s)
	}
	return time.Duration(v * unit), nil
}
