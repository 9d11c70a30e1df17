package testsupport

import (
	"testing"
	"time"
)

// WaitFor polls cond every 20 ms until it returns true; when timeout
// passes first, it fails tb with msg (tb.Fatal: call it from the test
// goroutine).
func WaitFor(tb testing.TB, timeout time.Duration, msg string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatal(msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
