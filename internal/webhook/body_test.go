package webhook

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// request is a webhook POST from client whose body is body; chunked
// leaves its length undeclared.
func request(client, body string, chunked bool) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.RemoteAddr = client + ":1234"
	if chunked {
		r.ContentLength = -1
		r.Body = io.NopCloser(strings.NewReader(body)) // no length to find
	}
	return r
}

func TestReadBody(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		for _, c := range []struct {
			body   string
			status int
		}{{"", 0}, {"12345", 0}, {"123456", http.StatusRequestEntityTooLarge}} {
			b, status := ReadBody(request("192.0.2.1", c.body, chunked), 5)
			if status != c.status || status == 0 && string(b.Data) != c.body {
				t.Errorf("chunked %v, %q: %d; want status %d", chunked, c.body, status, c.status)
			}
			b.Release()
		}
	}
	if n := InFlight(); n != 0 {
		t.Fatalf("%d bytes still held after every body was released", n)
	}
}

// A short body (the client stopped before its declared length) is 400
// and holds nothing.
func TestReadBodyShort(t *testing.T) {
	r := request("192.0.2.1", "123", false)
	r.ContentLength = 10
	if _, status := ReadBody(r, 100); status != http.StatusBadRequest {
		t.Fatalf("short body: %d", status)
	}
	if n := InFlight(); n != 0 {
		t.Fatalf("%d bytes held after a failed read", n)
	}
}

// The budget refuses a client over its share with 429 and everyone once
// the process's total is reached with 503, before reading (declared
// length) or as the body grows (chunked); what is released can be used
// again.
func TestBudget(t *testing.T) {
	saved := bodies
	t.Cleanup(func() { bodies = saved })
	bodies = newBudget(100<<10, 64<<10)
	body := strings.Repeat("x", 40<<10)

	a1, st := ReadBody(request("192.0.2.1", body, false), 1<<20)
	if st != 0 {
		t.Fatalf("first body: %d", st)
	}
	if _, st := ReadBody(request("192.0.2.1", body, false), 1<<20); st != http.StatusTooManyRequests {
		t.Fatalf("a client over its share: %d, want 429", st)
	}
	if _, st := ReadBody(request("192.0.2.1", body, true), 1<<20); st != http.StatusTooManyRequests {
		t.Fatalf("a chunked body over the client's share: %d, want 429", st)
	}
	b1, st := ReadBody(request("192.0.2.2", body, false), 1<<20)
	if st != 0 {
		t.Fatalf("another client: %d", st)
	}
	if _, st := ReadBody(request("192.0.2.3", body, false), 1<<20); st != http.StatusServiceUnavailable {
		t.Fatalf("over the total: %d, want 503", st)
	}
	if got := InFlight(); got != 80<<10 {
		t.Fatalf("in flight %d, want %d", got, 80<<10)
	}
	a1.Release()
	a1.Release() // twice is harmless
	c1, st := ReadBody(request("192.0.2.3", body[:20<<10], true), 1<<20)
	if st != 0 || len(c1.Data) != 20<<10 {
		t.Fatalf("after a release: %d", st)
	}
	b1.Release()
	c1.Release()
	if got := InFlight(); got != 0 || len(bodies.byClient) != 0 {
		t.Fatalf("after every release: %d bytes, clients %v", got, bodies.byClient)
	}
}
