// Command gatehouse is Caddy with the Gatehouse authentication plugin compiled in.
//
// It is Caddy's command line, unchanged, except that "gatehouse version"
// (and "gatehouse --version") prints Gatehouse's version on a second line,
// after Caddy's:
//
//	v2.11.9 h1:…
//	Gatehouse v1.2.0
//
// and that "gatehouse sessions …" is short for Caddy's "gatehouse
// gatehouse sessions …" (the command a caddy built with the plugin runs as
// "caddy gatehouse sessions …").
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
	os.Args = expandShorthand(os.Args)
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

// expandShorthand turns "gatehouse sessions …" into the registered
// command "gatehouse gatehouse sessions …".
func expandShorthand(args []string) []string {
	if len(args) > 1 && args[1] == "sessions" {
		return append([]string{args[0], "gatehouse"}, args[1:]...)
	}
	return args
}
