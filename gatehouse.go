// Package gatehouse is the Gatehouse authentication plugin for Caddy.
//
// Importing this package registers the http.handlers.gatehouse module and
// the gatehouse Caddyfile directive:
//
//	xcaddy build --with github.com/gatehouse-auth/gatehouse
package gatehouse

import (
	// Register the handler module and the Caddyfile directive.
	_ "github.com/gatehouse-auth/gatehouse/caddyfile"
	_ "github.com/gatehouse-auth/gatehouse/module"
)
