package module

import (
	"errors"
	"testing"
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
	ok := Handler{ProvidersRaw: oidcProvider(), PassAccessToken: true, Headers: HeadersConfig{"access_token": "X-Token"}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid handler: %v", err)
	}
}
