package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
)

// reloads is how many times TestReloadUnderLoad replaces the config.
const reloads = 5

// caddyReload does what `caddy reload` does: POST the Caddyfile to the
// admin endpoint's /load, which adapts it and swaps the running config.
func caddyReload(t *testing.T, admin, caddyfile string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+admin+"/load", strings.NewReader(caddyfile))
	req.Header.Set("Content-Type", "text/caddyfile")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("caddy reload: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("caddy reload: %d %s", resp.StatusCode, body)
	}
}

// retryConnErrors GETs / with the session, retrying (twice at most) a
// connection closed without an answer.
func retryConnErrors(t *testing.T, tok string) *http.Response {
	t.Helper()
	for attempt := 1; ; attempt++ {
		req, _ := http.NewRequest(http.MethodGet, site+"/", nil)
		req.AddCookie(&http.Cookie{Name: cookieName, Value: tok})
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err == nil {
			return resp
		}
		if attempt == 3 {
			t.Fatalf("GET / after a reload: %v", err)
		}
	}
}

// pendingLogin takes b through the login up to the provider's redirect
// back to Gatehouse and returns that callback URL without visiting it, as
// a user still on the provider's page.
func pendingLogin(t *testing.T, b *browsertest.Browser, path string) string {
	t.Helper()
	next := site + path
	for range 10 {
		resp := b.Get(next)
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil {
			t.Fatalf("login stopped at %s with %d", next, resp.StatusCode)
		}
		next = loc.String()
		if strings.Contains(loc.Path, "/.gatehouse/callback/") {
			return next
		}
	}
	t.Fatalf("no callback URL in the login's redirects (last %s)", next)
	return ""
}

// TestReloadUnderLoad replaces the config through the admin API, as
// `caddy reload` does, while clients keep using a session over kept-alive
// and fresh connections. No request may get an HTTP error or lose its
// identity, every session and every login begun before the reloads
// survive, and each new config is in effect when its reload returns.
func TestReloadUnderLoad(t *testing.T) {
	for _, st := range []string{"memory", "redis"} {
		t.Run(st, func(t *testing.T) {
			c := config{admin: true, site: "header X-Config-Generation 0"}
			if st == "redis" {
				c.store = "redis"
			}
			load(t, c)
			b := browsertest.NewBrowser(t)
			echo, tok := login(t, b, "/")
			user := http.Header(echo.Headers).Get("X-Auth-User-Id")
			if user == "" {
				t.Fatalf("no X-Auth-User-Id upstream: %v", echo.Headers)
			}
			pending := browsertest.NewBrowser(t)
			callback := pendingLogin(t, pending, "/begun-before")

			kept := startLoad(t, tok, user, 4, 0)
			fresh := startLoad(t, tok, user, 0, 2)
			kept.warmUp(t, 50, "the reloads")
			fresh.warmUp(t, 10, "the reloads")
			keptStart, freshStart := kept.counts(), fresh.counts()
			began := time.Now()
			var took time.Duration
			for gen := 1; gen <= reloads; gen++ {
				c.site = fmt.Sprintf("header X-Config-Generation %d", gen)
				t0 := time.Now()
				caddyReload(t, adminAddr, c.caddyfile())
				took = max(took, time.Since(t0))
				// The new config answers as soon as the reload returns (a
				// connection closed unanswered in the switch is retried, as
				// the load's are not).
				resp := retryConnErrors(t, tok)
				if g := resp.Header.Get("X-Config-Generation"); status(t, resp) != 200 || g != fmt.Sprint(gen) {
					t.Fatalf("after reload %d: status %d, generation %q", gen, resp.StatusCode, g)
				}
				time.Sleep(200 * time.Millisecond) // load runs on the new config before the next swap
			}
			kept.halt()
			fresh.halt()
			k, f := kept.counts(), fresh.counts()
			// No request gets an HTTP error or reaches the upstream without
			// its identity. What a reload can do, as in any Caddy on Linux,
			// is close a connection opened at the instant of the switch
			// without an answer: the kernel resets one queued on the old
			// config's SO_REUSEPORT socket when it closes (unless
			// net.ipv4.tcp_migrate_req=1), and net/http drops a request it
			// reads after its shutdown began (golang/go#75591). Kept-alive
			// clients open new connections rarely, fresh ones every time;
			// each client has one request in flight, so it can lose at most
			// one per reload.
			for _, c := range []struct {
				name    string
				n       haCounts
				l       *haLoad
				clients int
			}{{"kept-alive", k, kept, 4}, {"fresh-connection", f, fresh, 2}} {
				if c.n.nbad != c.n.nerr || c.n.n503 > 0 {
					t.Fatalf("%s clients: %d failures of which %d were HTTP answers, %d 503s, during %d reloads (first: %v)",
						c.name, c.n.nbad, c.n.nbad-c.n.nerr, c.n.n503, reloads, c.l.firstBad())
				}
				if c.n.nerr > c.clients*reloads {
					t.Fatalf("%s clients: %d connections closed unanswered during %d reloads, more than the switch explains (first: %v)",
						c.name, c.n.nerr, reloads, c.l.firstBad())
				}
			}
			keptServed, freshServed := k.ok-keptStart.ok, f.ok-freshStart.ok
			if keptServed < reloads*10 || freshServed < reloads {
				t.Fatalf("too few requests served during the reloads: %d kept-alive, %d fresh", keptServed, freshServed)
			}
			sessionWorks(t, b, tok, user, "after the reloads")

			// The login begun on the first config ends on the last one.
			resp, visited := pending.Follow(callback)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"uri":"/begun-before"`)) {
				t.Fatalf("login begun before the reloads: %d after %v: %s", resp.StatusCode, visited, body)
			}
			if pending.Cookie(site, cookieName) == "" {
				t.Fatal("login begun before the reloads: no session cookie")
			}
			t.Logf("reload (%s store): %d reloads in %v under load, 0 HTTP errors, 0 served without identity; 4 kept-alive clients: %d requests, %d connections closed unanswered; 2 fresh-connection clients: %d requests, %d connections closed unanswered; slowest reload %v",
				st, reloads, time.Since(began).Round(time.Millisecond), keptServed, k.nerr, freshServed, f.nerr, took.Round(time.Millisecond))
		})
	}
}
