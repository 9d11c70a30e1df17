package e2e

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/caddytest"
)

// childCaddyfileEnv names the Caddyfile a re-executed test binary runs
// as a separate Caddy process (see startChildCaddy).
const childCaddyfileEnv = "GATEHOUSE_E2E_CHILD_CADDYFILE"

// runChildCaddy is the whole life of a child Caddy: run the Caddyfile
// until SIGTERM or SIGINT.
func runChildCaddy(path string) int {
	cleanup, err := caddytest.IsolateCaddy()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cleanup()
	text, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := caddytest.TryLoadCaddyfile(string(text)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	return 0
}

// startChildCaddy runs caddyfile in another process (this test binary,
// re-executed) and waits until addr answers. The process is stopped when
// the test ends (and dies with this one, should it be killed); its output
// is in the failure message. It returns an error only when the child
// could not bind a port that was taken meanwhile: the caller tries again
// with new ports.
func startChildCaddy(t *testing.T, caddyfile, addr string) error {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(path, []byte(caddyfile), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(dir, "output"))
	if err != nil {
		t.Fatal(err)
	}
	output := func() string {
		b, _ := os.ReadFile(out.Name())
		return string(b)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childCaddyfileEnv+"="+path)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// done is closed when the child has exited, waitErr then holds why;
	// any number of waits may read it.
	done := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(done) }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				select {
				case <-done:
				case <-time.After(5 * time.Second):
					t.Errorf("child Caddy (pid %d) survived SIGKILL for 5 s", cmd.Process.Pid)
				}
			}
		}
		out.Close()
		if t.Failed() {
			t.Logf("child Caddy output:\n%s", output())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get("http://" + addr + "/public/ready")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-done:
			stopped = true
			if caddytest.AddrInUse(errors.New(output())) {
				return fmt.Errorf("child Caddy could not bind: %s", output())
			}
			t.Fatalf("child Caddy exited: %v\n%s", waitErr, output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("child Caddy on %s did not answer within 30 s: %v\n%s", addr, err, output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// instanceSite is one Gatehouse instance's site: its own port, the
// balancer's public origin, the shared Redis and secret.
func instanceSite(name string, port int) string {
	return fmt.Sprintf(`
http://localhost:%d {
	header X-Instance %s
	gatehouse {
		secret %s
		store redis redis://%s/0
		external_url %s
		%s
		public /public/*
	}
	reverse_proxy %s
}
`, port, name, secret, redisSrv.Addr, site, config{}.oidc(), upstream.Addr())
}

// instanceRequest sends GET path with the session straight to one
// instance, with the Host the balancer passes on.
func instanceRequest(t *testing.T, instPort int, tok string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/direct", instPort), nil)
	req.Host = strings.TrimPrefix(site, "http://")
	req.Header.Set("Accept", "application/json")
	req.AddCookie(&http.Cookie{Name: cookieName, Value: tok})
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// startInstances runs two Gatehouse instances with one secret and one
// Redis — A in this process, B in a separate Caddy process — behind a
// round-robin balancer that answers at site, and returns the instances'
// ports. Each port is tried again if taken meanwhile.
func startInstances(t *testing.T) (portA, portB int) {
	t.Helper()
	for attempt := 0; ; attempt++ {
		ports, err := testsupport.FreePorts(3) // distinct: one port twice is not "in use" but a config error
		if err != nil {
			t.Fatal(err)
		}
		usePort(t, ports[0])
		portA, portB = ports[1], ports[2]
		err = startChildCaddy(t, "{\n\t"+caddytest.GlobalOptions("")+"}\n"+instanceSite("B", portB), fmt.Sprintf("127.0.0.1:%d", portB))
		if err == nil {
			err = caddytest.TryLoadCaddyfile(fmt.Sprintf(`{
	%s
	log default {
		level ERROR
	}
}

http://localhost:%d {
	reverse_proxy 127.0.0.1:%d 127.0.0.1:%d {
		lb_policy round_robin
	}
}
%s`, caddytest.GlobalOptions(""), port, portA, portB, instanceSite("A", portA)))
		}
		if err == nil {
			break
		}
		if !caddytest.AddrInUse(err) || attempt == 4 {
			t.Fatal(err)
		}
	}
	caddytest.WaitHTTP(t, fmt.Sprintf("http://localhost:%d/", port))
	upstream.Reset()
	return portA, portB
}

// TestTwoInstancesBehindABalancer runs two Gatehouse instances — one in
// this process, one in a separate Caddy process — with one secret and one
// Redis behind a round-robin reverse proxy. A login may start on one and
// end on the other, a session works on both, and a logout on either ends
// it on both, cached copies included.
func TestTwoInstancesBehindABalancer(t *testing.T) {
	if err := idp.Provider.SetAutoLogin("alice"); err != nil {
		t.Fatal(err)
	}
	portA, portB := startInstances(t)

	// Logins through the balancer: record which instance began each and
	// which finished it.
	crossed := 0
	var b *browsertest.Browser
	var tok string
	for i := range 4 {
		b = browsertest.NewBrowser(t)
		next := site + "/home"
		var began, finished string
		for range 10 {
			resp := b.Get(next)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			u, _ := url.Parse(next)
			switch {
			case strings.HasPrefix(u.Path, "/.gatehouse/login"):
				began = resp.Header.Get("X-Instance")
			case strings.HasPrefix(u.Path, "/.gatehouse/callback/"):
				finished = resp.Header.Get("X-Instance")
			}
			if resp.StatusCode == http.StatusOK {
				if u.Path != "/home" || !strings.Contains(string(body), `"X-Auth-User-Id"`) {
					t.Fatalf("login %d ended at %s with %s", i, next, body)
				}
				break
			}
			loc, err := resp.Location()
			if err != nil {
				t.Fatalf("login %d: %d at %s: %s", i, resp.StatusCode, next, body)
			}
			next = loc.String()
		}
		if began == "" || finished == "" {
			t.Fatalf("login %d: began on %q, finished on %q", i, began, finished)
		}
		if began != finished {
			crossed++
		}
		tok = b.Cookie(site, cookieName)
		if tok == "" {
			t.Fatalf("login %d: no session cookie", i)
		}
	}
	if crossed == 0 {
		t.Fatal("no login began on one instance and finished on the other")
	}

	// The last session works through the balancer on both instances, and
	// straight on each (which caches it for session_cache, 5s).
	served := map[string]int{}
	for range 6 {
		resp := request(t, "GET", "/", tok, map[string]string{"Accept": "application/json"}, "")
		if status(t, resp) != 200 {
			t.Fatalf("session through the balancer: %d", resp.StatusCode)
		}
		served[resp.Header.Get("X-Instance")]++
	}
	if served["A"] == 0 || served["B"] == 0 {
		t.Fatalf("the balancer did not use both instances: %v", served)
	}
	for _, p := range []int{portA, portB} {
		if code := status(t, instanceRequest(t, p, tok)); code != 200 {
			t.Fatalf("session on the instance at %d: %d", p, code)
		}
	}

	// Logout through the balancer, on whichever instance it lands.
	resp := signOutWith(t, b, tok)
	loggedOutOn := resp.Header.Get("X-Instance")
	if code := status(t, resp); code != http.StatusSeeOther {
		t.Fatalf("logout: %d", code)
	}
	loggedOut := time.Now()
	// Both instances refuse the session well before their caches' 5s:
	// the other instance heard of the logout over Redis pub/sub.
	var lag time.Duration
	for _, p := range []int{portA, portB} {
		for {
			code := status(t, instanceRequest(t, p, tok))
			if code == http.StatusUnauthorized {
				break
			}
			if code != 200 || time.Since(loggedOut) > time.Second {
				t.Fatalf("instance at %d after logout on %s: %d %v after the logout", p, loggedOutOn, code, time.Since(loggedOut))
			}
			time.Sleep(5 * time.Millisecond)
		}
		lag = max(lag, time.Since(loggedOut))
	}
	t.Logf("two instances (in-process A, separate process B) behind a round-robin balancer: 4 logins, %d began on one instance and finished on the other; session served by %v; logout on %s refused on both within %v",
		crossed, served, loggedOutOn, lag.Round(time.Millisecond))
}
