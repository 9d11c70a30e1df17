package module

import (
	"errors"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
)

// Validate checks the configuration as it is, without provisioning, and
// says what its error is about, for the Caddyfile adapter to place it.
func TestValidateUnprovisioned(t *testing.T) {
	cases := map[string]struct {
		h     Handler
		block string
		keys  []string
	}{
		"no provider":        {Handler{}, "", nil},
		"duplicate provider": {Handler{ProvidersRaw: append(oidcProvider(), oidcProvider()...)}, "providers", []string{"corp"}},
		"nango name taken": {Handler{Nango: &NangoConfig{}, ProvidersRaw: providersJSON(providerObj{"type": "oidc", "name": "nango"})},
			"providers", []string{"nango"}},
		"header clash": {Handler{ProvidersRaw: oidcProvider(), Headers: HeadersConfig{"email": "X-Auth-User"}},
			"headers", []string{"user", "email"}},
		"access_token without pass_access_token": {Handler{ProvidersRaw: oidcProvider(), Headers: HeadersConfig{"access_token": "X-Token"}},
			"headers", nil},
		"nango connection without nango": {Handler{ProvidersRaw: oidcProvider(), Connections: []ConnectionConfig{{Name: "strava", Type: "nango"}}},
			"connections", []string{"strava"}},
		"nango with both integrations off": {Handler{ProvidersRaw: oidcProvider(), Nango: &NangoConfig{LoginIntegration: "off", RepoIntegration: "off"}},
			"nango", []string{"integrations"}},
		"connections_secret without connections": {Handler{ProvidersRaw: oidcProvider(), ConnectionsSecret: "s"}, "connections_secret", nil},
		"nango and github_app":                   {Handler{ProvidersRaw: oidcProvider(), Nango: &NangoConfig{}, GitHubApp: &GitHubAppConfig{}}, "nango", nil},
		"device_login lifetime too long": {Handler{ProvidersRaw: oidcProvider(), DeviceLogin: &DeviceLoginConfig{Lifetime: caddy.Duration(time.Hour)}},
			"device_login", []string{"lifetime"}},
		"device_login lifetime negative": {Handler{ProvidersRaw: oidcProvider(), DeviceLogin: &DeviceLoginConfig{Lifetime: -1}},
			"device_login", []string{"lifetime"}},
		"device_login lifetime under a second": {Handler{ProvidersRaw: oidcProvider(), DeviceLogin: &DeviceLoginConfig{Lifetime: caddy.Duration(time.Millisecond)}},
			"device_login", []string{"lifetime"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var ce *ConfigError
			if err := c.h.Validate(); !errors.As(err, &ce) || ce.Block != c.block || len(ce.Keys) != len(c.keys) {
				t.Fatalf("Validate() = %#v, want a ConfigError about %q %v", err, c.block, c.keys)
			}
			for i, k := range c.keys {
				if ce.Keys[i] != k {
					t.Fatalf("keys %v, want %v", ce.Keys, c.keys)
				}
			}
		})
	}
	for _, ok := range []Handler{
		{ProvidersRaw: oidcProvider(), PassAccessToken: true, Headers: HeadersConfig{"access_token": "X-Token"}},
		// Both integrations off is how a nango block serves linked accounts only.
		{ProvidersRaw: oidcProvider(), Nango: &NangoConfig{LoginIntegration: "off", RepoIntegration: "off"},
			Connections: []ConnectionConfig{{Name: "strava", Type: "nango"}}},
		{ProvidersRaw: oidcProvider(), DeviceLogin: &DeviceLoginConfig{}},
		{ProvidersRaw: oidcProvider(), DeviceLogin: &DeviceLoginConfig{Lifetime: caddy.Duration(30 * time.Minute)}},
	} {
		if err := ok.Validate(); err != nil {
			t.Fatalf("valid handler: %v", err)
		}
	}
}
