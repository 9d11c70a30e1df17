// Command gatehouse is Caddy with the Gatehouse authentication plugin compiled in.
//
// It is Caddy's command line, unchanged, except that "gatehouse version"
// (and "gatehouse --version") prints Gatehouse's version on a second line,
// after Caddy's:
//
//	v2.11.9 h1:…
//	Gatehouse v1.2.0
package main

import (
	"fmt"
	"io"
	"os"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	"github.com/gatehouse-auth/gatehouse"
)

func main() {
	caddycmd.Main() // exits on error; returns after a command that ends
	printGatehouseVersion(os.Stdout, os.Args[1:])
}

// printGatehouseVersion adds Gatehouse's version to the output of Caddy's
// version command. Caddy registers "version" itself and a command cannot
// be registered twice, so this runs after it.
func printGatehouseVersion(w io.Writer, args []string) {
	if len(args) == 1 && (args[0] == "version" || args[0] == "--version") {
		fmt.Fprintln(w, "Gatehouse "+gatehouse.Version())
	}
}
