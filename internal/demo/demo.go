// Package demo runs the local Gatehouse demo: the development OIDC
// provider, a small app that shows the identity headers it receives, and
// Caddy with Gatehouse in front of the app. examples/demo is its command;
// the browser test drives it.
package demo

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/devidp"
)

// Options configures the demo.
type Options struct {
	// Port of the protected site, served as http://localhost:PORT.
	Port int
	// IdPAddr is where the development identity provider listens.
	IdPAddr string
	// Caddyfile is the site configuration (examples/demo/Caddyfile); its
	// {$DEMO_*} values are filled in by Start.
	Caddyfile []byte
	// Progress, when set, is told each step as it starts, so a person
	// waiting sees what is happening.
	Progress func(step string)
}

// Demo is a running demo.
type Demo struct {
	// SiteURL is the protected site, e.g. http://localhost:8080.
	SiteURL string
	// IdP is the development identity provider.
	IdP *devidp.Server

	app net.Listener
}

// Start runs the demo until Close. Caddy runs in this process. Every
// listener is bound to the loopback interface: the demo is for this
// machine only.
func Start(opts Options) (*Demo, error) {
	progress := opts.Progress
	if progress == nil {
		progress = func(string) {}
	}
	if err := checkLoopback(opts.IdPAddr); err != nil {
		return nil, fmt.Errorf("identity provider address: %w", err)
	}
	site := fmt.Sprintf("localhost:%d", opts.Port)
	clientSecret := randomString()
	progress("Starting the development identity provider on " + opts.IdPAddr)
	idp, err := devidp.Listen(opts.IdPAddr, devidp.Options{
		Clients: []devidp.Client{{
			ID:           "gatehouse-demo",
			Secret:       clientSecret,
			Name:         "the Gatehouse demo",
			RedirectURIs: []string{"http://" + site + "/.gatehouse/callback/dev"},
			// Ending a session on the provider's own page signs the user
			// out of the demo site at once.
			BackchannelLogoutURI: "http://" + site + "/.gatehouse/backchannel-logout/dev",
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("starting the identity provider: %w", err)
	}
	progress("Starting the demo app (it shows the headers it receives)")
	app, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		idp.Close()
		return nil, fmt.Errorf("starting the app: %w", err)
	}
	go func() { _ = http.Serve(app, http.HandlerFunc(showHeaders)) }()

	if os.Getenv("GATEHOUSE_SECRET") == "" {
		os.Setenv("GATEHOUSE_SECRET", randomString())
	}
	os.Setenv("DEMO_CLIENT_SECRET", clientSecret)
	os.Setenv("DEMO_HTTP_PORT", fmt.Sprint(opts.Port))
	os.Setenv("DEMO_HOST", site)
	os.Setenv("DEMO_ISSUER", idp.URL)
	os.Setenv("DEMO_UPSTREAM", app.Addr().String())

	d := &Demo{SiteURL: "http://" + site, IdP: idp, app: app}
	progress(fmt.Sprintf("Starting Caddy with Gatehouse on 127.0.0.1:%d (examples/demo/Caddyfile)", opts.Port))
	cfg, _, err := caddyconfig.GetAdapter("caddyfile").Adapt(opts.Caddyfile, map[string]any{"filename": "examples/demo/Caddyfile"})
	if err != nil {
		d.Close()
		return nil, err
	}
	if err := caddy.Load(cfg, true); err != nil {
		d.Close()
		return nil, fmt.Errorf("starting Caddy: %w", err)
	}
	progress("Waiting for " + d.SiteURL + " to answer")
	if err := waitReady(opts.Port, site); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// checkLoopback accepts a host:port whose host is localhost or a
// loopback IP address.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("%s is not on this machine only: use 127.0.0.1:<port>", addr)
	}
	return nil
}

// waitReady polls the site on 127.0.0.1:port until it answers (anything:
// its front page redirects to the sign-in), for up to 10 seconds.
func waitReady(port int, host string) error {
	client := &http.Client{
		Timeout:       time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/public/", port), nil)
		if err != nil {
			return err
		}
		req.Host = host
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the site did not answer: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Close stops Caddy, the app and the identity provider.
func (d *Demo) Close() {
	_ = caddy.Stop()
	d.app.Close()
	d.IdP.Close()
}

func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
