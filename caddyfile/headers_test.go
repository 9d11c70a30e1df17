package caddyfile_test

import (
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
)

// The access token's header counts only when it is sent: without
// pass_access_token its default name is free for another header, as the
// module has it; with it, the two clash at the renamed header's line.
func TestAccessTokenHeaderCountsOnlyWhenSent(t *testing.T) {
	body := "secret {env.GATEHOUSE_SECRET}\n" + okProvider + "\nheaders {\nuser X-Auth-Access-Token\n}"
	adapter := caddyconfig.GetAdapter("caddyfile")
	if _, _, err := adapter.Adapt([]byte(inSite(body)), nil); err != nil {
		t.Fatalf("without pass_access_token: %v", err)
	}
	_, _, err := adapter.Adapt([]byte(inSite(body+"\npass_access_token")), nil)
	want := "headers user and access_token would both be sent as X-Auth-Access-Token"
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "Caddyfile:9") {
		t.Fatalf("with pass_access_token: error %v, want %q at Caddyfile:9", err, want)
	}
}
