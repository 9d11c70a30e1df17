package module

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/gatehouse-auth/gatehouse/internal/identity"
	"github.com/gatehouse-auth/gatehouse/internal/session"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// provisioned returns a handler provisioned with store, and a valid session
// token for it.
func provisioned(tb testing.TB, store *StoreConfig, with ...func(*Handler)) (*Handler, string) {
	tb.Helper()
	h := &Handler{
		Secret:       "bench-secret-0123456789abcdef0123456789abcdef",
		Store:        store,
		ProvidersRaw: []json.RawMessage{json.RawMessage(`{"type":"oidc","name":"corp","issuer":"http://127.0.0.1:1","client_id":"x"}`)},
	}
	for _, f := range with {
		f(h)
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	tb.Cleanup(cancel)
	if err := h.Provision(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = h.Cleanup() })
	tok, err := h.gate.Sessions.Create(context.Background(), &session.Session{
		User: identity.User{UserID: "corp:1", Login: "alice", Email: "alice@example.com", Name: "Alice", Provider: "corp", Groups: []string{"eng", "ops"}},
		Host: "app.example.com",
	})
	if err != nil {
		tb.Fatal(err)
	}
	return h, tok
}

// request builds a request as Caddy's server would hand it to a handler.
func request(tok string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://app.example.com/dashboard", nil)
	r.Header.Set("Cookie", "theme=dark; __Host-gatehouse="+tok)
	r.Header.Set("Accept", "text/html")
	r.Header.Set("X-Auth-User", "spoofed")
	repl := caddyhttp.NewTestReplacer(r)
	ctx := context.WithValue(r.Context(), caddy.ReplacerCtxKey, repl)
	ctx = context.WithValue(ctx, caddyhttp.VarsCtxKey, map[string]any{})
	return r.WithContext(ctx)
}

var okNext = caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
})

func TestHandlerPassesAuthenticatedRequest(t *testing.T) {
	for name, st := range map[string]*StoreConfig{
		"memory": nil,
		"redis":  {Type: "redis", Addresses: []string{redistest.Shared.Addr}},
	} {
		t.Run(name, func(t *testing.T) {
			h, tok := provisioned(t, st)
			var seen http.Header
			next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
				seen = r.Header.Clone()
				return nil
			})
			if err := h.ServeHTTP(httptest.NewRecorder(), request(tok), next); err != nil {
				t.Fatal(err)
			}
			if seen.Get("X-Auth-User") != "alice" || seen.Get("Cookie") != "theme=dark" {
				t.Fatalf("upstream saw %v", seen)
			}
		})
	}
}

func benchmarkHandler(b *testing.B, st *StoreConfig, with ...func(*Handler)) {
	h, tok := provisioned(b, st, with...)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := httptest.NewRecorder()
		if err := h.ServeHTTP(w, request(tok), okNext); err != nil || w.Code != http.StatusNoContent {
			b.Fatal(fmt.Sprint(err, w.Code))
		}
	}
}

// BenchmarkServeHTTP measures one authenticated request through the
// handler, request construction included (measured separately below).
func BenchmarkServeHTTP(b *testing.B) {
	b.Run("memory", func(b *testing.B) { benchmarkHandler(b, nil) })
	b.Run("redis", func(b *testing.B) {
		benchmarkHandler(b, &StoreConfig{Type: "redis", Addresses: []string{redistest.Shared.Addr}})
	})
	// Every request reads the session from Redis: one round trip, the
	// decryption and the decoding.
	b.Run("redis-cache-off", func(b *testing.B) {
		benchmarkHandler(b, &StoreConfig{Type: "redis", Addresses: []string{redistest.Shared.Addr}},
			func(h *Handler) { h.SessionCache = caddy.Duration(-1) })
	})
}

// BenchmarkWithoutGatehouse is BenchmarkServeHTTP's loop with the request
// handed straight to the next handler: what BenchmarkServeHTTP costs
// beyond it is Gatehouse's own.
func BenchmarkWithoutGatehouse(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		w := httptest.NewRecorder()
		if err := okNext.ServeHTTP(w, request("x")); err != nil || w.Code != http.StatusNoContent {
			b.Fatal(fmt.Sprint(err, w.Code))
		}
	}
}

// BenchmarkRequestSetup is the cost of building the test request alone, to
// subtract from BenchmarkServeHTTP.
func BenchmarkRequestSetup(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = request("x")
	}
}
