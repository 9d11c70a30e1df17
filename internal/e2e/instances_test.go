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

	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/caddytest"
)

// childCaddyfileEnv names the Caddyfile a re-executed test binary runs
// as a separate Caddy process (see startChildCaddy).
const childCaddyfileEnv = "GATEHOUSE_E2E_CHILD_CADDYFILE"

// caddyCLIEnv, set, makes a re-executed test binary Caddy's command line
// with Gatehouse in it, as the gatehouse binary is (see runCaddyCLI).
const caddyCLIEnv = "GATEHOUSE_E2E_CADDY_CLI"

// runCaddyCLI is the whole life of the test binary run as Caddy's
// command line.
func runCaddyCLI() {
	caddycmd.Main() // exits on error
	os.Exit(0)
}

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
	return startChild(t, dir, addr, []string{childCaddyfileEnv + "=" + path})
}

// startCaddyCLI is startChildCaddy through Caddy's command line, as an
// operator runs it: "caddy run --config Caddyfile" (this test binary,
// re-executed as the gatehouse binary, see runCaddyCLI).
func startCaddyCLI(t *testing.T, caddyfile, addr string) error {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(path, []byte(caddyfile), 0o600); err != nil {
		t.Fatal(err)
	}
	return startChild(t, dir, addr, cliEnv(dir), "run", "--config", path, "--adapter", "caddyfile")
}

// cliEnv is the environment of this test binary run as Caddy's command
// line, with Caddy's data and config directories in dir.
func cliEnv(dir string) []string {
	return []string{caddyCLIEnv + "=1", "XDG_DATA_HOME=" + filepath.Join(dir, "data"), "XDG_CONFIG_HOME=" + filepath.Join(dir, "config")}
}

// startChild runs this test binary again with env and args, its output
// in dir, and waits until addr answers (see startChildCaddy).
func startChild(t *testing.T, dir, addr string, env []string, args ...string) error {
	t.Helper()
	out, err := os.Create(filepath.Join(dir, "output"))
	if err != nil {
		t.Fatal(err)
	}
	output := func() string {
		b, _ := os.ReadFile(out.Name())
		return string(b)
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), env...)
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
	return instanceSiteWith(name, port, "secret "+secret)
}

// instanceSiteWith is instanceSite with its own secret lines.
func instanceSiteWith(name string, port int, secrets string) string {
	return fmt.Sprintf(`
http://localhost:%d {
	header X-Instance %s
	gatehouse {
		%s
		store redis redis://%s/0
		external_url %s
		%s
		public /public/*
	}
	reverse_proxy %s
}
`, port, name, secrets, redisSrv.Addr, site, config{}.oidc(), upstream.Addr())
}

// revocationBound is how soon an ended session is refused on every
// instance sharing the store.
const revocationBound = time.Second

// refusedEverywhere waits until every instance at ports refuses each of
// toks (401), failing the test when one answers anything but 200 or 401,
// or still 200 revocationBound after since; it returns how long it took.
func refusedEverywhere(t *testing.T, what string, since time.Time, ports []int, toks ...string) time.Duration {
	t.Helper()
	for _, tok := range toks {
		for _, p := range ports {
			for {
				code := status(t, instanceRequest(t, p, tok))
				if code == http.StatusUnauthorized {
					break
				}
				if code != 200 || time.Since(since) > revocationBound {
					t.Fatalf("%s: the instance at %d still answers %d %v after", what, p, code, time.Since(since))
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
	}
	return time.Since(since)
}

// instanceRequest sends GET /direct with the session straight to one
// instance, asking for JSON.
func instanceRequest(t *testing.T, instPort int, tok string) *http.Response {
	t.Helper()
	return instanceDo(t, instPort, http.MethodGet, "/direct", tok, map[string]string{"Accept": "application/json"}, "")
}

// instanceDo sends method path with the session cookie tok straight to
// one instance, as the balancer passes it on.
func instanceDo(t *testing.T, instPort int, method, path, tok string, hdr map[string]string, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, fmt.Sprintf("http://127.0.0.1:%d%s", instPort, path), strings.NewReader(body))
	req.Host = strings.TrimPrefix(site, "http://")
	if tok != "" {
		req.AddCookie(&http.Cookie{Name: cookieName, Value: tok})
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e2eClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// startTwoInstances runs two Gatehouse instances sharing the test Redis
// and secret — A in this process, B in a separate Caddy process — behind
// a round-robin balancer at site (what users see), and returns A's and
// B's ports. B is stopped when the test ends.
func startTwoInstances(t *testing.T) (portA, portB int) {
	t.Helper()
	in := startInstances(t, instanceOptions{})
	return in.portA, in.portB
}

// instanceOptions say how startInstances runs the two instances.
type instanceOptions struct {
	// secrets are the gatehouse block's secret lines; default "secret "
	// and the tests' secret.
	secrets string
	// admin gives each instance an admin endpoint (A's also serves the
	// balancer when A runs in this process).
	admin bool
	// separate runs A in a separate process too, both started as an
	// operator does ("caddy run"), the balancer alone in this process.
	separate bool
}

// instances are two Gatehouse instances sharing the test Redis behind a
// round-robin balancer at site.
type instances struct {
	instanceOptions
	portA, portB   int
	adminA, adminB string // "" without admin endpoints
}

// startInstances starts two instances as o says; each port is tried
// again if taken meanwhile. Separate processes are stopped when the test
// ends.
func startInstances(t *testing.T, o instanceOptions) *instances {
	t.Helper()
	if o.secrets == "" {
		o.secrets = "secret " + secret
	}
	in := &instances{instanceOptions: o}
	for attempt := 0; ; attempt++ {
		ports, err := testsupport.FreePorts(5) // distinct: one port twice is not "in use" but a config error
		if err != nil {
			t.Fatal(err)
		}
		usePort(t, ports[0])
		in.portA, in.portB = ports[1], ports[2]
		if o.admin {
			in.adminA, in.adminB = fmt.Sprintf("127.0.0.1:%d", ports[3]), fmt.Sprintf("127.0.0.1:%d", ports[4])
		}
		start := startChildCaddy
		if o.separate {
			start = startCaddyCLI
		}
		err = start(t, in.child("B", in.portB, in.adminB, o.secrets), fmt.Sprintf("127.0.0.1:%d", in.portB))
		if err == nil && o.separate {
			err = start(t, in.child("A", in.portA, in.adminA, o.secrets), fmt.Sprintf("127.0.0.1:%d", in.portA))
		}
		if err == nil {
			err = caddytest.TryLoadCaddyfile(in.parent(o.secrets))
		}
		if err == nil {
			break
		}
		if !caddytest.AddrInUse(err) || attempt == 4 {
			t.Fatal(err)
		}
	}
	caddytest.WaitHTTP(t, site+"/public/ready")
	upstream.Reset()
	return in
}

// child is the Caddyfile of an instance in a process of its own.
func (in *instances) child(name string, port int, admin, secrets string) string {
	return "{\n\t" + caddytest.GlobalOptions(admin) + "}\n" + instanceSiteWith(name, port, secrets)
}

// parent is this process's Caddyfile: the balancer, and A unless it runs
// separately.
func (in *instances) parent(secrets string) string {
	admin, a := "", ""
	if !in.separate {
		admin, a = in.adminA, instanceSiteWith("A", in.portA, secrets)
	}
	return fmt.Sprintf(`{
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
%s`, caddytest.GlobalOptions(admin), port, in.portA, in.portB, a)
}

// reload gives both instances the secret lines secrets, as `caddy reload`
// does: B first, then A.
func (in *instances) reload(t *testing.T, secrets string) {
	t.Helper()
	caddyReload(t, in.adminB, in.child("B", in.portB, in.adminB, secrets))
	if in.separate {
		caddyReload(t, in.adminA, in.child("A", in.portA, in.adminA, secrets))
	} else {
		caddyReload(t, in.adminA, in.parent(secrets))
	}
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
	portA, portB := startTwoInstances(t)

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
	// Both instances refuse the session well before their caches' 5s:
	// the other instance heard of the logout over Redis pub/sub.
	lag := refusedEverywhere(t, "logout on "+loggedOutOn, time.Now(), []int{portA, portB}, tok)
	t.Logf("two instances (in-process A, separate process B) behind a round-robin balancer: 4 logins, %d began on one instance and finished on the other; session served by %v; logout on %s refused on both within %v",
		crossed, served, loggedOutOn, lag.Round(time.Millisecond))
}
