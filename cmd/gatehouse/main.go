// Command gatehouse is Caddy with the Gatehouse authentication plugin compiled in.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/gatehouse-auth/gatehouse"
)

func main() {
	caddycmd.Main()
}
