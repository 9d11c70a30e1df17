package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/webhook"
)

// floodConn opens a connection to the site from the loopback address
// from, and starts a GitHub webhook delivery of the largest size with a
// wrong signature, sending only its first 64 KiB. It reports the status
// the site answers with (0 when the connection ends without one) on
// answers.
func floodConn(t *testing.T, from string, answers chan<- int, conns *sync.WaitGroup, mu *sync.Mutex, open *[]net.Conn) {
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", strings.TrimPrefix(site, "http://"))
	if err != nil {
		t.Errorf("flood connection from %s: %v", from, err)
		answers <- -1
		return
	}
	mu.Lock()
	*open = append(*open, c)
	mu.Unlock()
	conns.Add(1)
	go func() {
		defer conns.Done()
		_ = c.SetDeadline(time.Now().Add(60 * time.Second))
		head := fmt.Sprintf("POST /.gatehouse/webhooks/github HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"+
			"X-GitHub-Event: ping\r\nX-GitHub-Delivery: flood\r\nX-Hub-Signature-256: sha256=%s\r\nContent-Length: %d\r\n\r\n",
			strings.TrimPrefix(site, "http://"), strings.Repeat("0", 64), webhook.MaxBodyBytes)
		// Write while reading: a refused delivery is answered before its
		// body is read, and the write may then stall.
		go func() { _, _ = io.WriteString(c, head+strings.Repeat("{", 64<<10)) }()
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			answers <- 0
			return
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
			t.Errorf("429 without Retry-After")
		}
		answers <- resp.StatusCode
	}()
}

// A flood of webhook deliveries that send a large body slowly, each with
// a wrong signature, holds a bounded amount of memory: one address gets
// its share and is then refused at once with 429 (Retry-After); a
// correctly signed delivery from elsewhere is accepted meanwhile; and a
// flood from many addresses meets the process's budget with 503, which
// GitHub retries, while a small genuine delivery is accepted in what is
// left or told to retry.
func TestWebhookFloodBounded(t *testing.T) {
	gh := newGitHub(t)
	load(t, githubConfig(gh, ""))
	ping := []byte(`{"zen":"Keep it logically awesome.","hook_id":1,"hook":{"type":"App","id":1,"app_id":` + fmt.Sprint(ghAppID) + `}}`)
	var mu sync.Mutex
	var open []net.Conn
	var conns sync.WaitGroup
	closeAll := func() {
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		open = nil
		mu.Unlock()
		conns.Wait()
	}
	t.Cleanup(closeAll)

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	// 200 connections from one address.
	const flood = 200
	held := int(webhook.MaxInFlightPerClient / webhook.MaxBodyBytes)
	answers := make(chan int, flood)
	for range flood {
		floodConn(t, "127.0.0.2", answers, &conns, &mu, &open)
	}
	statuses := map[int]int{}
	deadline := time.After(30 * time.Second)
	for n := 0; n < flood-held; n++ {
		select {
		case s := <-answers:
			statuses[s]++
		case <-deadline:
			t.Fatalf("after 30 s only %d of %d flood deliveries were answered: %v (in flight %d bytes)", n, flood-held, statuses, webhook.InFlight())
		}
	}
	if statuses[http.StatusTooManyRequests] != flood-held {
		t.Fatalf("flood from one address answered %v, want %d × 429", statuses, flood-held)
	}
	if got := webhook.InFlight(); got != int64(held)*webhook.MaxBodyBytes {
		t.Errorf("bodies in flight %d bytes, want the address's share %d", got, int64(held)*webhook.MaxBodyBytes)
	}
	var during runtime.MemStats
	runtime.ReadMemStats(&during)
	if grew := int64(during.HeapAlloc) - int64(before.HeapAlloc); grew > 128<<20 {
		t.Errorf("the heap grew by %d MiB during the flood", grew>>20)
	}
	t.Logf("one-address flood: %v; heap %d → %d MiB", statuses, before.HeapAlloc>>20, during.HeapAlloc>>20)

	// A genuine delivery from GitHub's address goes through meanwhile.
	if code, _ := hook(t, gh, "ping", json.RawMessage(ping)); code != http.StatusOK {
		t.Errorf("a signed delivery during the flood: %d, want 200", code)
	}

	// Many addresses: the process's budget answers 503.
	answers = make(chan int, 64)
	for i := range 20 {
		for range 3 {
			floodConn(t, fmt.Sprintf("127.0.0.%d", 10+i), answers, &conns, &mu, &open)
		}
	}
	got503 := 0
	for got503 == 0 {
		select {
		case s := <-answers:
			if s == http.StatusServiceUnavailable {
				got503++
			} else if s != http.StatusTooManyRequests {
				t.Fatalf("distributed flood answered %d", s)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no 503 from a distributed flood (in flight %d bytes)", webhook.InFlight())
		}
	}
	if got := webhook.InFlight(); got > webhook.MaxInFlightBytes {
		t.Errorf("bodies in flight %d bytes, over the process's budget %d", got, int64(webhook.MaxInFlightBytes))
	}
	// A genuine delivery is accepted in what is left, or told to retry.
	resp, _, err := gh.SendWebhook(site+"/.gatehouse/webhooks/github", ghHookSecret, "ping", ping)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "":
	default:
		t.Errorf("a signed delivery during a distributed flood: %d Retry-After %q, want 200, or 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	t.Logf("distributed flood: a signed delivery got %d with %d MiB in flight", resp.StatusCode, webhook.InFlight()>>20)

	// The flood ends: everything is given back and deliveries go through.
	closeAll()
	for end := time.Now().Add(10 * time.Second); webhook.InFlight() != 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("%d bytes of webhook bodies still held 10 s after the flood ended", webhook.InFlight())
		}
	}
	if code, _ := hook(t, gh, "ping", json.RawMessage(ping)); code != http.StatusOK {
		t.Errorf("a signed delivery after the flood: %d, want 200", code)
	}
}
