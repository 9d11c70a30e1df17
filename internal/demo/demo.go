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
}

// Demo is a running demo.
type Demo struct {
	// SiteURL is the protected site, e.g. http://localhost:8080.
	SiteURL string
	// IdP is the development identity provider.
	IdP *devidp.Server

	app net.Listener
}

// Start runs the demo until Close. Caddy runs in this process.
func Start(opts Options) (*Demo, error) {
	site := fmt.Sprintf("localhost:%d", opts.Port)
	clientSecret := randomString()
	idp, err := devidp.Listen(opts.IdPAddr, devidp.Options{
		Clients: []devidp.Client{{
			ID:           "gatehouse-demo",
			Secret:       clientSecret,
			Name:         "the Gatehouse demo",
			RedirectURIs: []string{"http://" + site + "/.gatehouse/callback/dev"},
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("starting the identity provider: %w", err)
	}
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
	cfg, _, err := caddyconfig.GetAdapter("caddyfile").Adapt(opts.Caddyfile, map[string]any{"filename": "examples/demo/Caddyfile"})
	if err != nil {
		d.Close()
		return nil, err
	}
	if err := caddy.Load(cfg, true); err != nil {
		d.Close()
		return nil, fmt.Errorf("starting Caddy: %w", err)
	}
	return d, nil
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
