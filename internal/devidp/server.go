package devidp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Server is a [Provider] serving HTTP on a local listener.
type Server struct {
	// URL is the issuer URL, e.g. "http://127.0.0.1:41234".
	URL string
	// Addr is the address the listener is bound to.
	Addr net.Addr
	// Provider is the provider being served; use it for the test hooks.
	Provider *Provider

	srv       *http.Server
	done      chan struct{}
	closeOnce sync.Once
}

// Listen binds addr (for example "127.0.0.1:0" for a free port), builds a
// Provider from opts and serves it over plain HTTP until [Server.Close].
// When opts.Issuer is empty it becomes "http://" + the bound address, so
// the port is known before the provider is built; a non-empty Issuer is kept
// as is (its path, if any, prefixes the endpoints).
func Listen(addr string, opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("devidp: listening on %s: %w", addr, err)
	}
	if opts.Issuer == "" {
		opts.Issuer = (&url.URL{Scheme: "http", Host: ln.Addr().String()}).String()
	}
	p, err := New(opts)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	s := &Server{
		URL:      opts.Issuer,
		Addr:     ln.Addr(),
		Provider: p,
		srv: &http.Server{
			Handler:           p,
			ReadHeaderTimeout: 10 * time.Second,
		},
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.log.Error("devidp: server stopped", "error", err)
		}
	}()
	p.log.Info("devidp: serving", "issuer", s.URL)
	return s, nil
}

// Close stops the server, giving requests in flight up to 5 seconds to
// finish before their connections are closed, and returns once it has
// stopped. It is safe to call more than once, so tests can write
// t.Cleanup(srv.Close).
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			s.Provider.log.Warn("devidp: forcing shutdown", "error", err)
			_ = s.srv.Close()
		}
		<-s.done
	})
}
