package module

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
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
func oidcProvider() []ProviderConfig {
	return []ProviderConfig{{Type: "oidc", Name: "corp", Issuer: "https://login.example.com", ClientID: "{env.GH_TEST_CLIENT_ID}", ClientSecret: "{env.GH_TEST_CLIENT_SECRET}"}}
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
	if err := provision(&Handler{Secret: "{env.GH_TEST_SECRET}", Providers: oidcProvider()}); err != nil {
		t.Fatalf("secret from the environment: %v", err)
	}
	t.Setenv("GH_TEST_SECRET", "too-short")
	err := provision(&Handler{Secret: "{env.GH_TEST_SECRET}", Providers: oidcProvider()})
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
		"no provider":          {Handler{Secret: secret}, "no provider configured"},
		"bad prefix":           {Handler{Secret: secret, Prefix: "x", Providers: oidcProvider()}, "prefix"},
		"external_url path":    {Handler{Secret: secret, ExternalURL: "https://a.example.com/app", Providers: oidcProvider()}, "external_url"},
		"__Host- with domain":  {Handler{Secret: secret, Cookie: &CookieConfig{Name: "__Host-x", Domain: "example.com"}, Providers: oidcProvider()}, "__Host-"},
		"idle over lifetime":   {Handler{Secret: secret, Cookie: &CookieConfig{Lifetime: caddy.Duration(3600e9), IdleTimeout: caddy.Duration(7200e9)}, Providers: oidcProvider()}, "idle_timeout"},
		"bad header name":      {Handler{Secret: secret, Headers: HeadersConfig{"email": "X_Email"}, Providers: oidcProvider()}, "header name"},
		"unknown header":       {Handler{Secret: secret, Headers: HeadersConfig{"mail": "X-Mail"}, Providers: oidcProvider()}, "headers mail: unknown header"},
		"header clash":         {Handler{Secret: secret, Headers: HeadersConfig{"connections": "X-Auth-Repos"}, Providers: oidcProvider()}, "headers repos and connections would both be sent as X-Auth-Repos"},
		"unknown store":        {Handler{Secret: secret, Store: &StoreConfig{Type: "etcd"}, Providers: oidcProvider()}, "not supported"},
		"unknown provider":     {Handler{Secret: secret, Providers: []ProviderConfig{{Type: "saml", ClientID: "x"}}}, "not supported"},
		"github without creds": {Handler{Secret: secret, Providers: []ProviderConfig{{Type: "github"}}}, "client_id and client_secret"},
		"app without webhook secret": {Handler{Secret: secret, Providers: oidcProvider(),
			GitHubApp: &GitHubAppConfig{ClientID: "Iv1.x", ClientSecret: "s"}}, "webhook_secret"},
		"duplicate provider": {Handler{Secret: secret, Providers: append(oidcProvider(), oidcProvider()...)}, "used twice"},
		"negative provider timeout": {Handler{Secret: secret, Providers: []ProviderConfig{{Type: "github", ClientID: "c", ClientSecret: "s",
			Timeout: caddy.Duration(-time.Second)}}}, "provider github: timeout -1s must not be negative"},
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
	h := &Handler{Secret: strings.Repeat("s", 40), Providers: []ProviderConfig{
		{Type: "oidc", Name: "corp", Issuer: "https://login.example.com", ClientID: "c", Timeout: caddy.Duration(3 * time.Second)},
		{Type: "github", ClientID: "c", ClientSecret: "s"},
		{Type: "gitlab", ClientID: "c", ClientSecret: "s", Timeout: caddy.Duration(time.Minute)},
	}}
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
