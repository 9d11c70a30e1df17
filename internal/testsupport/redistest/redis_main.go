package redistest

import (
	"fmt"
	"os"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
)

// Shared is the server a package's tests share once Main has started it.
// Each test uses keys named after itself; a test that stops or flushes a
// server starts its own with StartRedisT.
var Shared *Redis

// Main starts Shared, runs a package's tests, closes it and exits with the
// tests' code. It is the whole of a TestMain:
//
//	func TestMain(m *testing.M) { redistest.Main(m) }
func Main(m *testing.M) { os.Exit(RedisMain(m, &Shared)) }

// RedisMain starts a Redis for a package's tests, stores it in *out, runs
// the tests (under testsupport.Main) and closes it, returning the exit
// code. If the server cannot start, no test runs and the code is 1.
func RedisMain(m *testing.M, out **Redis) int {
	closeErr := false
	code := testsupport.Main(m, func() (func(), error) {
		r, err := StartRedis()
		if err != nil {
			return nil, err
		}
		*out = r
		return func() {
			if err := r.Close(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				closeErr = true
			}
		}, nil
	})
	if code == 0 && closeErr {
		code = 1
	}
	return code
}

// StartRedisT starts a Redis of the test's own, for tests that stop or
// flush it, and closes it when the test ends. It fails tb if the server
// cannot start.
func StartRedisT(tb testing.TB) *Redis {
	tb.Helper()
	r, err := StartRedis()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := r.Close(); err != nil {
			tb.Error(err)
		}
	})
	return r
}
