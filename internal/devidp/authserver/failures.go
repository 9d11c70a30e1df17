package authserver

import (
	"net/http"
	"sync"
	"time"
)

// Failures is the fault injection of a server's FailNext: a queue of HTTP
// statuses per key (an endpoint name or path). The zero value is empty and
// ready; it is safe for concurrent use.
type Failures struct {
	mu    sync.Mutex
	queue map[string][]int
}

// Add queues status for the next request under key that has none queued
// before it.
func (f *Failures) Add(key string, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.queue == nil {
		f.queue = map[string][]int{}
	}
	f.queue[key] = append(f.queue[key], status)
}

// Next takes the first status queued under key, if any.
func (f *Failures) Next(key string) (status int, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.queue[key]
	if len(q) == 0 {
		return 0, false
	}
	f.queue[key] = q[1:]
	return q[0], true
}

// Delay waits d (a server's SetTokenDelay) unless r's client gives up
// first, and reports whether the wait ran out: false means the client is
// gone and there is no one to answer.
func Delay(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// Routes maps exact paths to their handlers; any other path is 404.
type Routes map[string]http.HandlerFunc

// ServeHTTP runs the handler of r's path.
func (rs Routes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, ok := rs[r.URL.Path]; ok {
		h(w, r)
		return
	}
	http.NotFound(w, r)
}
