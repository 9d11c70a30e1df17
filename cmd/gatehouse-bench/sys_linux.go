package main

import (
	"os"
	"strconv"
	"syscall"
	"time"
)

// childProcAttr puts a child in its own process group (so that Ctrl-C
// reaches only this command, which then stops the children in order) and
// has the kernel kill it should this command die without cleaning up.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// prSetTimerSlack is prctl's PR_SET_TIMERSLACK.
const prSetTimerSlack = 29

// preciseTimers makes the calling thread's sleeps end within about a
// microsecond of their deadline instead of the default 50µs slack.
func preciseTimers() {
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerSlack, 1, 0)
}

// preciseSleep blocks the calling OS thread for d with nanosleep(2). The Go
// runtime's timers wake sleepers up to a millisecond late, which would add
// up to a millisecond to every latency the constant-rate generator
// measures.
func preciseSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for {
		var rem syscall.Timespec
		if err := syscall.Nanosleep(&ts, &rem); err != syscall.EINTR {
			return
		}
		ts = rem
	}
}

// raisePriority sets the nice value of every thread of this process (Linux
// keeps it per thread; threads made later inherit it) to nice, so that the
// generator's timestamps wait less for a CPU than the server it measures.
// It needs root (or CAP_SYS_NICE) and reports whether it worked.
func raisePriority(nice int) bool {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return false
	}
	ok := true
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice) != nil {
			ok = false
		}
	}
	return ok
}
