//go:build !linux

package main

import (
	"syscall"
	"time"
)

func childProcAttr() *syscall.SysProcAttr { return nil }

func preciseTimers() {}

func preciseSleep(d time.Duration) { time.Sleep(d) }

func raisePriority(int) bool { return false }
