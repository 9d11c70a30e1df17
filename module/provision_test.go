package module

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/gatehouse-auth/gatehouse/internal/identity"
)

func provision(h *Handler) error {
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	err := h.Provision(ctx)
	if err == nil {
		err = h.Validate()
	}
	_ = h.Cleanup()
	return err
}

// oidcProvider is a provider whose credentials come from the environment
// variables providerEnv sets.
func oidcProvider() []json.RawMessage {
	return providersJSON(corp())
}

// providerObj is a provider object of the JSON config: "type" names the
// module, the other keys are its fields.
type providerObj map[string]any

// corp is the oidc provider "corp", with kv (key, value, ...) replacing
// its fields.
func corp(kv ...string) providerObj {
	p := providerObj{"type": "oidc", "name": "corp", "issuer": "https://login.example.com",
		"client_id": "{env.GH_TEST_CLIENT_ID}", "client_secret": "{env.GH_TEST_CLIENT_SECRET}"}
	for i := 0; i+1 < len(kv); i += 2 {
		p[kv[i]] = kv[i+1]
	}
	return p
}

// providersJSON is ps as Handler.ProvidersRaw holds them.
func providersJSON(ps ...providerObj) []json.RawMessage {
	out := make([]json.RawMessage, len(ps))
	for i, p := range ps {
		out[i], _ = json.Marshal(p)
	}
	return out
}

// providerEnv sets the credentials of oidcProvider for the test.
func providerEnv(t *testing.T) {
	t.Helper()
	t.Setenv("GH_TEST_CLIENT_ID", "client")
	t.Setenv("GH_TEST_CLIENT_SECRET", "secret")
}

// Placeholders are resolved at provision time, so secrets can come from
// the environment; what they resolve to is then checked.
func TestProvisionResolvesPlaceholders(t *testing.T) {
	t.Setenv("GH_TEST_SECRET", strings.Repeat("s", 40))
	providerEnv(t)
	if err := provision(&Handler{Secret: "{env.GH_TEST_SECRET}", ProvidersRaw: oidcProvider()}); err != nil {
		t.Fatalf("secret from the environment: %v", err)
	}
	t.Setenv("GH_TEST_SECRET", "too-short")
	err := provision(&Handler{Secret: "{env.GH_TEST_SECRET}", ProvidersRaw: oidcProvider()})
	if err == nil || !strings.Contains(err.Error(), "at least 32") || strings.Contains(err.Error(), "too-short") {
		t.Fatalf("short secret from the environment: %v (the message must not echo the secret)", err)
	}
}

func TestProvisionErrors(t *testing.T) {
	providerEnv(t)
	secret := strings.Repeat("s", 40)
	cases := map[string]struct {
		h    Handler
		want string
	}{
		"no provider":                             {Handler{Secret: secret}, "no provider configured"},
		"bad prefix":                              {Handler{Secret: secret, Prefix: "x", ProvidersRaw: oidcProvider()}, "prefix"},
		"external_url path":                       {Handler{Secret: secret, ExternalURL: "https://a.example.com/app", ProvidersRaw: oidcProvider()}, "external_url"},
		"__Host- with domain":                     {Handler{Secret: secret, Cookie: &CookieConfig{Name: "__Host-x", Domain: "example.com"}, ProvidersRaw: oidcProvider()}, "__Host-"},
		"idle over lifetime":                      {Handler{Secret: secret, Cookie: &CookieConfig{Lifetime: caddy.Duration(3600e9), IdleTimeout: caddy.Duration(7200e9)}, ProvidersRaw: oidcProvider()}, "idle_timeout"},
		"bad header name":                         {Handler{Secret: secret, Headers: HeadersConfig{"email": "X_Email"}, ProvidersRaw: oidcProvider()}, "header name"},
		"bad provider name before its own errors": {Handler{Secret: secret, ProvidersRaw: providersJSON(corp("name", "Bad Name", "client_id", "{env.GATEHOUSE_TEST_UNSET}"))}, `provider name "Bad Name" must be lowercase`},
		"reserved header":                         {Handler{Secret: secret, Headers: HeadersConfig{"user": "host"}, ProvidersRaw: oidcProvider()}, "headers user cannot be Host"},
		"unknown header":                          {Handler{Secret: secret, Headers: HeadersConfig{"mail": "X-Mail"}, ProvidersRaw: oidcProvider()}, "headers mail: unknown header"},
		"header clash":                            {Handler{Secret: secret, Headers: HeadersConfig{"connections": "X-Auth-Repos"}, ProvidersRaw: oidcProvider()}, "headers repos and connections would both be sent as X-Auth-Repos"},
		"unknown store":                           {Handler{Secret: secret, Store: &StoreConfig{Type: "etcd"}, ProvidersRaw: oidcProvider()}, "not supported"},
		"unknown provider":                        {Handler{Secret: secret, ProvidersRaw: providersJSON(providerObj{"type": "saml", "client_id": "x"})}, "not supported"},
		"github without creds":                    {Handler{Secret: secret, ProvidersRaw: providersJSON(providerObj{"type": "github"})}, "client_id and client_secret"},
		"app without webhook secret": {Handler{Secret: secret, ProvidersRaw: oidcProvider(),
			GitHubApp: &GitHubAppConfig{ClientID: "Iv1.x", ClientSecret: "s"}}, "webhook_secret"},
		"duplicate provider": {Handler{Secret: secret, ProvidersRaw: append(oidcProvider(), oidcProvider()...)}, "used twice"},
		"negative provider timeout": {Handler{Secret: secret, ProvidersRaw: providersJSON(providerObj{"type": "github", "client_id": "c", "client_secret": "s",
			"timeout": "-1s"})}, "provider github: timeout -1s must not be negative"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			h := c.h
			if err := provision(&h); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one mentioning %q", err, c.want)
			}
		})
	}
}

// TestProvisionProviderTimeout: each provider gets its configured
// timeout, or the 10s default.
func TestProvisionProviderTimeout(t *testing.T) {
	h := &Handler{Secret: strings.Repeat("s", 40), ProvidersRaw: providersJSON(
		providerObj{"type": "oidc", "name": "corp", "issuer": "https://login.example.com", "client_id": "c", "timeout": "3s"},
		providerObj{"type": "github", "client_id": "c", "client_secret": "s"},
		providerObj{"type": "gitlab", "client_id": "c", "client_secret": "s", "timeout": "1m"},
	)}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	if err := h.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = h.Cleanup() }()
	want := map[string]time.Duration{"corp": 3 * time.Second, "github": 10 * time.Second, "gitlab": time.Minute}
	for _, p := range h.gate.Providers {
		if p.Timeout != want[p.Name] {
			t.Errorf("provider %s: timeout %v, want %v", p.Name, p.Timeout, want[p.Name])
		}
	}
}

// "off" turns a header off in any case, as in the Caddyfile.
func TestHeaderNamesOffAnyCase(t *testing.T) {
	h := &Handler{Headers: HeadersConfig{"avatar": "OFF", "connections": "Off"}}
	n, err := h.headerNames()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"avatar", "connections"} {
		if i, _ := identity.Lookup(k); n.Fields[i] != "" {
			t.Errorf("%s sent as %q, want off", k, n.Fields[i])
		}
	}
}

// A handler provisions again from the same configuration (its providers
// are kept, not consumed).
func TestProvisionTwice(t *testing.T) {
	providerEnv(t)
	h := &Handler{Secret: strings.Repeat("s", 40), ProvidersRaw: oidcProvider()}
	for i := range 2 {
		if err := provision(h); err != nil {
			t.Fatalf("provision #%d: %v", i+1, err)
		}
	}
}
