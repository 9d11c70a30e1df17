package gate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/provider"
)

// TestProviderNotAnswering: when the provider does not answer at login
// start (discovery) or at the callback (token, userinfo), the user gets
// the "not answering" answer — 504 provider_timeout or 502
// provider_unavailable, a page for browsers and JSON for API clients —
// with a link that starts a new login towards the same target, no session
// cookie, nothing upstream, and a warning in the log naming the provider
// and the cause.
func TestProviderNotAnswering(t *testing.T) {
	timeout := provider.Unavailable(fmt.Errorf("code exchange: %w", context.DeadlineExceeded))
	refused := provider.Unavailable(&url.Error{Op: "Post", URL: "http://idp.example.com/token",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}})
	for _, tt := range []struct {
		name     string
		auth     *stubAuth
		callback bool // the failure is at the callback, not the login start
		status   int
		code     string
	}{
		{"discovery timeout", &stubAuth{authErr: timeout}, false, http.StatusGatewayTimeout, provider.CodeTimeout},
		{"discovery refused", &stubAuth{authErr: refused}, false, http.StatusBadGateway, provider.CodeUnavailable},
		{"token timeout", &stubAuth{exchangeErr: timeout}, true, http.StatusGatewayTimeout, provider.CodeTimeout},
		{"token refused", &stubAuth{exchangeErr: refused}, true, http.StatusBadGateway, provider.CodeUnavailable},
		{"userinfo 5xx", &stubAuth{exchangeErr: provider.Unavailable(errors.New("reading the user: answered HTTP 503"))}, true,
			http.StatusBadGateway, provider.CodeUnavailable},
	} {
		for _, html := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/html=%v", tt.name, html), func(t *testing.T) {
				g, logs := newTestGate(t, tt.auth)
				up := &upstream{}
				const rd = "/reports?year=2026"
				var r *http.Request
				if tt.callback {
					binding, state := startLogin(t, g, rd)
					r = newRequest(http.MethodGet, "/.gatehouse/callback/corp?code=the-code&state="+url.QueryEscape(state), html, binding)
				} else {
					r = newRequest(http.MethodGet, "/.gatehouse/login/corp?rd="+url.QueryEscape(rd), html)
				}
				w := serve(t, g, r, up)
				if w.Code != tt.status {
					t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
				}
				if sessionCookieSet(w) || up.hits != 0 || w.Header().Get("Location") != "" {
					t.Errorf("session cookie %v, upstream hits %d, Location %q", w.Header()["Set-Cookie"], up.hits, w.Header().Get("Location"))
				}
				retry := "/.gatehouse/login/corp?rd=" + url.QueryEscape(rd)
				body := w.Body.String()
				if html {
					if !strings.Contains(w.Header().Get("Content-Type"), "text/html") ||
						!strings.Contains(body, "The sign-in provider is not answering") ||
						!strings.Contains(body, "Corp SSO") || !strings.Contains(body, tt.code) {
						t.Errorf("page lacks the heading, the provider's label or the code:\n%s", body)
					}
					if !strings.Contains(body, `href="`+strings.ReplaceAll(retry, "&", "&amp;")+`"`) &&
						!strings.Contains(body, `href="`+retry+`"`) {
						t.Errorf("page has no retry link to %s:\n%s", retry, body)
					}
				} else {
					var j map[string]string
					if err := json.Unmarshal(w.Body.Bytes(), &j); err != nil {
						t.Fatalf("not JSON: %v: %s", err, body)
					}
					if j["error"] != tt.code || j["message"] == "" || j["login_url"] != retry {
						t.Errorf("JSON %v, want error %s and login_url %s", j, tt.code, retry)
					}
				}
				entries := logs.FilterMessage("login failed: the provider is not answering").All()
				if len(entries) != 1 {
					t.Fatalf("log: %v", logs.All())
				}
				f := entries[0].ContextMap()
				if entries[0].Level.String() != "warn" || f["provider"] != "corp" || f["reason"] != tt.code || f["error"] == "" {
					t.Errorf("log entry %v %v", entries[0].Level, f)
				}
				for _, e := range logs.All() {
					if strings.Contains(fmt.Sprint(e.ContextMap()), "the-code") {
						t.Errorf("the authorization code was logged: %v", e.ContextMap())
					}
				}
			})
		}
	}
}

// TestProviderNotAnsweringStateSpent: the callback's state is used up by
// the failed attempt (like the code); replaying it is refused, and the
// retry link starts a fresh login that works.
func TestProviderNotAnsweringStateSpent(t *testing.T) {
	auth := &stubAuth{exchangeErr: provider.Unavailable(context.DeadlineExceeded)}
	g, logs := newTestGate(t, auth)
	binding, state := startLogin(t, g, "/x")
	cb := "/.gatehouse/callback/corp?code=c&state=" + url.QueryEscape(state)
	if w := serve(t, g, newRequest(http.MethodGet, cb, true, binding), &upstream{}); w.Code != http.StatusGatewayTimeout {
		dumpLogs(t, logs)
		t.Fatalf("first callback: %d", w.Code)
	}
	auth.exchangeErr = nil // the provider is back
	if w := serve(t, g, newRequest(http.MethodGet, cb, true, binding), &upstream{}); w.Code != http.StatusBadRequest || sessionCookieSet(w) {
		t.Fatalf("replayed callback: %d %v", w.Code, w.Header()["Set-Cookie"])
	}
	binding, state = startLogin(t, g, "/x")
	w := serve(t, g, newRequest(http.MethodGet, "/.gatehouse/callback/corp?code=c&state="+url.QueryEscape(state), true, binding), &upstream{})
	if w.Code != http.StatusFound || !sessionCookieSet(w) {
		t.Fatalf("login after the outage: %d %v", w.Code, w.Header()["Set-Cookie"])
	}
}
