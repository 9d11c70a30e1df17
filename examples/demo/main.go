// Command demo runs Gatehouse locally with nothing to configure: a
// development OpenID Connect provider, a small app that shows the identity
// headers it receives, and Caddy with Gatehouse in front of the app.
//
//	go run ./examples/demo
//
// Then open http://localhost:8080 and sign in as one of the demo users.
package main

import (
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/devidp"
)

//go:embed Caddyfile
var caddyfile []byte

func main() {
	port := flag.Int("port", 8080, "port of the protected site (http://localhost:PORT)")
	idpAddr := flag.String("idp", "127.0.0.1:9000", "address of the development identity provider")
	flag.Parse()

	site := fmt.Sprintf("localhost:%d", *port)
	clientSecret := randomString()
	idp, err := devidp.Listen(*idpAddr, devidp.Options{
		Clients: []devidp.Client{{
			ID:           "gatehouse-demo",
			Secret:       clientSecret,
			Name:         "the Gatehouse demo",
			RedirectURIs: []string{"http://" + site + "/.gatehouse/callback/dev"},
		}},
	})
	if err != nil {
		log.Fatalf("demo: starting the identity provider: %v", err)
	}
	defer idp.Close()

	app, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatalf("demo: starting the app: %v", err)
	}
	go func() { _ = http.Serve(app, http.HandlerFunc(showHeaders)) }()

	if os.Getenv("GATEHOUSE_SECRET") == "" {
		os.Setenv("GATEHOUSE_SECRET", randomString())
	}
	os.Setenv("DEMO_CLIENT_SECRET", clientSecret)
	os.Setenv("DEMO_HTTP_PORT", fmt.Sprint(*port))
	os.Setenv("DEMO_HOST", site)
	os.Setenv("DEMO_ISSUER", idp.URL)
	os.Setenv("DEMO_UPSTREAM", app.Addr().String())

	cfg, _, err := caddyconfig.GetAdapter("caddyfile").Adapt(caddyfile, map[string]any{"filename": "examples/demo/Caddyfile"})
	if err != nil {
		log.Fatalf("demo: %v", err)
	}
	if err := caddy.Load(cfg, true); err != nil {
		log.Fatalf("demo: starting Caddy: %v", err)
	}
	fmt.Printf("\nGatehouse demo is running.\n\n  Open http://%s and sign in as a demo user.\n  Identity provider: %s\n\nPress Ctrl-C to stop.\n\n", site, idp.URL)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	_ = caddy.Stop()
}

func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
