package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The loadgen mode is a constant-rate (open-loop) HTTP/1.1 load generator.
// Requests are scheduled at exact intervals from the start; each one is
// written on an idle keep-alive connection (a new one is dialled when none
// is idle, so a slow answer never delays the next send), and its latency is
// measured from its intended send time, so a stall in the server shows up
// in the latency of every request it held back (correcting coordinated
// omission). It runs as a child process of the benchmark so it shares no
// Go runtime with anything it measures, and it prints one JSON object
// (loadResult) on stdout.

// loadResult is the loadgen's report. Latencies are in microseconds.
type loadResult struct {
	Rate       float64        `json:"rate"`
	Duration   float64        `json:"duration_s"`
	Scheduled  int            `json:"scheduled"`
	Completed  int            `json:"completed"`
	OK         int            `json:"ok"`
	Non200     int            `json:"non_200"`
	Errors     int            `json:"errors"`
	Unfinished int            `json:"unfinished"`
	P50        float64        `json:"p50_us"`
	P90        float64        `json:"p90_us"`
	P99        float64        `json:"p99_us"`
	P999       float64        `json:"p999_us"`
	Max        float64        `json:"max_us"`
	LagP99     float64        `json:"send_lag_p99_us"` // from the intended send time to the write
	Conns      int            `json:"connections"`
	Capped     int            `json:"capped"` // sends that found no idle connection at -max-conns
	Niced      bool           `json:"niced"`  // the generator ran at -nice
	Statuses   map[string]int `json:"statuses,omitempty"`
	FirstError string         `json:"first_error,omitempty"`

	cpu time.Duration // the loadgen's own CPU time
}

type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

func loadgenMain(args []string) int {
	fs := flag.NewFlagSet("gatehouse-bench loadgen", flag.ContinueOnError)
	target := fs.String("url", "", "URL to GET (host localhost or 127.0.0.1; localhost is dialled on 127.0.0.1)")
	rate := fs.Float64("rate", 0, "requests per second")
	dur := fs.Duration("duration", 5*time.Second, "how long to send")
	timeout := fs.Duration("timeout", 5*time.Second, "per-request timeout")
	conns := fs.Int("conns", 16, "connections to open before the start")
	maxConns := fs.Int("max-conns", 1000, "most connections; beyond, requests queue for the next free one (their wait counts)")
	nice := fs.Int("nice", -10, "nice value for the generator's threads when allowed (root), so its timestamps wait less for a CPU; 0 to leave it")
	var headers headerFlags
	fs.Var(&headers, "header", "request header \"Name: value\" (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	niced := *nice != 0 && raisePriority(*nice)
	if *rate <= 0 || *dur <= 0 || *conns < 1 || *maxConns < *conns {
		fmt.Fprintln(os.Stderr, "loadgen: -rate and -duration must be positive, 1 <= -conns <= -max-conns")
		return 2
	}
	g, err := newGen(*target, headers, *rate, *dur, *timeout, *conns, *maxConns)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		return 2
	}
	res := g.run()
	res.Niced = niced
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		return 1
	}
	return 0
}

// gen is one constant-rate run. A dispatcher goroutine, on an OS thread of
// its own, sleeps until each request's intended send time and writes the
// request on an idle connection (dialling a new one when none is idle), so
// a send waits for nothing but the clock; every connection has a reader
// goroutine that reads the answer, records the latency from the intended
// send time and puts the connection back among the idle ones. At
// -max-conns connections, requests that find none idle queue up and are
// sent by the next connection to come free (their wait still counts).
type gen struct {
	dial    string
	req     []byte
	rate    float64
	dur     time.Duration
	timeout time.Duration
	max     int
	start   time.Time

	mu      sync.Mutex
	idle    []*genConn      // LIFO
	pending []time.Duration // intended offsets waiting for a connection
	conns   []*genConn      // every connection dialled
	capped  int
	dialErr errCount

	live     atomic.Int64 // open connections
	finished atomic.Int64 // requests answered or failed
	wg       sync.WaitGroup
}

// genConn is one connection and the record of the requests it carried.
type genConn struct {
	g        *gen
	c        net.Conn
	br       *bufio.Reader
	intended atomic.Int64 // offset of the request in flight
	inflight atomic.Bool

	mu       sync.Mutex // uncontended but for the final report
	lat, lag []int64    // ns
	ok       int
	non200   map[int]int
	errs     errCount
}

// errCount counts errors and keeps the first one's text.
type errCount struct {
	n     int
	first string
}

// add counts err.
func (e *errCount) add(err error) {
	e.n++
	if e.first == "" {
		e.first = err.Error()
	}
}

func newGen(rawURL string, headers []string, rate float64, dur, timeout time.Duration, conns, max int) (*gen, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("-url must be an http URL, got %q", rawURL)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "80"
	}
	if host != "localhost" && host != "127.0.0.1" {
		return nil, fmt.Errorf("refusing to load %s: only localhost and 127.0.0.1", host)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: gatehouse-bench\r\n", u.RequestURI(), u.Host)
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" || strings.ContainsAny(h, "\r\n") {
			return nil, fmt.Errorf("bad -header %q", h)
		}
		fmt.Fprintf(&b, "%s: %s\r\n", strings.TrimSpace(name), strings.TrimSpace(value))
	}
	b.WriteString("\r\n")
	g := &gen{
		dial: net.JoinHostPort("127.0.0.1", port), req: []byte(b.String()),
		rate: rate, dur: dur, timeout: timeout, max: max,
	}
	for range conns {
		c, err := g.open()
		if err != nil {
			g.closeAll()
			return nil, err
		}
		g.idle = append(g.idle, c)
	}
	return g, nil
}

// open dials a connection and starts its reader.
func (g *gen) open() (*genConn, error) {
	nc, err := net.DialTimeout("tcp4", g.dial, g.timeout)
	if err != nil {
		return nil, err
	}
	c := &genConn{g: g, c: nc, br: bufio.NewReaderSize(nc, 8192), non200: map[int]int{}}
	g.live.Add(1)
	g.mu.Lock()
	g.conns = append(g.conns, c)
	g.mu.Unlock()
	g.wg.Add(1)
	go c.readLoop()
	return c, nil
}

func (g *gen) closeAll() {
	g.mu.Lock()
	conns := g.conns
	g.mu.Unlock()
	for _, c := range conns {
		_ = c.c.Close()
	}
}

// dispatch sends the request intended at off.
func (g *gen) dispatch(off time.Duration) {
	g.mu.Lock()
	var c *genConn
	if n := len(g.idle); n > 0 {
		c = g.idle[n-1]
		g.idle = g.idle[:n-1]
	} else if int(g.live.Load()) >= g.max {
		g.pending = append(g.pending, off)
		g.capped++
		g.mu.Unlock()
		return
	}
	g.mu.Unlock()
	if c == nil {
		var err error
		if c, err = g.open(); err != nil {
			g.mu.Lock()
			g.dialErr.add(err)
			g.mu.Unlock()
			g.finished.Add(1)
			return
		}
	}
	c.send(off)
}

// send writes the request intended at off on c, which is idle. A failed
// write closes c; its reader then counts the error.
func (c *genConn) send(off time.Duration) {
	c.intended.Store(int64(off))
	c.inflight.Store(true)
	lag := time.Since(c.g.start.Add(off))
	c.mu.Lock()
	c.lag = append(c.lag, int64(lag))
	c.mu.Unlock()
	if _, err := c.c.Write(c.g.req); err != nil {
		_ = c.c.Close()
	}
}

func (c *genConn) readLoop() {
	g := c.g
	defer g.wg.Done()
	defer g.live.Add(-1)
	defer c.c.Close()
	for {
		status, keep, err := readResponse(c.br)
		now := time.Now()
		if err != nil {
			if c.inflight.Load() {
				c.mu.Lock()
				c.errs.add(err)
				c.mu.Unlock()
				g.finished.Add(1)
			}
			return
		}
		if !c.inflight.Load() {
			return // an answer nobody asked for
		}
		off := time.Duration(c.intended.Load()) // the atomic load orders the read of g.start after its write
		lat := now.Sub(g.start.Add(off))
		c.inflight.Store(false)
		c.mu.Lock()
		c.lat = append(c.lat, int64(lat))
		if status == http.StatusOK {
			c.ok++
		} else {
			c.non200[status]++
		}
		c.mu.Unlock()
		g.finished.Add(1)
		if !keep {
			return
		}
		g.mu.Lock()
		if len(g.pending) > 0 {
			off := g.pending[0]
			g.pending = g.pending[1:]
			g.mu.Unlock()
			c.send(off)
			continue
		}
		g.idle = append(g.idle, c)
		g.mu.Unlock()
	}
}

func (g *gen) run() *loadResult {
	// One spare P, so the dispatcher coming back from nanosleep finds one
	// free even when the others are busy with readers.
	runtime.GOMAXPROCS(runtime.NumCPU() + 1)
	n := int(g.rate * g.dur.Seconds())
	interval := float64(time.Second) / g.rate
	done := make(chan struct{})
	go func() {
		// The dispatcher sleeps with nanosleep on a thread of its own.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		preciseTimers()
		g.start = time.Now().Add(20 * time.Millisecond)
		for i := range n {
			off := time.Duration(float64(i) * interval)
			if d := time.Until(g.start.Add(off)); d > 0 {
				preciseSleep(d)
			}
			g.dispatch(off)
		}
		close(done)
	}()
	<-done
	deadline := time.Now().Add(g.timeout)
	for g.finished.Load() < int64(n) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	g.closeAll()
	waited := make(chan struct{})
	go func() { g.wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(2 * time.Second):
	}
	return g.report(n)
}

func (g *gen) report(scheduled int) *loadResult {
	g.mu.Lock()
	res := &loadResult{Rate: g.rate, Duration: g.dur.Seconds(), Scheduled: scheduled, Conns: len(g.conns), Capped: g.capped,
		Errors: g.dialErr.n, FirstError: g.dialErr.first}
	conns := g.conns
	g.mu.Unlock()
	var lat, lag []int64
	statuses := map[string]int{}
	for _, c := range conns {
		c.mu.Lock()
		lat = append(lat, c.lat...)
		lag = append(lag, c.lag...)
		res.OK += c.ok
		res.Errors += c.errs.n
		for s, n := range c.non200 {
			res.Non200 += n
			statuses[strconv.Itoa(s)] += n
		}
		if res.FirstError == "" {
			res.FirstError = c.errs.first
		}
		c.mu.Unlock()
	}
	res.Completed = res.OK + res.Non200
	res.Unfinished = scheduled - res.Completed - res.Errors
	if len(statuses) > 0 {
		res.Statuses = statuses
	}
	sortInts(lat)
	sortInts(lag)
	us := func(ns int64) float64 { return float64(ns) / 1e3 }
	res.P50, res.P90 = us(percentile(lat, 0.50)), us(percentile(lat, 0.90))
	res.P99, res.P999 = us(percentile(lat, 0.99)), us(percentile(lat, 0.999))
	if len(lat) > 0 {
		res.Max = us(lat[len(lat)-1])
	}
	res.LagP99 = us(percentile(lag, 0.99))
	return res
}

// readResponse reads one HTTP/1.x response from br and discards its body.
// It allocates nothing for the usual response with a Content-Length.
func readResponse(br *bufio.Reader) (status int, keep bool, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, false, fmt.Errorf("bad status line %q", line)
	}
	for _, d := range line[9:12] {
		if d < '0' || d > '9' {
			return 0, false, fmt.Errorf("bad status line %q", line)
		}
		status = status*10 + int(d-'0')
	}
	keep = line[7] == '1'
	length, chunked := int64(-1), false
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, false, fmt.Errorf("bad header line %q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 {
				return 0, false, fmt.Errorf("bad Content-Length %q", value)
			}
			length = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.Contains(bytes.ToLower(value), []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(value, []byte("close")) {
				keep = false
			}
		}
	}
	switch {
	case status < 200 || status == http.StatusNoContent || status == http.StatusNotModified:
	case chunked:
		if _, err := io.Copy(io.Discard, httputil.NewChunkedReader(br)); err != nil {
			return 0, false, err
		}
		for { // trailer
			line, err := br.ReadSlice('\n')
			if err != nil {
				return 0, false, err
			}
			if len(bytes.TrimRight(line, "\r\n")) == 0 {
				break
			}
		}
	case length >= 0:
		if _, err := br.Discard(int(length)); err != nil {
			return 0, false, err
		}
	default: // body until the server closes
		if _, err := io.Copy(io.Discard, br); err != nil {
			return 0, false, err
		}
		keep = false
	}
	return status, keep, nil
}

func sortInts(s []int64) { sort.Slice(s, func(i, j int) bool { return s[i] < s[j] }) }

// percentile returns the value at quantile q of sorted s (nearest rank).
func percentile(s []int64, q float64) int64 {
	if len(s) == 0 {
		return 0
	}
	i := int(float64(len(s))*q+0.999999) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(s) {
		i = len(s) - 1
	}
	return s[i]
}

// runLoadgen runs this program's loadgen mode against t as a child process.
func runLoadgen(ctx context.Context, t *target, rate float64, d time.Duration) (*loadResult, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{"loadgen", "-url", t.url(), "-rate", strconv.FormatFloat(rate, 'f', 0, 64), "-duration", d.String()}
	if t.header != "" {
		args = append(args, "-header", t.header)
	}
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.SysProcAttr = childProcAttr()
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	var res loadResult
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("loadgen output %q: %w", out, err)
	}
	res.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return &res, nil
}
