package demo

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/caddytest"
)

// TestStartReportsProgressOnLoopback starts the demo as `go run
// ./examples/demo` does and checks that it tells each step (identity
// provider, app, Caddy, waiting for the site) in order, returns only once
// the site answers, serves the identity provider's index page, and
// listens on the loopback interface only: the site does not answer on
// another address of this machine.
func TestStartReportsProgressOnLoopback(t *testing.T) {
	var steps []string
	d, port := startOnFreePort(t, Options{Progress: func(s string) {
		if strings.Contains(s, "identity provider") {
			steps = steps[:0] // an attempt on a new port starts again
		}
		steps = append(steps, s)
	}})

	wants := []string{"identity provider", "demo app", "Starting Caddy", "Waiting for " + d.SiteURL}
	if len(steps) != len(wants) {
		t.Fatalf("steps %q, want %d", steps, len(wants))
	}
	for i, want := range wants {
		if !strings.Contains(steps[i], want) {
			t.Errorf("step %d = %q, want it to mention %q", i+1, steps[i], want)
		}
	}

	// The site answers at once: Start waited for it.
	client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/public/", port), nil)
	req.Host = strings.TrimPrefix(d.SiteURL, "http://")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "Public page") {
		t.Errorf("public page: %d %s", resp.StatusCode, page)
	}

	// The address the demo prints for the identity provider shows a page.
	resp, err = client.Get(d.IdP.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), d.IdP.URL+"/.well-known/openid-configuration") {
		t.Errorf("identity provider's index: %d %s", resp.StatusCode, page)
	}

	// Nothing listens on the machine's other addresses.
	other := nonLoopbackIP(t)
	if other == nil {
		t.Log("no non-loopback address on this machine: the bind is not checked from outside")
		return
	}
	for _, addr := range []string{
		net.JoinHostPort(other.String(), fmt.Sprint(port)),
		net.JoinHostPort(other.String(), fmt.Sprint(d.IdP.Addr.(*net.TCPAddr).Port)),
	} {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("the demo answers on %s: it must listen on 127.0.0.1 only", addr)
		}
	}
}

// nonLoopbackIP returns an IPv4 address of this machine that is not a
// loopback address, or nil.
func nonLoopbackIP(t *testing.T) net.IP {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP
		}
	}
	return nil
}

// TestStartRefusesExposedIdP refuses to start the development identity
// provider on an address other machines can reach.
func TestStartRefusesExposedIdP(t *testing.T) {
	for _, addr := range []string{":9000", "0.0.0.0:9000", "[::]:9000", "192.0.2.1:9000", "example.com:9000"} {
		if _, err := Start(Options{Port: 1, IdPAddr: addr}); err == nil || !strings.Contains(err.Error(), "this machine only") {
			t.Errorf("Start with the identity provider on %s: %v", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:9000", "localhost:9000", "[::1]:9000"} {
		if err := checkLoopback(addr); err != nil {
			t.Errorf("checkLoopback(%s) = %v", addr, err)
		}
	}
}

// TestAppExplainsMissingEmail checks that the demo app says why a
// signed-in user has no X-Auth-Email (Eve: the provider did not verify
// her email), and says nothing of it when the email is there or nobody is
// signed in.
func TestAppExplainsMissingEmail(t *testing.T) {
	render := func(h http.Header) string {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header = h
		w := httptest.NewRecorder()
		showHeaders(w, r)
		return w.Body.String()
	}
	eve := render(http.Header{"X-Auth-User": {"eve"}, "X-Auth-Provider": {"dev"}})
	for _, want := range []string{"Hello, eve", "No X-Auth-Email?", "email_verified: false", "only when the provider verified it"} {
		if !strings.Contains(eve, want) {
			t.Errorf("Eve's page lacks %q:\n%s", want, eve)
		}
	}
	alice := render(http.Header{"X-Auth-User": {"alice"}, "X-Auth-Email": {"alice@example.com"}})
	public := render(http.Header{})
	for name, page := range map[string]string{"alice": alice, "public": public} {
		if strings.Contains(page, "No X-Auth-Email?") {
			t.Errorf("%s's page explains a missing email", name)
		}
	}
}

// startOnFreePort starts the demo with opts (by default the example's
// Caddyfile and an identity provider on a free loopback port) on a free
// port, and again on another should something take the port before Caddy
// binds it. The demo is closed when the test ends.
func startOnFreePort(t *testing.T, opts Options) (*Demo, int) {
	t.Helper()
	if opts.Caddyfile == nil {
		caddyfile, err := os.ReadFile("../../examples/demo/Caddyfile")
		if err != nil {
			t.Fatal(err)
		}
		opts.Caddyfile = caddyfile
	}
	if opts.IdPAddr == "" {
		opts.IdPAddr = "127.0.0.1:0"
	}
	for attempt := 0; ; attempt++ {
		opts.Port = caddytest.FreePort(t)
		d, err := Start(opts)
		if err == nil {
			t.Cleanup(d.Close)
			return d, opts.Port
		}
		if !caddytest.AddrInUse(err) || attempt == 4 {
			t.Fatal(err)
		}
	}
}

func TestMain(m *testing.M) { os.Exit(testsupport.Main(m, caddytest.IsolateCaddy)) }

// TestDemoBackchannelLogout signs in to the demo, then ends the session on
// the identity provider's own page: the provider sends its back-channel
// logout to the demo site, which answers 200 and ends the session, so
// the next request asks for a sign-in again.
func TestDemoBackchannelLogout(t *testing.T) {
	d, _ := startOnFreePort(t, Options{})
	if err := d.IdP.Provider.SetAutoLogin("alice"); err != nil {
		t.Fatal(err)
	}
	b := browsertest.NewBrowser(t)
	resp, visited := b.Follow(d.SiteURL + "/")
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "Hello, alice") {
		t.Fatalf("sign-in ended with %d after %v:\n%s", resp.StatusCode, visited, page)
	}
	sessions := d.IdP.Provider.Sessions()
	if len(sessions) != 1 {
		t.Fatalf("%d sessions at the provider, want 1", len(sessions))
	}

	req, _ := http.NewRequest(http.MethodPost, d.IdP.URL+"/sessions/end", strings.NewReader(url.Values{"sid": {sessions[0].ID}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", d.IdP.URL)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "Back-channel logout sent to gatehouse-demo, which answered 200.") {
		t.Fatalf("ending the session at the provider: %d\n%s", resp.StatusCode, page)
	}

	resp = b.Get(d.SiteURL + "/")
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), "/.gatehouse/login") {
		t.Fatalf("after the back-channel logout: %d %s, want a redirect to the sign-in", resp.StatusCode, resp.Header.Get("Location"))
	}
}
