package redistest

import "syscall"

// redisSysProcAttr makes the kernel kill redis-server when the test binary
// (strictly: the thread that started it, which Go keeps alive) dies, so
// that no server outlives a crashed or killed test run.
func redisSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
