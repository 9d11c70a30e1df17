package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
)

// RequireRedisEnv names the environment variable that, set to "1", makes
// StartRedis fail instead of falling back to miniredis when redis-server is
// not installed. CI sets it.
const RequireRedisEnv = "GATEHOUSE_REQUIRE_REDIS"

// redisStartAttempts is how many free ports StartRedis tries when another
// process grabs the port between picking it and redis-server binding it.
const redisStartAttempts = 5

// Redis is a redis-server process started for tests (or a miniredis fallback
// when redis-server is not installed). Its methods are safe for concurrent
// use.
type Redis struct {
	// Addr is the server's host:port on 127.0.0.1. It stays the same across
	// Stop and Start.
	Addr string
	// Real is true for a redis-server process, false for miniredis.
	Real bool

	mu     sync.Mutex
	bin    string // redis-server path
	dir    string // temp dir: dataset, log
	port   int
	proc   *redisProc // nil while stopped
	mini   *miniredis.Miniredis
	client *redis.Client
	closed bool
}

// StartRedis starts redis-server on a free 127.0.0.1 port with its own temp
// dir, waits until it answers PING (at most redisReadyTimeout, 10s) and
// returns it. The server saves its dataset on SIGTERM (see Stop) and dies
// with the test binary.
//
// If redis-server is not on PATH it returns an error when the environment
// variable GATEHOUSE_REQUIRE_REDIS is "1", and otherwise falls back to
// miniredis (with TTLs following the clock), saying so on stderr.
func StartRedis() (*Redis, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv(RequireRedisEnv) == "1" {
			return nil, fmt.Errorf("redistest: redis-server is required (%s=1) but not found on PATH: %w", RequireRedisEnv, err)
		}
		return startMiniredis()
	}
	dir, err := os.MkdirTemp("", "gatehouse-redis-")
	if err != nil {
		return nil, fmt.Errorf("redistest: redis temp dir: %w", err)
	}
	r := &Redis{Real: true, bin: bin, dir: dir}
	for attempt := 1; ; attempt++ {
		port, err := testsupport.FreePort()
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("redistest: %w", err)
		}
		r.port = port
		r.Addr = fmt.Sprintf("127.0.0.1:%d", port)
		r.proc, err = r.launch()
		if err == nil {
			return r, nil
		}
		if !errors.Is(err, errAddrInUse) || attempt == redisStartAttempts {
			_ = os.RemoveAll(dir)
			return nil, err
		}
	}
}

// Stop shuts the server down gracefully (SIGTERM, so it saves its dataset to
// its temp dir) and waits for it to exit. It also closes the client from
// Client; call Client again after Start. Stopping a stopped server does
// nothing. With miniredis, Stop closes the listener and keeps the data.
func (r *Redis) Stop() error { return r.halt(true) }

// Start brings a stopped server back on the same port and dir, loading the
// dataset the last Stop saved, and waits until it answers PING. With
// miniredis it reopens the listener on the same port.
func (r *Redis) Start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return errors.New("redistest: redis start: closed")
	}
	if r.mini != nil {
		if err := r.mini.Restart(); err != nil {
			return fmt.Errorf("redistest: miniredis restart: %w", err)
		}
		return nil
	}
	if r.proc != nil {
		return errors.New("redistest: redis start: already running")
	}
	p, err := r.launch()
	if err != nil {
		return err
	}
	r.proc = p
	return nil
}

// Kill stops the server without saving (SIGKILL) and waits for it to exit,
// like a crash: a later Start loads the dataset of the last Stop, if any. It
// also closes the client from Client. With miniredis, Kill drops all data
// and closes the listener.
func (r *Redis) Kill() error { return r.halt(false) }

// halt is Stop (save) or Kill.
func (r *Redis) halt(save bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closeClientLocked()
	if r.mini != nil {
		if !save {
			r.mini.FlushAll()
		}
		r.mini.Close()
		return nil
	}
	p := r.proc
	r.proc = nil
	switch {
	case p == nil:
		return nil
	case save:
		return p.stop(r.dir)
	}
	return p.kill()
}

// Close stops the server for good (without saving) and removes its temp
// dir. It is safe to call more than once.
func (r *Redis) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	r.closeClientLocked()
	if r.mini != nil {
		r.mini.Close()
		return nil
	}
	var err error
	if r.proc != nil {
		err = r.proc.kill()
		r.proc = nil
	}
	if rmErr := os.RemoveAll(r.dir); rmErr != nil && err == nil {
		err = fmt.Errorf("redistest: redis temp dir: %w", rmErr)
	}
	return err
}

// Client returns a go-redis client to the server, for assertions in tests.
// It is shared, made on first use, and closed by Stop, Kill and Close; do
// not close it yourself.
func (r *Redis) Client() *redis.Client {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.client == nil {
		r.client = redis.NewClient(&redis.Options{Addr: r.Addr, DialerRetries: 1})
	}
	return r.client
}

// FlushAll empties the server, failing tb if it cannot.
func (r *Redis) FlushAll(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.Client().FlushAll(ctx).Err(); err != nil {
		tb.Fatalf("redistest: redis flushall: %v", err)
	}
}

func (r *Redis) closeClientLocked() {
	if r.client != nil {
		_ = r.client.Close()
		r.client = nil
	}
}
