package gate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/gatehouse-auth/gatehouse/internal/identity"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// TestPanicInGatehouseIsRecovered: a panic in Gatehouse's own code (a
// provider call at login start, at the callback, during the session
// check's token refresh) answers 500 internal_error — a page for
// browsers, JSON otherwise — never reaches the upstream, sets no session
// cookie, and is logged at error with the stack and the path but not the
// query.
func TestPanicInGatehouseIsRecovered(t *testing.T) {
	for _, tt := range []struct {
		name string
		auth *stubAuth
		// request builds the request that panics, after any setup.
		request func(t *testing.T, g *Gate, html bool) *http.Request
		path    string
	}{
		{
			name: "provider panics at login start",
			auth: &stubAuth{authPanic: "provider bug"},
			request: func(t *testing.T, g *Gate, html bool) *http.Request {
				return newRequest(http.MethodGet, "/.gatehouse/login/corp?rd=/x", html)
			},
			path: "/.gatehouse/login/corp",
		},
		{
			name: "provider panics at the callback",
			auth: &stubAuth{exchPanic: errors.New("nil map in exchange")},
			request: func(t *testing.T, g *Gate, html bool) *http.Request {
				binding, state := startLogin(t, g, "/x")
				return newRequest(http.MethodGet, "/.gatehouse/callback/corp?code=SECRET-CODE&state="+state, html, binding)
			},
			path: "/.gatehouse/callback/corp",
		},
		{
			name: "provider panics refreshing the session's token",
			auth: &stubAuth{refreshPanc: fmt.Errorf("refresh bug")},
			request: func(t *testing.T, g *Gate, html bool) *http.Request {
				tok, err := g.Sessions.Create(context.Background(), &session.Session{
					User:         identity.User{UserID: "corp:1", Login: "alice", Provider: "corp"},
					Host:         "app.example.com",
					AccessToken:  "at",
					RefreshToken: "rt",
					TokenExpiry:  time.Now().Add(10 * time.Second),
				})
				if err != nil {
					t.Fatal(err)
				}
				return newRequest(http.MethodGet, "/private?token=SECRET-QUERY", html, &http.Cookie{Name: testCookie, Value: tok})
			},
			path: "/private",
		},
	} {
		for _, html := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/html=%v", tt.name, html), func(t *testing.T) {
				g, logs := newTestGate(t, tt.auth)
				up := &upstream{}
				w := serve(t, g, tt.request(t, g, html), up)
				if w.Code != http.StatusInternalServerError {
					t.Fatalf("status %d, want 500: %s", w.Code, w.Body)
				}
				if up.hits != 0 {
					t.Error("the request reached the upstream")
				}
				if sessionCookieSet(w) || w.Header().Get("Location") != "" {
					t.Errorf("Set-Cookie %v Location %q", w.Header()["Set-Cookie"], w.Header().Get("Location"))
				}
				if html {
					if !strings.Contains(w.Header().Get("Content-Type"), "text/html") || !strings.Contains(w.Body.String(), "internal_error") {
						t.Errorf("not the error page: %s", w.Body)
					}
				} else {
					var j map[string]string
					if err := json.Unmarshal(w.Body.Bytes(), &j); err != nil || j["error"] != "internal_error" {
						t.Errorf("JSON %q (%v)", w.Body, err)
					}
				}
				entries := logs.FilterMessage("panic in gatehouse; answering 500").All()
				if len(entries) != 1 || entries[0].Level.String() != "error" {
					t.Fatalf("log: %v", logs.All())
				}
				f := entries[0].ContextMap()
				// The panic's own stack: in the recovering goroutine, or carried
				// in the value by singleflight.
				if f["path"] != tt.path || !strings.Contains(fmt.Sprint(f["stack"], f["panic"]), "stubAuth") || f["panic"] == "" {
					t.Errorf("log fields %v", f)
				}
				for _, e := range logs.All() {
					if s := fmt.Sprint(e.ContextMap()); strings.Contains(s, "SECRET") {
						t.Errorf("the log holds the query or a code: %s", s)
					}
				}
			})
		}
	}
}

// TestPanicDownstreamIsNotRecovered: a panic in the next handler is not
// Gatehouse's: it goes on, unchanged, to Caddy's HTTP server (net/http
// recovers it per connection), instead of becoming an auth error.
func TestPanicDownstreamIsNotRecovered(t *testing.T) {
	g, logs := newTestGate(t, &stubAuth{})
	boom := errors.New("upstream handler bug")
	next := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { panic(boom) })
	for name, r := range map[string]*http.Request{
		"public path": newRequest(http.MethodGet, "/public/app.js", false),
		"with a session": func() *http.Request {
			tok, err := g.Sessions.Create(context.Background(), &session.Session{User: identity.User{UserID: "corp:1", Provider: "corp"}, Host: "app.example.com"})
			if err != nil {
				t.Fatal(err)
			}
			return newRequest(http.MethodGet, "/private", true, &http.Cookie{Name: testCookie, Value: tok})
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			w := httptest.NewRecorder()
			v := func() (v any) {
				defer func() { v = recover() }()
				_ = g.ServeHTTP(w, r, next)
				return nil
			}()
			if v != boom {
				t.Fatalf("recovered %v, want the downstream panic itself", v)
			}
			if w.Code != http.StatusOK || w.Body.Len() != 0 || len(w.Header()["Set-Cookie"]) != 0 {
				t.Errorf("Gatehouse answered a downstream panic: %d %v %q", w.Code, w.Header(), w.Body)
			}
			if n := logs.FilterMessage("panic in gatehouse; answering 500").Len(); n != 0 {
				t.Errorf("a downstream panic was logged as Gatehouse's")
			}
		})
	}
}

// TestPanicAfterSessionCookieDropsIt: what a panicking handler prepared
// is void: its session and login cookies and its redirect are dropped;
// other cookies stay.
func TestPanicAfterSessionCookieDropsIt(t *testing.T) {
	g, _ := newTestGate(t, &stubAuth{})
	w := httptest.NewRecorder()
	http.SetCookie(w, g.sessionCookie("token", time.Hour))
	http.SetCookie(w, g.bindingCookie("binding"))
	http.SetCookie(w, &http.Cookie{Name: "theme", Value: "dark"})
	w.Header().Set("Location", "/somewhere")
	r := newRequest(http.MethodGet, "/.gatehouse/callback/corp", false)
	if err := g.recovered(&trackingWriter{ResponseWriter: w}, r, "bug"); err != nil {
		t.Fatal(err)
	}
	got := w.Header()["Set-Cookie"]
	if w.Code != http.StatusInternalServerError || len(got) != 1 || !strings.HasPrefix(got[0], "theme=") || w.Header().Get("Location") != "" {
		t.Fatalf("status %d Set-Cookie %v Location %q", w.Code, got, w.Header().Get("Location"))
	}
}

// TestPanicAfterResponseStartedAborts: a panic after Gatehouse began its
// answer cannot become a 500 any more; the connection is aborted.
func TestPanicAfterResponseStartedAborts(t *testing.T) {
	g, _ := newTestGate(t, &stubAuth{})
	w := httptest.NewRecorder()
	tw := &trackingWriter{ResponseWriter: w}
	tw.WriteHeader(http.StatusOK)
	_, _ = tw.Write([]byte("partial"))
	v := func() (v any) {
		defer func() { v = recover() }()
		_ = g.recovered(tw, newRequest(http.MethodGet, "/.gatehouse/userinfo", false), "bug")
		return nil
	}()
	if v != http.ErrAbortHandler {
		t.Fatalf("panic %v, want http.ErrAbortHandler", v)
	}
	if w.Body.String() != "partial" {
		t.Errorf("body %q: the error was appended to the started answer", w.Body)
	}
}

// TestPanicInRevocationDoesNotCrash: revocation at sign-out runs off the
// request; a panic there is recovered (it would otherwise end the whole
// process) and logged.
func TestPanicInRevocationDoesNotCrash(t *testing.T) {
	g, logs := newTestGate(t, &stubAuth{revokePanic: "revoke bug"})
	tok, err := g.Sessions.Create(context.Background(), &session.Session{
		User:         identity.User{UserID: "corp:1", Provider: "corp"},
		Host:         "app.example.com",
		AccessToken:  "at",
		RefreshToken: "rt",
	})
	if err != nil {
		t.Fatal(err)
	}
	r := newRequest(http.MethodPost, "/.gatehouse/logout", false)
	r.Header.Set("Authorization", "Bearer "+tok)
	w := serve(t, g, r, &upstream{})
	if w.Code >= 400 {
		t.Fatalf("logout: %d %s", w.Code, w.Body)
	}
	g.Wait()
	if logs.FilterMessage("panic while revoking the provider's tokens at sign-out").Len() != 1 {
		dumpLogs(t, logs)
		t.Fatal("the revocation panic was not logged")
	}
}
