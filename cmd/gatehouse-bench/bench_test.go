package main

import (
	"bufio"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const wrkSample = `Running 5s test @ http://127.0.0.1:34875/
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.49ms    4.25ms  33.20ms   72.25%
    Req/Sec     2.85k   345.12     3.61k    68.00%
  Latency Distribution
     50%    5.06ms
     75%  812.00us
     90%   10.21ms
     99%    1.02s
  28480 requests in 5.01s, 6.52MB read
  Non-2xx or 3xx responses: 12
  Socket errors: connect 1, read 2, write 0, timeout 3
Requests/sec:   5684.43
Transfer/sec:      1.30MB
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(wrkSample)
	if err != nil {
		t.Fatal(err)
	}
	want := wrkResult{
		Requests: 28480, Elapsed: 5010 * time.Millisecond, RPS: 5684.43,
		P50: 5060 * time.Microsecond, P75: 812 * time.Microsecond, P90: 10210 * time.Microsecond, P99: 1020 * time.Millisecond,
		Max: 33200 * time.Microsecond, Non2xx3xx: 12, SocketErrors: 6,
	}
	if *r != want {
		t.Errorf("parseWrk:\n got %+v\nwant %+v", *r, want)
	}
	if _, err := parseWrk(strings.Replace(wrkSample, "Latency Distribution", "", 1)[:200]); err == nil {
		t.Error("parseWrk accepted a report without a request count")
	}
}

func TestParseWrkDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"812.00us": 812 * time.Microsecond, "1.50ms": 1500 * time.Microsecond, "2.00s": 2 * time.Second, "1.00m": time.Minute,
	} {
		if got, err := parseWrkDuration(in); err != nil || got != want {
			t.Errorf("parseWrkDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "ms", "1.0x", "abc"} {
		if _, err := parseWrkDuration(in); err == nil {
			t.Errorf("parseWrkDuration(%q) gave no error", in)
		}
	}
}

func TestRedisDelta(t *testing.T) {
	before, err := parseRedisInfo("# Commandstats\r\ncmdstat_getex:calls=100,usec=5,usec_per_call=0.05\r\ncmdstat_info:calls=3,usec=1\r\n# Stats\r\ntotal_reads_processed:500\r\n")
	if err != nil {
		t.Fatal(err)
	}
	after, err := parseRedisInfo("cmdstat_getex:calls=1100,usec=5\r\ncmdstat_publish:calls=10,usec=1\r\ncmdstat_info:calls=4,usec=1\r\ntotal_reads_processed:1511\r\n")
	if err != nil {
		t.Fatal(err)
	}
	d := diffRedis(before, after, 1000)
	if d.commands != 1.01 || d.roundTrips != 1.01 || d.perCommand != "getex 1.000, publish 0.010" {
		t.Errorf("diffRedis = %+v", d)
	}
}

func TestReadResponse(t *testing.T) {
	for _, tc := range []struct {
		raw        string
		status     int
		keep       bool
		restPrefix string
	}{
		{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloNEXT", 200, true, "NEXT"},
		{"HTTP/1.1 401 Unauthorized\r\ncontent-length: 2\r\nConnection: close\r\n\r\nnoNEXT", 401, false, "NEXT"},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nNEXT", 200, true, "NEXT"},
		{"HTTP/1.1 204 No Content\r\n\r\nNEXT", 204, true, "NEXT"},
		{"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\nNEXT", 200, false, "NEXT"},
	} {
		br := bufio.NewReader(strings.NewReader(tc.raw))
		status, keep, err := readResponse(br)
		if err != nil || status != tc.status || keep != tc.keep {
			t.Errorf("readResponse(%q) = %d, %v, %v; want %d, %v", tc.raw, status, keep, err, tc.status, tc.keep)
			continue
		}
		if rest, _ := br.Peek(len(tc.restPrefix)); string(rest) != tc.restPrefix {
			t.Errorf("readResponse(%q) left %q", tc.raw, rest)
		}
	}
	if _, _, err := readResponse(bufio.NewReader(strings.NewReader("HTTP/1.1 2x0 OK\r\n\r\n"))); err == nil {
		t.Error("readResponse accepted a bad status line")
	}
}

func TestPercentileMedian(t *testing.T) {
	s := make([]int64, 100)
	for i := range s {
		s[i] = int64(i + 1)
	}
	if got := percentile(s, 0.50); got != 50 {
		t.Errorf("p50 = %d", got)
	}
	if got := percentile(s, 0.99); got != 99 {
		t.Errorf("p99 = %d", got)
	}
	if got := percentile(s, 1); got != 100 {
		t.Errorf("p100 = %d", got)
	}
	if got := median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("median = %v", got)
	}
	if got := median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("median = %v", got)
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median(nil) is not NaN")
	}
}

// TestLoadgen runs the constant-rate generator briefly against a local
// server and checks that every scheduled request was sent and answered.
func TestLoadgen(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Cookie") != "a=b" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	g, err := newGen(srv.URL+"/x", []string{"Cookie: a=b"}, 200, 500*time.Millisecond, 5*time.Second, 2, 50)
	if err != nil {
		t.Fatal(err)
	}
	res := g.run()
	if res.Scheduled != 100 || res.OK != 100 || res.Errors != 0 || res.Non200 != 0 || res.Unfinished != 0 {
		t.Errorf("loadgen result %+v", res)
	}
	if res.P50 <= 0 || res.P99 < res.P50 || res.Max < res.P99 {
		t.Errorf("loadgen latencies %+v", res)
	}
	if _, err := newGen("http://example.com/", nil, 1, time.Second, time.Second, 1, 1); err == nil {
		t.Error("loadgen accepted a host other than localhost")
	}
}
