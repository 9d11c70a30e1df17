// Package gatehouse is the Gatehouse authentication plugin for Caddy.
//
// Importing this package registers the http.handlers.gatehouse module, the
// gatehouse Caddyfile directive, the admin.api.gatehouse module and the
// "gatehouse" command:
//
//	xcaddy build --with github.com/gatehouse-auth/gatehouse
package gatehouse

import (
	// Register the handler module, the Caddyfile directive, the admin API
	// module and the command.
	_ "github.com/gatehouse-auth/gatehouse/admin"
	_ "github.com/gatehouse-auth/gatehouse/caddyfile"
	_ "github.com/gatehouse-auth/gatehouse/module"
)
