//go:build !linux

package redistest

import "syscall"

// redisSysProcAttr returns nil: outside Linux there is no parent-death
// signal, so a killed test binary can leave its redis-server running.
func redisSysProcAttr() *syscall.SysProcAttr { return nil }
