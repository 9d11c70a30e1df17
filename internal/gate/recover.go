package gate

import (
	"fmt"
	"net/http"
	"strings"

	"go.uber.org/zap"
)

// Panics.
//
// Caddy v2.11.9 does not recover panics in its handler chain
// (caddyhttp.Server.ServeHTTP has no recover): the HTTP servers under it
// do — net/http for HTTP/1 and HTTP/2, quic-go for HTTP/3 — per
// connection or stream. They log "http: panic serving …" with the stack
// (Caddy routes net/http's line to its log at ERROR), send no response
// and close the connection (HTTP/1) or reset the stream; the server keeps
// serving everyone else. A handler panic therefore never takes Caddy
// down, but its client gets a broken connection instead of an answer, and
// any work the handler did (a Set-Cookie already in the header map) is
// simply dropped.
//
// Gatehouse recovers what panics in its own code — its endpoints, the
// session check, the provider calls — so the client gets a proper 500
// (page or JSON, code internal_error), the request never goes upstream,
// and no session cookie is sent. A panic raised downstream, by the next
// handler (reverse_proxy, the upstream chain), is not Gatehouse's: it is
// not recovered at all, so it reaches net/http unchanged with its own
// stack, exactly as without Gatehouse. Turning it into an auth error would
// blame the wrong component, and the response may already be half
// written; reverse_proxy also panics with http.ErrAbortHandler on purpose
// to abort a response, which must reach net/http.

// errInternal answers a request whose handling panicked.
var errInternal = problem{
	status: http.StatusInternalServerError, code: "internal_error",
	heading: "Something went wrong",
	message: "Sign-in hit an internal error. Please try again; if it keeps happening, tell the site's operator.",
}

// recovered answers a request whose handling by Gatehouse panicked with v
// and returns what ServeHTTP returns. w is what the panicking code wrote
// to; when it had already sent a response, the connection is aborted
// instead (http.ErrAbortHandler), as a half-written answer cannot be
// taken back.
func (g *Gate) recovered(w http.ResponseWriter, r *http.Request, v any) error {
	if v == http.ErrAbortHandler {
		panic(v) // a deliberate abort, not a bug
	}
	// The path only: the query may hold a code or a state.
	g.logSafely(r).Error("panic in gatehouse; answering 500",
		zap.String("method", r.Method), zap.String("path", r.URL.Path),
		zap.String("panic", panicText(v)), zap.Stack("stack"))
	if tw, ok := w.(*trackingWriter); ok {
		if tw.wrote {
			panic(http.ErrAbortHandler)
		}
		w = tw.ResponseWriter
	}
	h := w.Header()
	// Whatever the failed handling prepared is void: above all a session
	// or login cookie, and a redirect.
	dropCookies(h, g.ownCookies)
	h.Del("Location")
	h.Del("Content-Length")
	return g.failSafely(w, r, errInternal)
}

// logSafely is g.log(r), or the plain logger should reading the request's
// id panic too.
func (g *Gate) logSafely(r *http.Request) (l *zap.Logger) {
	defer func() {
		if recover() != nil {
			l = g.Logger
		}
	}()
	return g.log(r)
}

// failSafely is fail for a request that already panicked once: should
// answering panic too (a handle_errors matcher, a page template), it
// falls back to a plain JSON answer without handle_errors.
func (g *Gate) failSafely(w http.ResponseWriter, r *http.Request, p problem) (err error) {
	defer func() {
		if v := recover(); v != nil {
			g.Logger.Error("panic while answering a panic; answering plain 500", zap.String("panic", panicText(v)))
			writeJSON(w, p.status, map[string]string{"error": p.code, "message": p.message})
			err = nil
		}
	}()
	g.fail(w, r, p)
	return deferredError(r)
}

// panicText is a panic value for the log, bounded. It can be long: a
// panic re-raised by singleflight carries the original panic's stack.
func panicText(v any) string {
	s := fmt.Sprint(v)
	if len(s) > 16<<10 {
		s = s[:16<<10] + "…"
	}
	return s
}

// dropCookies removes from h the Set-Cookie lines of the named cookies.
func dropCookies(h http.Header, names []string) {
	lines := h["Set-Cookie"]
	if len(lines) == 0 {
		return
	}
	kept := lines[:0:0]
	for _, l := range lines {
		name, _, _ := strings.Cut(l, "=")
		own := false
		for _, n := range names {
			if strings.TrimSpace(name) == n {
				own = true
				break
			}
		}
		if !own {
			kept = append(kept, l)
		}
	}
	if len(kept) == 0 {
		h.Del("Set-Cookie")
		return
	}
	h["Set-Cookie"] = kept
}

// trackingWriter records whether a response was started, so that a panic
// after it aborts the connection rather than appending an error page to a
// half-sent answer.
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (t *trackingWriter) WriteHeader(status int) {
	if status >= 200 || status == http.StatusSwitchingProtocols {
		t.wrote = true
	}
	t.ResponseWriter.WriteHeader(status)
}

func (t *trackingWriter) Write(b []byte) (int, error) {
	t.wrote = true
	return t.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }
