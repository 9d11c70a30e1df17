package testsupport

import (
	"bytes"
	"io"
	"net/http"
	"sync"
	"time"
)

// Stall wraps a handler so that requests to chosen paths answer only
// after the client has given up (or after Max): a slow provider, for
// tests of timeouts.
type Stall struct {
	next http.Handler
	// Max bounds a stalled request (default 5 s): a client that never
	// gives up still gets an answer.
	Max time.Duration

	mu   sync.Mutex
	held map[string]bool
}

// NewStall wraps next; no path is held until Hold.
func NewStall(next http.Handler) *Stall {
	return &Stall{next: next, Max: 5 * time.Second, held: map[string]bool{}}
}

// Hold makes requests to path stall.
func (s *Stall) Hold(path string) { s.set(path, true) }

// Release makes requests to path answer at once again.
func (s *Stall) Release(path string) { s.set(path, false) }

func (s *Stall) set(path string, on bool) {
	s.mu.Lock()
	s.held[path] = on
	s.mu.Unlock()
}

func (s *Stall) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	hold := s.held[r.URL.Path]
	s.mu.Unlock()
	if hold {
		StallRequest(w, r, s.Max)
		if r.Context().Err() != nil {
			return
		}
	}
	s.next.ServeHTTP(w, r)
}

// StallRequest waits until the client of r gives up, or max passes. It
// reads the body first: only then does the server notice the client
// hanging up (and cancel r's context). The body stays readable.
func StallRequest(_ http.ResponseWriter, r *http.Request, max time.Duration) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	select {
	case <-r.Context().Done():
	case <-time.After(max):
	}
}
