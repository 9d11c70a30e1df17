package forward_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/store/storetest"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/redistest"
	"github.com/gatehouse-auth/gatehouse/internal/webhook/forward"
)

func TestMain(m *testing.M) { redistest.Main(m) }

const (
	// bound is how long a test waits for something that should happen
	// soon.
	bound = 5 * time.Second
	// secretBody and secretHeader must never show in logs.
	secretBody   = `{"type":"sync","secret":"body-secret-4711"}`
	secretHeader = "hmac-secret-0815"
)

// backend makes the queue a test runs on.
type backend struct {
	name     string
	newQueue func(t *testing.T) store.Queue
}

var backends = []backend{
	{"memory", func(t *testing.T) store.Queue { return storetest.NewMemory(t) }},
	{"redis", func(t *testing.T) store.Queue { return storetest.OpenRedis(t, redistest.Shared.Addr) }},
}

// forEachBackend runs fn as a parallel subtest per backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, q store.Queue)) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, b.newQueue(t))
		})
	}
}

var streamSeq atomic.Int64

// streamName returns a queue name unique to this test.
func streamName(t *testing.T) string {
	return fmt.Sprintf("test:%s#%d:forward:nango", t.Name(), streamSeq.Add(1))
}

// received is one request the upstream got.
type received struct {
	id      string
	attempt int
	body    string
	header  http.Header
	at      time.Time
}

// upstream records deliveries and answers them with respond (200 when
// nil); n counts the requests before this one.
type upstream struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []received
	respond func(w http.ResponseWriter, r *http.Request, n int)
}

func newUpstream(t *testing.T, respond func(w http.ResponseWriter, r *http.Request, n int)) *upstream {
	u := &upstream{respond: respond}
	u.Server = httptest.NewServer(u)
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	attempt, _ := strconv.Atoi(r.Header.Get(forward.HeaderAttempt))
	u.mu.Lock()
	n := len(u.reqs)
	u.reqs = append(u.reqs, received{
		id: r.Header.Get(forward.HeaderDelivery), attempt: attempt, body: string(body), header: r.Header.Clone(), at: time.Now(),
	})
	respond := u.respond
	u.mu.Unlock()
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	if respond != nil {
		respond(w, r, n)
	}
}

func (u *upstream) received() []received {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.reqs)
}

// count returns how many requests the upstream got.
func (u *upstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.reqs)
}

// newForwarder makes a forwarder with small backoffs and an observed
// logger, stopped when the test ends.
func newForwarder(t *testing.T, opts forward.Options) (*forward.Forwarder, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	if opts.Logger == nil {
		opts.Logger = zap.New(core)
	}
	if opts.MinBackoff == 0 {
		opts.MinBackoff = 5 * time.Millisecond
	}
	if opts.MaxBackoff == 0 {
		opts.MaxBackoff = 50 * time.Millisecond
	}
	if opts.Consumer == "" {
		opts.Consumer = "c-" + strconv.FormatInt(streamSeq.Add(1), 10)
	}
	f, err := forward.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		f.Stop()
		checkLogs(t, logs)
	})
	return f, logs
}

// checkLogs fails t if a log entry shows a body or a header value.
func checkLogs(t *testing.T, logs *observer.ObservedLogs) {
	t.Helper()
	for _, e := range logs.All() {
		s := fmt.Sprint(e.Message, e.ContextMap())
		if strings.Contains(s, "body-secret") || strings.Contains(s, secretHeader) {
			t.Errorf("log entry shows a secret: %s", s)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", bound, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitDepth(t *testing.T, f *forward.Forwarder, want int64) {
	t.Helper()
	var (
		n   int64
		err error
	)
	waitFor(t, fmt.Sprintf("depth %d", want), func() bool {
		n, err = f.Depth(context.Background())
		return err == nil && n == want
	})
}

func enqueue(t *testing.T, f *forward.Forwarder, id, body string) {
	t.Helper()
	d := forward.Delivery{ID: id, Body: []byte(body), Header: http.Header{"X-Nango-Hmac-Sha256": {secretHeader}}}
	if err := f.Enqueue(t.Context(), d); err != nil {
		t.Fatalf("Enqueue(%s): %v", id, err)
	}
}

func TestNewValidates(t *testing.T) {
	q := storetest.NewMemory(t)
	good := forward.Options{Queue: q, Stream: "s", URL: "https://hooks.example/nango"}
	if _, err := forward.New(good); err != nil {
		t.Fatalf("New(valid) = %v", err)
	}
	tests := []struct {
		name string
		edit func(o *forward.Options)
	}{
		{"no queue", func(o *forward.Options) { o.Queue = nil }},
		{"no stream", func(o *forward.Options) { o.Stream = "" }},
		{"no url", func(o *forward.Options) { o.URL = "" }},
		{"relative url", func(o *forward.Options) { o.URL = "/hooks" }},
		{"no host", func(o *forward.Options) { o.URL = "https:///hooks" }},
		{"port only", func(o *forward.Options) { o.URL = "http://:8080/hooks" }},
		{"other scheme", func(o *forward.Options) { o.URL = "ftp://hooks.example/" }},
		{"no scheme", func(o *forward.Options) { o.URL = "hooks.example:443/x" }},
		{"bad escape", func(o *forward.Options) { o.URL = "https://u:s3cret%zz@hooks.example/" }},
		{"negative stale", func(o *forward.Options) { o.Stale = -time.Second }},
		{"min above max", func(o *forward.Options) { o.MinBackoff, o.MaxBackoff = time.Minute, time.Second }},
	}
	for _, tt := range tests {
		o := good
		tt.edit(&o)
		_, err := forward.New(o)
		if err == nil {
			t.Errorf("%s: New succeeded", tt.name)
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: error shows the url's password: %v", tt.name, err)
		}
	}
}

func TestDelivered(t *testing.T) {
	forEachBackend(t, func(t *testing.T, q store.Queue) {
		up := newUpstream(t, nil)
		f, logs := newForwarder(t, forward.Options{Queue: q, Stream: streamName(t), URL: up.URL + "/hooks/nango"})
		d := forward.Delivery{
			ID: "delivery-1",
			Header: http.Header{
				"X-Nango-Hmac-Sha256": {secretHeader},
				"X-Multi":             {"a", "b"},
				"Content-Type":        {"text/plain"}, // Gatehouse's own wins
			},
			Body: []byte(secretBody),
		}
		if err := f.Enqueue(t.Context(), d); err != nil {
			t.Fatal(err)
		}
		waitDepth(t, f, 1)
		f.Start()
		waitDepth(t, f, 0)
		time.Sleep(50 * time.Millisecond) // time for a wrong second delivery
		got := up.received()
		if len(got) != 1 {
			t.Fatalf("upstream got %d requests; want 1", len(got))
		}
		r := got[0]
		want := map[string]string{
			"Content-Type":         "application/json",
			"User-Agent":           "gatehouse",
			"X-Gatehouse-Delivery": "delivery-1",
			"X-Gatehouse-Attempt":  "1",
			"X-Nango-Hmac-Sha256":  secretHeader,
		}
		for k, v := range want {
			if g := r.header.Values(k); len(g) != 1 || g[0] != v {
				t.Errorf("header %s = %q; want [%q]", k, g, v)
			}
		}
		if g := r.header.Values("X-Multi"); !slices.Equal(g, []string{"a", "b"}) {
			t.Errorf("header X-Multi = %q; want [a b]", g)
		}
		if r.body != secretBody {
			t.Errorf("body = %q; want %q", r.body, secretBody)
		}
		if n := logs.FilterLevelExact(zapcore.WarnLevel).Len() + logs.FilterLevelExact(zapcore.ErrorLevel).Len(); n != 0 {
			t.Errorf("%d warnings or errors logged: %v", n, logs.All())
		}
	})
}

func TestRetriesUntilAccepted(t *testing.T) {
	forEachBackend(t, func(t *testing.T, q store.Queue) {
		const failures = 4
		up := newUpstream(t, func(w http.ResponseWriter, _ *http.Request, n int) {
			if n < failures {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
		})
		stream := streamName(t)
		// Backoffs of 20, 40, 80, 80 ms: the retries last longer than
		// Stale, so the claim must be renewed for the other forwarder
		// not to take the delivery over.
		const stale = 100 * time.Millisecond
		opts := forward.Options{Queue: q, Stream: stream, URL: up.URL, Stale: stale,
			MinBackoff: 20 * time.Millisecond, MaxBackoff: 80 * time.Millisecond}
		f, logs := newForwarder(t, opts)
		other, _ := newForwarder(t, opts)
		enqueue(t, f, "retried", secretBody)
		f.Start()
		waitFor(t, "the first attempt", func() bool { return up.count() > 0 })
		other.Start()
		waitDepth(t, f, 0)
		time.Sleep(2 * stale)
		got := up.received()
		var attempts []int
		for _, r := range got {
			if r.id != "retried" {
				t.Errorf("delivery id %q; want retried", r.id)
			}
			attempts = append(attempts, r.attempt)
		}
		if want := []int{1, 2, 3, 4, 5}; !slices.Equal(attempts, want) {
			t.Fatalf("attempts %v; want %v (from one forwarder)", attempts, want)
		}
		if got[len(got)-1].at.Sub(got[0].at) < stale {
			t.Errorf("retries took %v; the test wants longer than stale", got[len(got)-1].at.Sub(got[0].at))
		}
		warns := logs.FilterMessageSnippet("delivery failed").FilterField(zap.Int("status", 503))
		if warns.Len() != failures {
			t.Errorf("%d retry warnings with status 503; want %d", warns.Len(), failures)
		}
		for _, e := range warns.All() {
			if e.ContextMap()["delivery"] != "retried" {
				t.Errorf("retry warning without the delivery id: %v", e.ContextMap())
			}
		}
	})
}

// freeAddr returns a 127.0.0.1 address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestUpstreamDownThenBack(t *testing.T) {
	forEachBackend(t, func(t *testing.T, q store.Queue) {
		addr := freeAddr(t)
		f, logs := newForwarder(t, forward.Options{Queue: q, Stream: streamName(t), URL: "http://" + addr + "/hooks"})
		const n = 20
		var want []string
		bodies := map[string]string{}
		for i := range n {
			id := fmt.Sprintf("d%02d", i)
			want = append(want, id)
			bodies[id] = fmt.Sprintf(`{"n":%d}`, i)
			enqueue(t, f, id, bodies[id])
		}
		f.Start()
		waitFor(t, "failed attempts", func() bool {
			return logs.FilterMessageSnippet("delivery failed").Len() >= 3
		})
		for _, e := range logs.FilterMessageSnippet("delivery failed").All() {
			if _, ok := e.ContextMap()["error"]; !ok {
				t.Errorf("retry warning without the error: %v", e.ContextMap())
			}
		}

		// The upstream comes back on the same address.
		var l net.Listener
		waitFor(t, "listening again on "+addr, func() bool {
			var err error
			l, err = net.Listen("tcp", addr)
			return err == nil
		})
		up := &upstream{}
		up.Server = httptest.NewUnstartedServer(up)
		up.Listener.Close()
		up.Listener = l
		up.Start()
		t.Cleanup(up.Close)

		waitDepth(t, f, 0)
		got := up.received()
		var ids []string
		for _, r := range got {
			ids = append(ids, r.id)
			if r.body != bodies[r.id] {
				t.Errorf("delivery %s has body %q; want %q", r.id, r.body, bodies[r.id])
			}
		}
		if !slices.Equal(ids, want) {
			t.Fatalf("delivered %q; want each once, in order: %q", ids, want)
		}
		if got[0].attempt < 2 {
			t.Errorf("first delivery made on attempt %d; want a retry", got[0].attempt)
		}
	})
}

func TestRefusedIsDropped(t *testing.T) {
	forEachBackend(t, func(t *testing.T, q store.Queue) {
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			if r.Header.Get(forward.HeaderDelivery) == "bad" {
				w.WriteHeader(http.StatusBadRequest)
			}
		})
		f, logs := newForwarder(t, forward.Options{Queue: q, Stream: streamName(t), URL: up.URL})
		enqueue(t, f, "bad", secretBody)
		enqueue(t, f, "good", secretBody)
		f.Start()
		waitDepth(t, f, 0)
		var ids []string
		for _, r := range up.received() {
			ids = append(ids, r.id)
		}
		if !slices.Equal(ids, []string{"bad", "good"}) {
			t.Fatalf("upstream got %q; want [bad good]", ids)
		}
		errs := logs.FilterLevelExact(zapcore.ErrorLevel).All()
		if len(errs) != 1 {
			t.Fatalf("%d errors logged; want 1: %v", len(errs), errs)
		}
		m := errs[0].ContextMap()
		if m["delivery"] != "bad" || m["status"] != int64(400) {
			t.Errorf("error logged with %v; want delivery bad, status 400", m)
		}
	})
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		switch n {
		case 0:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		case 1:
			w.Header().Set("Retry-After", "3600") // above MaxBackoff
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	q := storetest.NewMemory(t)
	const maxBackoff = 1200 * time.Millisecond
	f, _ := newForwarder(t, forward.Options{Queue: q, Stream: "s", URL: up.URL,
		MinBackoff: time.Millisecond, MaxBackoff: maxBackoff})
	enqueue(t, f, "slow", secretBody)
	f.Start()
	waitDepth(t, f, 0)
	got := up.received()
	if len(got) != 3 {
		t.Fatalf("upstream got %d requests; want 3", len(got))
	}
	if gap := got[1].at.Sub(got[0].at); gap < 950*time.Millisecond || gap > maxBackoff {
		t.Errorf("retry %v after a 429 with Retry-After: 1; want about 1s", gap)
	}
	if gap := got[2].at.Sub(got[1].at); gap < maxBackoff-50*time.Millisecond || gap > maxBackoff+time.Second {
		t.Errorf("retry %v after a 503 with Retry-After: 3600; want MaxBackoff %v", gap, maxBackoff)
	}
}

func TestStopThenRestart(t *testing.T) {
	forEachBackend(t, func(t *testing.T, q store.Queue) {
		var accept atomic.Bool
		inFlight := make(chan struct{}, 1)
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, n int) {
			switch {
			case accept.Load():
			case n == 0:
				w.WriteHeader(http.StatusBadGateway)
			default: // hang until the forwarder gives up
				inFlight <- struct{}{}
				<-r.Context().Done()
			}
		})
		stream := streamName(t)
		opts := forward.Options{Queue: q, Stream: stream, URL: up.URL, Consumer: "instance-1", Stale: time.Minute}
		f, _ := newForwarder(t, opts)
		enqueue(t, f, "pending", secretBody)
		f.Start()
		select {
		case <-inFlight:
		case <-time.After(bound):
			t.Fatal("no second attempt")
		}
		start := time.Now()
		f.Stop()
		if elapsed := time.Since(start); elapsed > time.Second {
			t.Errorf("Stop with a delivery in flight took %v", elapsed)
		}
		waitDepth(t, f, 1)

		// The same instance, restarted, sends it again at once (Stale is a
		// minute: it is its own claim, not a takeover).
		accept.Store(true)
		restarted, _ := newForwarder(t, opts)
		restarted.Start()
		waitDepth(t, restarted, 0)
		got := up.received()
		if len(got) != 3 {
			t.Fatalf("upstream got %d requests; want 3", len(got))
		}
		last := got[2]
		if last.id != "pending" || last.attempt != 1 || last.body != secretBody {
			t.Errorf("after restart: delivery %q attempt %d body %q; want pending, 1, the body", last.id, last.attempt, last.body)
		}
	})
}

func TestTakeoverFromDeadConsumer(t *testing.T) {
	forEachBackend(t, func(t *testing.T, q store.Queue) {
		up := newUpstream(t, nil)
		stream := streamName(t)
		const stale = 150 * time.Millisecond
		f, _ := newForwarder(t, forward.Options{Queue: q, Stream: stream, URL: up.URL, Consumer: "alive", Stale: stale})
		enqueue(t, f, "orphan", secretBody)
		// An instance claims it and dies.
		claimed := time.Now()
		msgs, err := q.Claim(t.Context(), stream, forward.DefaultGroup, "dead", 16, stale, 0)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("Claim by the dying instance = %d messages, %v; want 1", len(msgs), err)
		}
		f.Start()
		waitDepth(t, f, 0)
		got := up.received()
		if len(got) != 1 || got[0].id != "orphan" {
			t.Fatalf("upstream got %v; want orphan once", got)
		}
		if elapsed := got[0].at.Sub(claimed); elapsed < stale-5*time.Millisecond {
			t.Errorf("taken over %v after the claim; want at least Stale %v", elapsed, stale)
		}
	})
}

func TestTwoForwardersShareRedis(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, nil)
	stream := streamName(t)
	var fs []*forward.Forwarder
	for range 2 {
		f, _ := newForwarder(t, forward.Options{Queue: backends[1].newQueue(t), Stream: stream, URL: up.URL})
		fs = append(fs, f)
	}
	const n = 100
	fs[0].Start()
	fs[1].Start()
	for i := range n {
		enqueue(t, fs[i%2], fmt.Sprintf("m%03d", i), secretBody)
	}
	waitDepth(t, fs[0], 0)
	counts := map[string]int{}
	for _, r := range up.received() {
		counts[r.id]++
	}
	for i := range n {
		id := fmt.Sprintf("m%03d", i)
		if counts[id] != 1 {
			t.Errorf("%s delivered %d times; want 1", id, counts[id])
		}
	}
	if len(counts) != n {
		t.Errorf("%d distinct deliveries; want %d", len(counts), n)
	}
}

func TestRedisOutage(t *testing.T) {
	t.Parallel()
	srv := redistest.StartRedisT(t)
	r, err := store.OpenRedis(store.RedisOptions{Addrs: []string{srv.Addr}, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	up := newUpstream(t, nil)
	f, logs := newForwarder(t, forward.Options{Queue: r, Stream: "forward:nango", URL: up.URL,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	enqueue(t, f, "saved", secretBody)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}

	// Enqueue fails cleanly, soon.
	ctx, cancel := context.WithTimeout(t.Context(), bound)
	defer cancel()
	start := time.Now()
	err = f.Enqueue(ctx, forward.Delivery{ID: "lost", Body: []byte(secretBody)})
	if err == nil {
		t.Fatal("Enqueue with Redis stopped succeeded")
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Enqueue with Redis stopped took %v", elapsed)
	}
	if strings.Contains(err.Error(), "body-secret") {
		t.Errorf("Enqueue error shows the body: %v", err)
	}
	t.Logf("Enqueue with Redis stopped: %v", err)

	// The loop backs off instead of spinning while the store is down.
	f.Start()
	time.Sleep(400 * time.Millisecond)
	fails := logs.FilterMessageSnippet("cannot claim").Len()
	if fails == 0 || fails > 25 {
		t.Errorf("%d failed claims logged in 400ms; want a few, with backoff", fails)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	waitDepth(t, f, 0)
	var ids []string
	for _, r := range up.received() {
		ids = append(ids, r.id)
	}
	if !slices.Equal(ids, []string{"saved"}) {
		t.Errorf("delivered %q after the outage; want [saved]", ids)
	}
}

func TestEnqueueGeneratesID(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, nil)
	f, _ := newForwarder(t, forward.Options{Queue: storetest.NewMemory(t), Stream: "s", URL: up.URL})
	for range 2 {
		if err := f.Enqueue(t.Context(), forward.Delivery{Body: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	f.Start()
	waitDepth(t, f, 0)
	got := up.received()
	if len(got) != 2 || got[0].id == "" || got[0].id == got[1].id {
		t.Fatalf("deliveries %v; want two with distinct generated ids", got)
	}
}

func TestUndecodableIsDropped(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, nil)
	q := storetest.NewMemory(t)
	f, logs := newForwarder(t, forward.Options{Queue: q, Stream: "s", URL: up.URL})
	if _, err := q.Enqueue(t.Context(), "s", []byte("not json")); err != nil {
		t.Fatal(err)
	}
	enqueue(t, f, "fine", "{}")
	f.Start()
	waitDepth(t, f, 0)
	if got := up.received(); len(got) != 1 || got[0].id != "fine" {
		t.Fatalf("upstream got %v; want only fine", got)
	}
	if n := logs.FilterLevelExact(zapcore.ErrorLevel).FilterMessageSnippet("decode").Len(); n != 1 {
		t.Errorf("%d decode errors logged; want 1", n)
	}
}
