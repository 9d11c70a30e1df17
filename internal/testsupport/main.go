package testsupport

import (
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"sync"
	"testing"
	"time"
)

// watchdogMargin is how long before go test's -timeout the watchdog of
// Main gives up: time to print the stacks and clean up before go test
// panics, which runs no cleanup at all.
const watchdogMargin = 15 * time.Second

// Main runs the tests of a package that starts servers and processes,
// from its TestMain, and returns the exit code:
//
//	func TestMain(m *testing.M) { os.Exit(testsupport.Main(m, setup)) }
//
// It gives the run a temporary root (as TMPDIR, so every t.TempDir and
// os.MkdirTemp of the run is inside it) and runs setup (nil for none),
// whose cleanup runs after the tests. Should the run come within
// watchdogMargin of go test's -timeout, it prints every goroutine's stack,
// runs the cleanups and exits 2 itself, so a hang ends with its stack and
// leaves no temporary files or processes behind (child processes started
// with Pdeathsig die with this one).
func Main(m *testing.M, setup func() (cleanup func(), err error)) int {
	flag.Parse()
	root, err := os.MkdirTemp("", "gatehouse-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	os.Setenv("TMPDIR", root)
	var once sync.Once
	var cleanup func()
	finish := func() {
		once.Do(func() {
			if cleanup != nil {
				cleanup()
			}
			os.RemoveAll(root)
		})
	}
	defer finish()
	if setup != nil {
		if cleanup, err = setup(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	if d := testTimeout(); d > 2*watchdogMargin {
		stop := watchdog(d-watchdogMargin, finish)
		defer stop()
	}
	return m.Run()
}

// testTimeout is go test's -timeout for this run (0 without one).
func testTimeout() time.Duration {
	f := flag.Lookup("test.timeout")
	if f == nil {
		return 0
	}
	if g, ok := f.Value.(flag.Getter); ok {
		if d, ok := g.Get().(time.Duration); ok {
			return d
		}
	}
	return 0
}

// watchdog ends the process after d: it prints every goroutine's stack,
// runs finish and exits 2. The returned func disarms it.
func watchdog(d time.Duration, finish func()) (stop func()) {
	t := time.AfterFunc(d, func() {
		fmt.Fprintf(os.Stderr, "\ntestsupport: the tests ran %s, close to go test's -timeout: "+
			"stopping them, with every goroutine's stack, after cleaning up\n\n", d)
		_ = pprof.Lookup("goroutine").WriteTo(os.Stderr, 2)
		finish()
		os.Exit(2)
	})
	return func() { t.Stop() }
}
