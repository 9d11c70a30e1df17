package e2e

// What a red-team pass found at the edges of the request path, each
// through the real Caddy handler chain with raw requests where a client
// library would not send what an attacker can.

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
)

// sendRaw writes req (CRLF line ends) to the site and returns the
// response status, or fails.
func sendRaw(t *testing.T, req string) int {
	t.Helper()
	status := rawRequest(t, strings.ReplaceAll(req, "\n", "\r\n"))
	if status == 0 {
		t.Fatal("no answer")
	}
	return status
}

// A Gatehouse session token sent as a bearer token is a credential for
// Gatehouse, never for the upstream: it is removed on public routes and
// on protected routes, also when a cookie authenticated the request and
// the bearer is another session's. Other bearer tokens pass.
func TestBearerSessionTokenNeverUpstream(t *testing.T) {
	both(t, "", func(t *testing.T) {
		_, cookieTok := login(t, browsertest.NewBrowser(t), "/")
		_, otherTok := login(t, browsertest.NewBrowser(t), "/")
		cases := []struct {
			name, path, cookie, authz, wantAuthz string
		}{
			{"public route", "/public/x", "", "Bearer " + otherTok, ""},
			{"public route, lower-case scheme", "/public/x", "", "bearer " + otherTok, ""},
			{"protected, cookie plus another session's bearer", "/p", cookieTok, "Bearer " + otherTok, ""},
			{"protected, bearer only", "/p", "", "Bearer " + otherTok, ""},
			{"public route, the app's own bearer token", "/public/x", "", "Bearer app-api-key-123", "Bearer app-api-key-123"},
			{"protected, the app's own bearer token", "/p", cookieTok, "Bearer app-api-key-123", "Bearer app-api-key-123"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				upstream.Reset()
				req, _ := http.NewRequest(http.MethodGet, site+c.path, nil)
				req.Header.Set("Authorization", c.authz)
				if c.cookie != "" {
					req.AddCookie(&http.Cookie{Name: cookieName, Value: c.cookie})
				}
				resp, _ := testsupport.Do(t, req)
				got := upstream.Last()
				if resp.StatusCode != 200 || got == nil {
					t.Fatalf("status %d, upstream reached: %v", resp.StatusCode, got != nil)
				}
				if a := got.Header.Get("Authorization"); a != c.wantAuthz {
					t.Errorf("upstream got Authorization %q, want %q", a, c.wantAuthz)
				}
				if strings.Contains(fmt.Sprint(got.Header), otherTok) || strings.Contains(fmt.Sprint(got.Header), cookieTok) {
					t.Errorf("a session token reached the upstream: %v", got.Header)
				}
			})
		}
	})
}

// Naming identity headers in Connection cannot make the proxy drop them:
// an authenticated request reaches the upstream with its identity.
func TestConnectionHeaderCannotStripIdentity(t *testing.T) {
	load(t, config{extra: `headers {
			user X-Remote-User
		}`})
	_, tok := login(t, browsertest.NewBrowser(t), "/")
	for _, conn := range []string{
		"X-Auth-User-Id, X-Remote-User, X-Auth-Email, X-Auth-Jwt, X-Auth-Provider, X-Auth-Name",
		"keep-alive, x_auth_user_id, X-REMOTE-USER, X-Auth-Groups-Truncated, X-Other",
	} {
		t.Run(conn, func(t *testing.T) {
			upstream.Reset()
			status := sendRaw(t, "GET /p HTTP/1.1\nHost: "+strings.TrimPrefix(site, "http://")+
				"\nCookie: "+cookieName+"="+tok+"\nConnection: "+conn+"\nX-Other: hop\n\n")
			got := upstream.Last()
			if status != 200 || got == nil {
				t.Fatalf("status %d", status)
			}
			for _, h := range []string{"X-Auth-User-Id", "X-Remote-User", "X-Auth-Email", "X-Auth-Jwt", "X-Auth-Provider", "X-Auth-Name"} {
				if got.Header.Get(h) == "" {
					t.Errorf("%s did not reach the upstream (Connection: %s)", h, conn)
				}
			}
			if got.Header.Get("X-Remote-User") != "alice" {
				t.Errorf("X-Remote-User = %q", got.Header.Get("X-Remote-User"))
			}
		})
	}
}

// Trailers named like identity headers (declared or not, any spelling)
// never reach the upstream, on protected and public routes; other
// trailers still do.
func TestTrailersCannotCarryIdentity(t *testing.T) {
	load(t, config{extra: `headers {
			user X-Remote-User
		}`})
	_, tok := login(t, browsertest.NewBrowser(t), "/")
	host := strings.TrimPrefix(site, "http://")
	for _, path := range []string{"/p", "/public/x"} {
		t.Run(path, func(t *testing.T) {
			upstream.Reset()
			status := sendRaw(t, "POST "+path+" HTTP/1.1\nHost: "+host+"\nCookie: "+cookieName+"="+tok+
				"\nTransfer-Encoding: chunked\nTrailer: X-Auth-User, X-Remote-User, X-Checksum\n\n"+
				"5\nhello\n0\nX-Auth-User: mallory\nx_auth_user_id: mallory\nX-Remote-User: mallory\nX-Auth-Email: m@evil.example\nX-Checksum: abc\n\n")
			got := upstream.Last()
			if status != 200 || got == nil {
				t.Fatalf("status %d", status)
			}
			if got.Trailer.Get("X-Checksum") != "abc" {
				t.Fatalf("control: the declared X-Checksum trailer did not reach the upstream: %v", got.Trailer)
			}
			for k, vs := range got.Trailer {
				if strings.Contains(strings.Join(vs, ","), "mallory") || strings.Contains(strings.Join(vs, ","), "evil") {
					t.Errorf("trailer %s: %q reached the upstream", k, vs)
				}
			}
			for k, vs := range got.Header {
				if strings.Contains(strings.Join(vs, ","), "mallory") {
					t.Errorf("header %s: %q reached the upstream", k, vs)
				}
			}
			if path == "/p" && got.Header.Get("X-Remote-User") != "alice" {
				t.Errorf("X-Remote-User = %q, want alice", got.Header.Get("X-Remote-User"))
			}
		})
	}
}

// The redirect_uri and the login URLs Gatehouse builds carry the port the
// site listens on, never the one in a client's Host header.
func TestPortNeverFromClientHost(t *testing.T) {
	load(t, config{})
	spoofed := "localhost:9999"
	t.Run("redirect_uri", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, site+"/.gatehouse/login/corp", nil)
		req.Host = spoofed
		resp, _ := testsupport.Do(t, req)
		loc, err := resp.Location()
		if err != nil {
			t.Fatalf("login start: %d", resp.StatusCode)
		}
		if got := loc.Query().Get("redirect_uri"); got != site+"/.gatehouse/callback/corp" {
			t.Errorf("redirect_uri = %q, want the site's own port", got)
		}
	})
	t.Run("forward-auth login URL", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, site+"/.gatehouse/auth", nil)
		req.Host = spoofed
		req.Header.Set("Accept", "text/html")
		req.Header.Set("X-Forwarded-Proto", "http")
		req.Header.Set("X-Forwarded-Host", strings.TrimPrefix(site, "http://"))
		req.Header.Set("X-Forwarded-Uri", "/app")
		resp, _ := testsupport.Do(t, req)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, site+"/.gatehouse/login?") {
			t.Fatalf("/auth: %d Location %q, want the site's own port", resp.StatusCode, loc)
		}
		u, _ := url.Parse(loc)
		if rd := u.Query().Get("rd"); rd != site+"/app" {
			t.Errorf("rd = %q", rd)
		}
	})
}
