package main

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// The machine may be shared, or a virtual machine whose CPUs the host
// takes away (steal): cpuProbe measures both during a phase, from /proc
// (Linux), so that a noisy run can be told from a slow Gatehouse.

// clockTick is USER_HZ, the unit of /proc/stat and /proc/PID/stat.
const clockTick = 100

type cpuProbe struct {
	pids []int // the benchmark's long-running processes: itself, Caddy, redis-server
}

type cpuSnap struct {
	ok          bool
	busy, total int64 // all CPUs, ticks; busy without steal
	steal       int64 // ticks the hypervisor ran something else
	ours        int64 // ticks of the probe's pids
}

func (p *cpuProbe) snap() cpuSnap {
	f := strings.Fields(firstLine(readFile("/proc/stat")))
	if len(f) < 8 || f[0] != "cpu" {
		return cpuSnap{}
	}
	var v [10]int64
	for i := 1; i < len(f) && i <= len(v); i++ {
		v[i-1], _ = strconv.ParseInt(f[i], 10, 64)
	}
	// user nice system idle iowait irq softirq steal (guest time is within user)
	s := cpuSnap{ok: true}
	s.busy = v[0] + v[1] + v[2] + v[5] + v[6]
	s.steal = v[7]
	s.total = s.busy + v[3] + v[4] + v[7]
	for _, pid := range p.pids {
		s.ours += procTicks(pid)
	}
	return s
}

// cpuShare is how a phase's CPU time (all CPUs) was spent, as fractions.
type cpuShare struct {
	others float64 // processes other than the probe's pids and the phase's child; -1 when unknown
	steal  float64 // taken by the hypervisor; -1 when unknown
}

// share compares two snapshots around a phase whose child (wrk, loadgen)
// used child CPU time.
func share(a, b cpuSnap, child time.Duration) cpuShare {
	if !a.ok || !b.ok || b.total <= a.total {
		return cpuShare{-1, -1}
	}
	total := float64(b.total - a.total)
	others := float64(b.busy-a.busy) - float64(b.ours-a.ours) - child.Seconds()*clockTick
	if others < 0 {
		others = 0
	}
	return cpuShare{others: others / total, steal: float64(b.steal-a.steal) / total}
}

// procTicks is the user and system time of a process, in ticks.
func procTicks(pid int) int64 {
	s := readFile("/proc/" + strconv.Itoa(pid) + "/stat")
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	// After the command: state is field 3, utime and stime fields 14 and 15.
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st
}

// selfPid is this process.
func selfPid() int { return os.Getpid() }
