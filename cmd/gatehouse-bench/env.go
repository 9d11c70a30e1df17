package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/assertion"
	"github.com/gatehouse-auth/gatehouse/internal/devidp"
	"github.com/gatehouse-auth/gatehouse/internal/identity"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/fakegithub"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/redistest"
)

const (
	// sessionCookie is Gatehouse's default session cookie name on a
	// host-only site.
	sessionCookie = "__Host-gatehouse"
	// providerName is the OIDC provider's name in the Caddyfile.
	providerName = "corp"
	// clientID is the OAuth client of every Gatehouse site at the dev IdP.
	clientID = "gatehouse-bench"
	// upstreamBodySize is the size of the upstream's answer.
	upstreamBodySize = 100
	// caddyStartTimeout bounds the wait for Caddy to serve every site.
	caddyStartTimeout = 60 * time.Second
	// caddyStopTimeout bounds Caddy's graceful shutdown before SIGKILL.
	caddyStopTimeout = 5 * time.Second
)

// target is one site of the Caddyfile.
type target struct {
	name string
	port int
	host string // Host header: localhost:PORT, which the site address matches
	dial string // where to connect: 127.0.0.1:PORT
	// header is the credential every request carries: "Cookie:
	// __Host-gatehouse=…" for a Gatehouse site, "Authorization: Bearer …"
	// for the jwt target, else "".
	header string
	// authPort is, for forward_auth, the port of the Gatehouse site its
	// forward_auth asks.
	authPort int
}

// url is the address clients use: the site's own name, dialled on 127.0.0.1.
func (t *target) url() string { return "http://" + t.host + "/" }

// benchEnv is everything setup started.
type benchEnv struct {
	targets   []*target // in the order of -targets
	byName    map[string]*target
	redis     *redistest.Redis // nil when no Redis target runs
	idp       *devidp.Server
	upstream  *upstream
	caddyBin  string
	caddyfile string // path
	caddyLog  string // path
	adminAddr string // with -keep
	caddy     *exec.Cmd
	// actions issues the jwt target's tokens (GitHub Actions' token
	// service, faked).
	actions *fakegithub.Actions
}

// jwtAudience is the audience of the jwt target's tokens.
const jwtAudience = "gatehouse-bench"

// setup starts the upstream, Redis, the dev IdP and Caddy, and logs in to
// every Gatehouse site. Everything it starts is stopped by cl.
func setup(ctx context.Context, o *options, repo, tmp string, cl *cleanups) (*benchEnv, error) {
	env := &benchEnv{byName: map[string]*target{}}
	needRedis := false
	// A port per target and one more for forward_auth's Gatehouse site,
	// all distinct.
	ports, err := testsupport.FreePorts(len(o.targets) + 1)
	if err != nil {
		return nil, err
	}
	for i, name := range o.targets {
		port := ports[i]
		t := &target{name: name, port: port, host: fmt.Sprintf("localhost:%d", port), dial: fmt.Sprintf("127.0.0.1:%d", port)}
		if name == targetForwardAuth {
			t.authPort = ports[len(o.targets)]
		}
		env.targets = append(env.targets, t)
		env.byName[name] = t
		needRedis = needRedis || name == targetRedis || name == targetRedisCache
	}

	// Build Caddy first: it is the slow part and needs nothing running.
	if o.caddyBin != "" {
		env.caddyBin = o.caddyBin
	} else {
		env.caddyBin = filepath.Join(tmp, "gatehouse")
		logf("building Caddy with Gatehouse (go build -o %s ./cmd/gatehouse)", env.caddyBin)
		began := time.Now()
		cmd := exec.CommandContext(ctx, "go", "build", "-buildvcs=false", "-o", env.caddyBin, "./cmd/gatehouse")
		cmd.Dir = repo
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("building ./cmd/gatehouse: %w", err)
		}
		logf("built in %s", time.Since(began).Round(100*time.Millisecond))
	}

	up, err := startUpstream()
	if err != nil {
		return nil, err
	}
	env.upstream = up
	cl.add(up.close)

	if needRedis {
		if _, err := exec.LookPath("redis-server"); err != nil {
			return nil, errors.New("redis-server is not on PATH; the redis targets need it (Debian/Ubuntu: apt-get install -y redis-server), or leave them out with -targets baseline,memory")
		}
		// Never fall back to miniredis: its figures would mean nothing.
		_ = os.Setenv(redistest.RequireRedisEnv, "1")
		r, err := redistest.StartRedis()
		if err != nil {
			return nil, fmt.Errorf("starting redis-server: %w", err)
		}
		if !r.Real {
			_ = r.Close()
			return nil, errors.New("redistest.StartRedis gave miniredis, not redis-server")
		}
		env.redis = r
		cl.add(func() { _ = r.Close() })
		logf("redis-server on %s", r.Addr)
	}

	if _, ok := env.byName[targetJWT]; ok {
		env.actions = fakegithub.NewActions()
		cl.add(env.actions.Close)
	}

	clientSecret := randomHex(16)
	var redirects []string
	for _, t := range env.targets {
		if t.name != targetBaseline && t.name != targetHeaders {
			redirects = append(redirects, "http://"+t.host+"/.gatehouse/callback/"+providerName)
		}
	}
	if len(redirects) > 0 {
		idp, err := devidp.Listen("127.0.0.1:0", devidp.Options{Clients: []devidp.Client{{
			ID: clientID, Secret: clientSecret, RedirectURIs: redirects, Name: "gatehouse-bench",
		}}})
		if err != nil {
			return nil, err
		}
		env.idp = idp
		cl.add(idp.Close)
		if err := idp.Provider.SetAutoLogin("alice"); err != nil {
			return nil, err
		}
		logf("dev IdP at %s (auto-login alice)", idp.URL)
	}

	if o.keep {
		port, err := testsupport.FreePort()
		if err != nil {
			return nil, err
		}
		env.adminAddr = fmt.Sprintf("127.0.0.1:%d", port)
	}
	env.caddyfile = filepath.Join(tmp, "Caddyfile")
	if err := os.WriteFile(env.caddyfile, []byte(env.makeCaddyfile(randomHex(32), clientSecret)), 0o600); err != nil {
		return nil, err
	}
	if err := env.startCaddy(ctx, tmp, cl); err != nil {
		return nil, err
	}

	for _, t := range env.targets {
		if t.name == targetBaseline || t.name == targetHeaders {
			continue
		}
		if t.name == targetJWT {
			// Valid for longer than any run.
			t.header = "Authorization: Bearer " + env.actions.Token(jwtAudience, map[string]any{"exp": time.Now().Add(24 * time.Hour).Unix()})
			continue
		}
		c, err := env.login(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("%s: login through the dev IdP: %w", t.name, err)
		}
		t.header = "Cookie: " + sessionCookie + "=" + c
	}
	// The baseline (and the headers target) get the same request: a
	// session cookie of the same size (a bare proxy passes it on;
	// Gatehouse strips it).
	for _, name := range []string{targetBaseline, targetHeaders} {
		if t := env.byName[name]; t != nil {
			t.header = "Cookie: " + sessionCookie + "=" + randomHex(32)
		}
	}
	for _, t := range env.targets {
		if err := env.check(ctx, t); err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
	}
	logf("all %d sites answer 200 from the upstream; Gatehouse sites with a real session", len(env.targets))
	return env, nil
}

// makeCaddyfile returns one Caddyfile with a site per target.
func (env *benchEnv) makeCaddyfile(secret, clientSecret string) string {
	var b strings.Builder
	admin := "off"
	if env.adminAddr != "" {
		admin = env.adminAddr
	}
	fmt.Fprintf(&b, "{\n\tadmin %s\n\tpersist_config off\n\tauto_https off\n\tlog default {\n\t\tlevel ERROR\n\t}\n}\n", admin)
	for _, t := range env.targets {
		if t.name == targetForwardAuth {
			env.forwardAuthSites(&b, t, secret, clientSecret)
			continue
		}
		fmt.Fprintf(&b, "\n# %s\nhttp://%s {\n\tbind 127.0.0.1\n", t.name, t.host)
		if t.name == targetHeaders {
			fmt.Fprintf(&b, "\treverse_proxy %s {\n", env.upstream.addr)
			for _, h := range identityHeaders(t.host) {
				fmt.Fprintf(&b, "\t\theader_up %s %q\n", h[0], h[1])
			}
			b.WriteString("\t}\n}\n")
			continue
		}
		if t.name != targetBaseline && t.name != targetHeaders {
			fmt.Fprintf(&b, "\tgatehouse {\n\t\tsecret %s\n", secret)
			switch t.name {
			case targetRedis:
				fmt.Fprintf(&b, "\t\tstore redis redis://%s/0\n\t\tsession_cache off\n", env.redis.Addr)
			case targetRedisCache:
				fmt.Fprintf(&b, "\t\tstore redis redis://%s/0\n", env.redis.Addr)
			case targetJWT:
				fmt.Fprintf(&b, "\t\tjwt_issuer github_actions {\n\t\t\taudience %s\n\t\t\tbase_url %s\n\t\t}\n", jwtAudience, env.actions.BaseURL())
			}
			fmt.Fprintf(&b, "\t\tprovider oidc %s {\n\t\t\tissuer %s\n\t\t\tclient_id %s\n\t\t\tclient_secret %s\n\t\t}\n\t}\n",
				providerName, env.idp.URL, clientID, clientSecret)
		}
		fmt.Fprintf(&b, "\treverse_proxy %s\n}\n", env.upstream.addr)
	}
	return b.String()
}

// identityHeaders are the headers the upstream gets from the memory site
// for the bench's user (alice at the development provider), with an
// X-Auth-Jwt signed as Gatehouse signs it: the headers target sends them.
func identityHeaders(host string) [][2]string {
	u := identity.User{UserID: providerName + ":" + devidp.SubjectFor("alice"), Login: "alice", Email: "alice@example.com",
		Name: "Alice", Provider: providerName, Groups: []string{"admins", "staff"}}
	signer, err := assertion.New(randomHex(32))
	if err != nil {
		panic(err)
	}
	jwt, _, err := signer.Token("bench", "http://"+host, host, &u)
	if err != nil {
		panic(err)
	}
	return [][2]string{
		{"X-Auth-User-Id", u.UserID}, {"X-Auth-User", u.Login}, {"X-Auth-Email", u.Email}, {"X-Auth-Name", u.Name},
		{"X-Auth-Provider", u.Provider}, {"X-Auth-Groups", strings.Join(u.Groups, ",")}, {"X-Auth-Jwt", jwt},
	}
}

// forwardAuthSites writes the forward_auth target: a plain proxy whose
// forward_auth asks a Gatehouse site (memory store) at /.gatehouse/auth,
// with Gatehouse's own paths (login, callback) proxied to that site, as a
// deployment in front of nginx or Traefik has it.
func (env *benchEnv) forwardAuthSites(b *strings.Builder, t *target, secret, clientSecret string) {
	auth := fmt.Sprintf("127.0.0.1:%d", t.authPort)
	fmt.Fprintf(b, "\n# %s\nhttp://%s {\n\tbind 127.0.0.1\n", t.name, t.host)
	fmt.Fprintf(b, "\thandle /.gatehouse/* {\n\t\treverse_proxy %s\n\t}\n", auth)
	fmt.Fprintf(b, "\thandle {\n\t\tforward_auth %s {\n\t\t\turi /.gatehouse/auth\n"+
		"\t\t\tcopy_headers X-Auth-User-Id X-Auth-User X-Auth-Email X-Auth-Name X-Auth-Provider X-Auth-Groups\n\t\t}\n"+
		"\t\treverse_proxy %s\n\t}\n}\n", auth, env.upstream.addr)
	fmt.Fprintf(b, "\n# %s: the Gatehouse site it asks\nhttp://localhost:%d {\n\tbind 127.0.0.1\n", t.name, t.authPort)
	fmt.Fprintf(b, "\tgatehouse {\n\t\tsecret %s\n\t\texternal_url http://%s\n", secret, t.host)
	fmt.Fprintf(b, "\t\tprovider oidc %s {\n\t\t\tissuer %s\n\t\t\tclient_id %s\n\t\t\tclient_secret %s\n\t\t}\n\t}\n}\n",
		providerName, env.idp.URL, clientID, clientSecret)
}

// startCaddy runs the built binary on the Caddyfile and waits until every
// site answers.
func (env *benchEnv) startCaddy(ctx context.Context, tmp string, cl *cleanups) error {
	home := filepath.Join(tmp, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return err
	}
	env.caddyLog = filepath.Join(tmp, "caddy.log")
	logFile, err := os.Create(env.caddyLog)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := exec.Command(env.caddyBin, "run", "--config", env.caddyfile, "--adapter", "caddyfile")
	cmd.Dir = tmp
	// Keep Caddy's data and config (instance id, autosave) out of the user's home.
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_DATA_HOME="+filepath.Join(home, "data"), "XDG_CONFIG_HOME="+filepath.Join(home, "config"))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", env.caddyBin, err)
	}
	env.caddy = cmd
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	cl.add(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(caddyStopTimeout):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	logf("Caddy (pid %d) starting with %s", cmd.Process.Pid, env.caddyfile)

	deadline := time.Now().Add(caddyStartTimeout)
	client := localClient(nil)
	for _, t := range env.targets {
		for {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, t.url()+".bench-ready", nil)
			resp, err := client.Do(req)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				break
			}
			select {
			case <-exited:
				return fmt.Errorf("caddy exited before serving %s:\n%s", t.host, tail(env.caddyLog, 3000))
			case <-ctx.Done():
				return ctx.Err()
			default:
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("caddy did not serve %s within %v:\n%s", t.host, caddyStartTimeout, tail(env.caddyLog, 3000))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// login signs in at a Gatehouse site the way a browser does (GET /,
// following the redirects through the dev IdP, which signs alice in by
// itself) and returns the session cookie's value.
func (env *benchEnv) login(ctx context.Context, t *target) (string, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return "", err
	}
	client := localClient(jar)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, t.url(), nil)
	req.Header.Set("Accept", "text/html")
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("ended on %s with %d: %s", resp.Request.URL, resp.StatusCode, bytes.TrimSpace(body))
	}
	u, _ := url.Parse(t.url())
	for _, c := range jar.Cookies(u) {
		if c.Name == sessionCookie {
			return c.Value, nil
		}
	}
	return "", fmt.Errorf("no %s cookie after the login (ended on %s)", sessionCookie, resp.Request.URL)
}

// check sends the benchmark's request once (with its credential alone, no jar,
// no redirects) and requires a 200 from the upstream, with an identity for
// a Gatehouse site.
func (env *benchEnv) check(ctx context.Context, t *target) error {
	client := localClient(nil)
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	before := env.upstream.authed.Load()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, t.url(), nil)
	if k, v, ok := strings.Cut(t.header, ": "); ok {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(body) != upstreamBodySize {
		return fmt.Errorf("the benchmark request got %d (%d bytes), want 200 from the upstream", resp.StatusCode, len(body))
	}
	if t.name != targetBaseline && t.name != targetHeaders && env.upstream.authed.Load() == before {
		return errors.New("the upstream got the request without X-Auth-User-Id")
	}
	return nil
}

func (env *benchEnv) printKeep() {
	fmt.Println()
	fmt.Println("-keep: everything stays up until Ctrl-C.")
	fmt.Printf("  Caddyfile:  %s\n  Caddy log:  %s (pid %d)\n", env.caddyfile, env.caddyLog, env.caddy.Process.Pid)
	fmt.Printf("  pprof:      go tool pprof 'http://%s/debug/pprof/profile?seconds=10'\n", env.adminAddr)
	for _, t := range env.targets {
		h := ""
		if t.header != "" {
			h = fmt.Sprintf(" -H '%s'", t.header)
		}
		fmt.Printf("  %-12s wrk -t2 -c32 -d10s --latency -H 'Host: %s'%s http://%s/\n", t.name, t.host, h, t.dial)
	}
	if env.redis != nil {
		fmt.Printf("  redis:      redis-cli -p %s\n", env.redis.Addr[strings.LastIndex(env.redis.Addr, ":")+1:])
	}
}

// localClient is an HTTP client that connects only to 127.0.0.1, dialling
// 127.0.0.1 for the name localhost (so that cookies are the site's).
func localClient(jar http.CookieJar) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Jar:     jar,
		Timeout: 15 * time.Second,
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
				host, port, err := net.SplitHostPort(addr)
				if err != nil {
					return nil, err
				}
				if host != "localhost" && host != "127.0.0.1" {
					return nil, fmt.Errorf("refusing to connect to %s: the benchmark only talks to 127.0.0.1", addr)
				}
				return d.DialContext(ctx, "tcp4", net.JoinHostPort("127.0.0.1", port))
			},
		},
	}
}

// upstream is the app behind every site: 200 with a fixed body.
type upstream struct {
	srv    *http.Server
	addr   string
	hits   atomic.Int64 // requests served
	authed atomic.Int64 // of which carried X-Auth-User-Id
}

func startUpstream() (*upstream, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	u := &upstream{addr: ln.Addr().String()}
	body := []byte(strings.Repeat("gatehouse-bench upstream says hello. ", 3))[:upstreamBodySize-1]
	body = append(body, '\n')
	u.srv = &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u.hits.Add(1)
			if r.Header.Get("X-Auth-User-Id") != "" {
				u.authed.Add(1)
			}
			h := w.Header()
			h["Content-Type"] = []string{"text/plain; charset=utf-8"}
			_, _ = w.Write(body)
		}),
	}
	go func() { _ = u.srv.Serve(ln) }()
	return u, nil
}

func (u *upstream) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := u.srv.Shutdown(ctx); err != nil {
		_ = u.srv.Close()
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// tail returns the last n bytes of a file.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(data) > n {
		data = data[len(data)-n:]
	}
	return string(data)
}
