package testsupport

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
)

// Upstream is a recording backend: it answers every request with 200 and
// a JSON echo of what it received, and keeps the requests for assertions.
type Upstream struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
}

// Echo is the JSON body an Upstream answers with.
type Echo struct {
	Method  string              `json:"method"`
	URI     string              `json:"uri"`
	Headers map[string][]string `json:"headers"`
}

// NewUpstream starts an Upstream on 127.0.0.1.
func NewUpstream() *Upstream {
	u := &Upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the body to its end, so the request's trailers are in.
		_, _ = io.Copy(io.Discard, r.Body)
		u.mu.Lock()
		u.reqs = append(u.reqs, r.Clone(r.Context()))
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(Echo{Method: r.Method, URI: r.RequestURI, Headers: r.Header})
	}))
	return u
}

// Addr is the upstream's host:port.
func (u *Upstream) Addr() string { return u.Listener.Addr().String() }

// Hits returns how many requests reached the upstream.
func (u *Upstream) Hits() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.reqs)
}

// Last returns the last request received (its trailers included), or nil.
func (u *Upstream) Last() *http.Request {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.reqs) == 0 {
		return nil
	}
	return u.reqs[len(u.reqs)-1]
}

// Reset forgets the recorded requests.
func (u *Upstream) Reset() {
	u.mu.Lock()
	u.reqs = nil
	u.mu.Unlock()
}
