#!/usr/bin/env bash
# Builds Caddy with Gatehouse the way `xcaddy build --with
# github.com/gatehouse-auth/gatehouse=<this checkout>` does — a fresh main
# module that imports Caddy's standard modules and the plugin's root
# package — and checks that the module and the directive are registered.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
caddy_version=$(cd "$repo" && go list -m -f '{{.Version}}' github.com/caddyserver/caddy/v2)

cat > "$work/main.go" <<'GO'
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"
	_ "github.com/gatehouse-auth/gatehouse"
)

func main() { caddycmd.Main() }
GO
cd "$work"
go mod init caddy >/dev/null 2>&1
go mod edit -require "github.com/caddyserver/caddy/v2@$caddy_version" \
	-require github.com/gatehouse-auth/gatehouse@v0.0.0 \
	-replace "github.com/gatehouse-auth/gatehouse=$repo"
go mod tidy >/dev/null 2>&1
go build -o caddy .
# Outputs are read whole before grep looks at them: grep -q stops at the
# first match, and with pipefail the writer's SIGPIPE would fail the check.
modules=$(./caddy list-modules)
grep -qx 'http.handlers.gatehouse' <<<"$modules" || { echo "plugin check: module not registered"; exit 1; }
grep -qx 'admin.api.gatehouse' <<<"$modules" || { echo "plugin check: admin API module not registered"; exit 1; }
usage=$(./caddy gatehouse sessions list --help)
grep -q -- '--user' <<<"$usage" || { echo "plugin check: the gatehouse command is not registered"; exit 1; }
for p in oidc google github oauth2 gitlab microsoft gitee feishu lark; do
	grep -qx "http.handlers.gatehouse.providers.$p" <<<"$modules" || { echo "plugin check: provider module $p not registered"; exit 1; }
done
cat > Caddyfile <<'CF'
app.example.com {
	gatehouse {
		secret 0123456789abcdef0123456789abcdef0123
		provider oidc {
			issuer https://login.example.com
			client_id id
		}
	}
	reverse_proxy 127.0.0.1:3000
}
CF
adapted=$(./caddy adapt --config Caddyfile)
grep -q '"handler":"gatehouse"' <<<"$adapted" || { echo "plugin check: directive not registered"; exit 1; }
echo "plugin check: Caddy $caddy_version built with Gatehouse as a dependency; module, admin API module, command, provider modules and directive registered"
