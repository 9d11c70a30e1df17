// Command demo runs Gatehouse locally with nothing to configure: a
// development OpenID Connect provider, a small app that shows the identity
// headers it receives, and Caddy with Gatehouse in front of the app.
//
//	go run ./examples/demo
//
// The first run compiles Caddy, which takes minutes on a small machine;
// the demo then prints each step as it starts them. Open
// http://localhost:8080 and sign in as one of the demo users. Every
// listener is on 127.0.0.1 only. See README.md beside this file.
package main

import (
	_ "embed"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/gatehouse-auth/gatehouse/internal/demo"
)

//go:embed Caddyfile
var caddyfile []byte

func main() {
	port := flag.Int("port", 8080, "port of the protected site (http://localhost:PORT)")
	idpAddr := flag.String("idp", "127.0.0.1:9000", "address of the development identity provider (a loopback address)")
	flag.Parse()

	fmt.Println("Gatehouse demo")
	d, err := demo.Start(demo.Options{
		Port: *port, IdPAddr: *idpAddr, Caddyfile: caddyfile,
		Progress: func(step string) { fmt.Printf("  %s ...\n", step) },
	})
	if err != nil {
		log.Fatalf("demo: %v", err)
	}
	fmt.Printf("\nGatehouse demo is running.\n\n"+
		"  Open %s and sign in as Alice, Bob or Eve (Eve's email is unverified, so the app gets no X-Auth-Email for her).\n"+
		"  Identity provider: %s (its front page lists the users)\n\n"+
		"Press Ctrl-C to stop.\n\n", d.SiteURL, d.IdP.URL)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	d.Close()
}
