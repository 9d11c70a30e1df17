package store_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/store/storetest"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/redistest"
)

// testRedis is the server shared by this package's Redis tests; tests that
// stop it start their own with redistest.StartRedisT.
var testRedis *redistest.Redis

func TestMain(m *testing.M) { os.Exit(redistest.RedisMain(m, &testRedis)) }

// prefixed puts every key of a Store under its own prefix, so that tests
// sharing one server do not see each other's keys.
type prefixed struct {
	s      store.Store
	prefix string
}

func (p prefixed) Get(ctx context.Context, key string, touch time.Duration) ([]byte, error) {
	return p.s.Get(ctx, p.prefix+key, touch)
}

func (p prefixed) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	return p.s.Set(ctx, p.prefix+key, value, ttl)
}

func (p prefixed) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	return p.s.SetNX(ctx, p.prefix+key, value, ttl)
}

func (p prefixed) SetXX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	return p.s.SetXX(ctx, p.prefix+key, value, ttl)
}

func (p prefixed) Take(ctx context.Context, key string) ([]byte, error) {
	return p.s.Take(ctx, p.prefix+key)
}

func (p prefixed) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	return p.s.Incr(ctx, p.prefix+key, ttl)
}

func (p prefixed) Delete(ctx context.Context, key string) error {
	return p.s.Delete(ctx, p.prefix+key)
}

func (p prefixed) SetAdd(ctx context.Context, key string, ttl time.Duration, members ...string) error {
	return p.s.SetAdd(ctx, p.prefix+key, ttl, members...)
}

func (p prefixed) SetMembers(ctx context.Context, key string) ([]string, error) {
	return p.s.SetMembers(ctx, p.prefix+key)
}

func (p prefixed) SetRemove(ctx context.Context, key string, members ...string) error {
	return p.s.SetRemove(ctx, p.prefix+key, members...)
}

func (p prefixed) CompareAndDelete(ctx context.Context, key string, value []byte) (bool, error) {
	return p.s.CompareAndDelete(ctx, p.prefix+key, value)
}

func (p prefixed) CompareAndExpire(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	return p.s.CompareAndExpire(ctx, p.prefix+key, value, ttl)
}

func (p prefixed) Ping(ctx context.Context) error { return p.s.Ping(ctx) }

var prefixSeq atomic.Int64

// newTestRedis opens a store on testRedis whose keys carry a prefix unique
// to t.
func newTestRedis(t *testing.T) store.Store {
	t.Helper()
	return prefixed{s: storetest.OpenRedis(t, testRedis.Addr), prefix: fmt.Sprintf("test:%s#%d:", t.Name(), prefixSeq.Add(1))}
}

func TestRedis(t *testing.T) {
	storetest.Run(t, newTestRedis)
}

func TestRedisOutage(t *testing.T) {
	srv := redistest.StartRedisT(t)
	const timeout = 500 * time.Millisecond
	r, err := store.OpenRedis(store.RedisOptions{Addrs: []string{srv.Addr}, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	const key, secret = "outage:key", "outage-secret-value"
	if err := r.Set(ctx, key, []byte(secret), time.Minute); err != nil {
		t.Fatal(err)
	}

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	calls := []struct {
		name string
		call func() error
	}{
		{"Get", func() error { _, err := r.Get(ctx, key, 0); return err }},
		{"GetTouch", func() error { _, err := r.Get(ctx, key, time.Minute); return err }},
		{"Set", func() error { return r.Set(ctx, key, []byte(secret), time.Minute) }},
		{"SetNX", func() error { _, err := r.SetNX(ctx, key, []byte(secret), time.Minute); return err }},
		{"Take", func() error { _, err := r.Take(ctx, key); return err }},
		{"Delete", func() error { return r.Delete(ctx, key) }},
		{"SetAdd", func() error { return r.SetAdd(ctx, key, time.Minute, secret) }},
		{"SetMembers", func() error { _, err := r.SetMembers(ctx, key); return err }},
		{"SetRemove", func() error { return r.SetRemove(ctx, key, secret) }},
		{"CompareAndDelete", func() error { _, err := r.CompareAndDelete(ctx, key, []byte(secret)); return err }},
		{"CompareAndExpire", func() error {
			_, err := r.CompareAndExpire(ctx, key, []byte(secret), time.Minute)
			return err
		}},
		{"Ping", func() error { return r.Ping(ctx) }},
	}
	// Each command may wait for a dial and a retry, each bounded by timeout.
	const bound = 3 * timeout
	for _, c := range calls {
		start := time.Now()
		err := c.call()
		elapsed := time.Since(start)
		t.Logf("%s while down: %v after %v", c.name, err, elapsed.Round(time.Millisecond))
		switch {
		case err == nil || errors.Is(err, store.ErrNotFound):
			t.Errorf("%s while down = %v; want an error other than store.ErrNotFound", c.name, err)
		case elapsed > bound:
			t.Errorf("%s while down took %v; want at most %v", c.name, elapsed, bound)
		case strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), key):
			t.Errorf("%s error shows the key or value: %v", c.name, err)
		}
	}

	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	// The same store recovers on its own (go-redis redials; after many
	// failed dials it probes once a second).
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := r.Get(ctx, key, 0)
		if err == nil {
			if string(got) != secret {
				t.Fatalf("after restart Get = %q; want the value saved on Stop", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("store did not recover after Start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := r.Set(ctx, key, []byte("after"), time.Minute); err != nil {
		t.Fatalf("Set after recovery: %v", err)
	}
}

func TestOpenRedisSharesClient(t *testing.T) {
	ctx := context.Background()
	opts := store.RedisOptions{Addrs: []string{testRedis.Addr}, Timeout: 1500 * time.Millisecond}
	a, err := store.OpenRedis(opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := store.OpenRedis(opts)
	if err != nil {
		t.Fatal(err)
	}
	if a.Client() != b.Client() {
		t.Fatal("store.OpenRedis with equal options made two clients")
	}

	other, err := store.OpenRedis(store.RedisOptions{Addrs: []string{testRedis.Addr}, Timeout: 1600 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if other.Client() == a.Client() {
		t.Error("store.OpenRedis with different options shared a client")
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}

	client := a.Client()
	for range 2 { // a second Close must not release b's reference
		if err := a.Close(); err != nil {
			t.Fatalf("Close a: %v", err)
		}
	}
	if err := b.Ping(ctx); err != nil {
		t.Fatalf("b.Ping after a.Close: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("Close b: %v", err)
	}
	if err := client.Ping(ctx).Err(); !errors.Is(err, redis.ErrClosed) {
		t.Errorf("client Ping after both Close = %v; want redis.ErrClosed", err)
	}

	c, err := store.OpenRedis(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Ping(ctx); err != nil {
		t.Errorf("Ping on a client reopened after the last Close: %v", err)
	}
}

func TestNewRedisDoesNotOwnClient(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: testRedis.Addr})
	defer c.Close()
	r := store.NewRedis(c)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Errorf("client closed by store.NewRedis store's Close: %v", err)
	}
}

func TestRedisOptionsValidate(t *testing.T) {
	const pw = "s3cret"
	tests := []struct {
		name    string
		opts    store.RedisOptions
		wantErr string // "" for valid
	}{
		{"neither", store.RedisOptions{}, "no url or addresses"},
		{"both", store.RedisOptions{URL: "redis://h:6379", Addrs: []string{"h:6379"}}, "not both"},
		{"url", store.RedisOptions{URL: "redis://localhost:6379/0"}, ""},
		{"url defaults", store.RedisOptions{URL: "redis://localhost"}, ""},
		{"url tls", store.RedisOptions{URL: "rediss://u:" + pw + "@redis.example:6380/2", TLS: true}, ""},
		{"url unix", store.RedisOptions{URL: "unix:///run/redis.sock?db=1"}, ""},
		{"url bad port", store.RedisOptions{URL: "redis://u:" + pw + "@h:port"}, "does not parse"},
		{"url bad escape", store.RedisOptions{URL: "redis://u:" + pw + "%zz@h:6379"}, "does not parse"},
		{"url scheme", store.RedisOptions{URL: "http://h:6379"}, `scheme "http"`},
		{"url no scheme", store.RedisOptions{URL: "h:6379"}, "scheme"},
		{"url bad db", store.RedisOptions{URL: "redis://u:" + pw + "@h:6379/x"}, "invalid database number"},
		{"url bad option", store.RedisOptions{URL: "redis://u:" + pw + "@h:6379?bogus=1"}, "unexpected option"},
		{"url with password", store.RedisOptions{URL: "redis://h:6379", Password: pw}, "in the url"},
		{"url with db", store.RedisOptions{URL: "redis://h:6379", DB: 1}, "in the url"},
		{"url with master", store.RedisOptions{URL: "redis://h:6379", MasterName: "m"}, "sentinel needs addresses"},
		{"url tls without rediss", store.RedisOptions{URL: "redis://h:6379", TLS: true}, "rediss://"},
		{"single", store.RedisOptions{Addrs: []string{"127.0.0.1:6379"}, DB: 3, Password: pw}, ""},
		{"single ipv6", store.RedisOptions{Addrs: []string{"[::1]:6379"}}, ""},
		{"addr no port", store.RedisOptions{Addrs: []string{"localhost"}}, "want host:port"},
		{"addr no host", store.RedisOptions{Addrs: []string{":6379"}}, "want host:port"},
		{"addr port 0", store.RedisOptions{Addrs: []string{"h:0"}}, "port must be"},
		{"addr port name", store.RedisOptions{Addrs: []string{"h:redis"}}, "port must be"},
		{"cluster", store.RedisOptions{Addrs: []string{"a:7000", "b:7001"}, TLS: true}, ""},
		{"cluster db", store.RedisOptions{Addrs: []string{"a:7000", "b:7001"}, DB: 2}, "db must be 0 with a cluster"},
		{"sentinel", store.RedisOptions{Addrs: []string{"a:26379", "b:26379"}, MasterName: "m", DB: 2, SentinelPassword: pw}, ""},
		{"single sentinel", store.RedisOptions{Addrs: []string{"a:26379"}, MasterName: "m"}, ""},
		{"sentinel password alone", store.RedisOptions{Addrs: []string{"a:6379"}, SentinelPassword: pw}, "needs a master name"},
		{"negative db", store.RedisOptions{Addrs: []string{"a:6379"}, DB: -1}, "db must not be negative"},
		{"negative timeout", store.RedisOptions{Addrs: []string{"a:6379"}, Timeout: -time.Second}, "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate = nil, want an error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Validate = %v, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), pw) {
				t.Errorf("Validate shows the password: %v", err)
			}
			if _, oerr := store.OpenRedis(tt.opts); oerr == nil {
				t.Error("store.OpenRedis accepted options Validate refused")
			}
		})
	}
}

func TestRedisClientOptions(t *testing.T) {
	tests := []struct {
		name           string
		opts           store.RedisOptions
		wantCluster    bool
		wantServerName string // "-" for no TLS
		wantTimeout    time.Duration
	}{
		{"single", store.RedisOptions{Addrs: []string{"redis.example:6379"}}, false, "-", store.DefaultRedisTimeout},
		{"single tls", store.RedisOptions{Addrs: []string{"redis.example:6379"}, TLS: true, Timeout: time.Second}, false, "redis.example", time.Second},
		{"url", store.RedisOptions{URL: "redis://redis.example:6379/1?read_timeout=9s"}, false, "-", store.DefaultRedisTimeout},
		{"url tls", store.RedisOptions{URL: "rediss://redis.example:6380"}, false, "redis.example", store.DefaultRedisTimeout},
		{"sentinel tls", store.RedisOptions{Addrs: []string{"a:26379"}, MasterName: "m", TLS: true}, false, "", store.DefaultRedisTimeout},
		{"cluster tls", store.RedisOptions{Addrs: []string{"a:7000", "b:7001"}, TLS: true}, true, "", store.DefaultRedisTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := store.OpenRedis(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			c := s.Client()
			var (
				tlsConfig                  *tls.Config
				retries                    int
				dial, read, write          time.Duration
				cluster, contextTimeoutsOn bool
			)
			switch c := c.(type) {
			case *redis.Client:
				o := c.Options()
				tlsConfig, retries, dial, read, write, contextTimeoutsOn = o.TLSConfig, o.MaxRetries, o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.ContextTimeoutEnabled
			case *redis.ClusterClient:
				o := c.Options()
				cluster = true
				tlsConfig, retries, dial, read, write, contextTimeoutsOn = o.TLSConfig, o.MaxRetries, o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.ContextTimeoutEnabled
			default:
				t.Fatalf("client type %T", c)
			}
			if cluster != tt.wantCluster {
				t.Errorf("cluster = %v, want %v", cluster, tt.wantCluster)
			}
			if retries != 1 {
				t.Errorf("MaxRetries = %d, want 1", retries)
			}
			if !contextTimeoutsOn {
				t.Error("ContextTimeoutEnabled = false")
			}
			for _, d := range []time.Duration{dial, read, write} {
				if d != tt.wantTimeout {
					t.Errorf("timeouts dial/read/write = %v/%v/%v, want %v", dial, read, write, tt.wantTimeout)
					break
				}
			}
			switch {
			case tt.wantServerName == "-":
				if tlsConfig != nil {
					t.Errorf("TLS config set without TLS")
				}
			case tlsConfig == nil:
				t.Errorf("no TLS config")
			default:
				if tlsConfig.ServerName != tt.wantServerName {
					t.Errorf("ServerName = %q, want %q", tlsConfig.ServerName, tt.wantServerName)
				}
				if tlsConfig.MinVersion < tls.VersionTLS12 {
					t.Errorf("MinVersion = %x, want TLS 1.2 or later", tlsConfig.MinVersion)
				}
			}
		})
	}
}

func BenchmarkRedisGet(b *testing.B) {
	r := storetest.OpenRedis(b, testRedis.Addr)
	ctx := context.Background()
	const key = "bench:session:abc"
	if err := r.Set(ctx, key, make([]byte, 256), time.Hour); err != nil {
		b.Fatal(err)
	}
	for _, touch := range []time.Duration{0, time.Hour} {
		b.Run(fmt.Sprintf("touch=%v", touch), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Get(ctx, key, touch); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("touch=%v/parallel", touch), func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := r.Get(ctx, key, touch); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// A subscription is live only once Redis confirmed it (so every message
// published after that is heard), goes not live when the connection
// breaks, and live again when go-redis has re-established it.
func TestRedisSubscribeLive(t *testing.T) {
	srv := redistest.StartRedisT(t)
	r, err := store.OpenRedis(store.RedisOptions{Addrs: []string{srv.Addr}, Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var mu sync.Mutex
	var states []bool
	got := make(chan string, 10)
	stop := r.Subscribe("chan", func(m string) { got <- m }, func(live bool) {
		mu.Lock()
		states = append(states, live)
		mu.Unlock()
	})
	defer stop()
	lastState := func() (bool, int) {
		mu.Lock()
		defer mu.Unlock()
		if len(states) == 0 {
			return false, 0
		}
		return states[len(states)-1], len(states)
	}
	testsupport.WaitFor(t, 5*time.Second, "the subscription to be confirmed", func() bool { live, _ := lastState(); return live })
	// Live means subscribed: the very next message is heard.
	if err := r.Publish(context.Background(), "chan", "m1"); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if m != "m1" {
			t.Fatalf("got %q", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a message published once live was not heard")
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	testsupport.WaitFor(t, 5*time.Second, "the subscription to go not live when Redis is down", func() bool { live, _ := lastState(); return !live })
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	testsupport.WaitFor(t, 10*time.Second, "the subscription to be live again", func() bool { live, _ := lastState(); return live })
}

// Concurrent Gets are sent in batches; each caller still gets its own
// key's value (or ErrNotFound), and a touch slides its own key's expiry.
func TestRedisConcurrentGets(t *testing.T) {
	s := storetest.OpenRedis(t, testRedis.Addr)
	ctx := context.Background()
	prefix := fmt.Sprintf("batch#%d:", prefixSeq.Add(1))
	const n = 300
	for i := range n {
		if i%3 == 0 {
			continue // missing
		}
		if err := s.Set(ctx, fmt.Sprint(prefix, i), []byte(fmt.Sprint("value-", i)), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 3*n) // room for every read of every round: no send blocks
	for round := range 3 {
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				touch := time.Duration(0)
				if round == 1 {
					touch = time.Hour
				}
				got, err := s.Get(ctx, fmt.Sprint(prefix, i), touch)
				switch {
				case i%3 == 0 && !errors.Is(err, store.ErrNotFound):
					errs <- fmt.Errorf("key %d: %q, %v; want ErrNotFound", i, got, err)
				case i%3 != 0 && (err != nil || string(got) != fmt.Sprint("value-", i)):
					errs <- fmt.Errorf("key %d: %q, %v", i, got, err)
				}
			}()
		}
		wg.Wait()
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	rc := redis.NewClient(&redis.Options{Addr: testRedis.Addr})
	defer rc.Close()
	if ttl := rc.TTL(ctx, prefix+"1").Val(); ttl < 59*time.Minute {
		t.Fatalf("the touch did not slide the key's expiry: %v", ttl)
	}
}

// panicOnce makes the first command panic, as a faulty hook might.
type panicOnce struct{ done atomic.Bool }

func (h *panicOnce) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *panicOnce) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if h.done.CompareAndSwap(false, true) {
			panic("hook")
		}
		return next(ctx, cmd)
	}
}
func (h *panicOnce) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// A read whose batch panics gets an error, and the reads after it are not
// left waiting for a batch that never comes.
func TestRedisReadPanicLeavesNoOneWaiting(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: testRedis.Addr})
	defer c.Close()
	c.AddHook(&panicOnce{})
	s := store.NewRedis(c)
	ctx := context.Background()
	if _, err := s.Get(ctx, "panic:k", 0); err == nil || !strings.Contains(err.Error(), "panic") {
		t.Fatalf("the read whose batch panicked: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := s.Get(ctx, "panic:k", 0); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the next read: %v, want ErrNotFound", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the next read hangs after a batch panicked")
	}
}

// batchCounter counts the commands and pipelines a client sends.
type batchCounter struct{ n atomic.Int64 }

func (h *batchCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *batchCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.n.Add(1); return next(ctx, cmd) }
}
func (h *batchCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.n.Add(1); return next(ctx, cmds) }
}

// When Redis does not answer (a connection that takes requests and never
// replies), the reads queued behind a failing batch fail with it at once
// rather than each waiting its turn for a batch that fails the same way.
func TestRedisReadsFailTogetherWhenRedisDoesNotAnswer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // never read, never answered
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	}()
	c := redis.NewClient(&redis.Options{Addr: ln.Addr().String(), Protocol: 2, DisableIdentity: true, MaxRetries: -1,
		DialTimeout: time.Second, ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond, PoolSize: 4})
	defer c.Close()
	count := &batchCounter{}
	c.AddHook(count)
	s := store.NewRedis(c)
	const n = 300
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Get(context.Background(), fmt.Sprint("k", i), 0); err != nil && !errors.Is(err, store.ErrNotFound) {
				failed.Add(1)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("reads against a Redis that does not answer did not return within 30 s")
	}
	if failed.Load() != n {
		t.Fatalf("%d of %d reads failed", failed.Load(), n)
	}
	// The first read goes alone; the others, queued meanwhile, fail with
	// it (a few late arrivals may make one more batch).
	if b := count.n.Load(); b > 3 {
		t.Fatalf("%d batches sent for %d reads while Redis did not answer; the queued reads waited their turn", b, n)
	}
}
