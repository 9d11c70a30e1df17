package providers

import (
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/gatehouse-auth/gatehouse/internal/cfparse"
	"github.com/gatehouse-auth/gatehouse/internal/oidc"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
)

func init() { caddy.RegisterModule(OIDC{}) }

// OIDC signs users in with any OpenID Connect provider, found through
// its issuer's discovery document.
type OIDC struct {
	Common

	// Issuer URL; discovery is read from
	// {issuer}/.well-known/openid-configuration. Required.
	Issuer string `json:"issuer,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (OIDC) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: Namespace + ".oidc", New: func() caddy.Module { return new(OIDC) }}
}

// Provision resolves the configuration and builds the provider; it makes
// no call to the issuer (discovery happens at the first sign-in).
func (p *OIDC) Provision(caddy.Context) error {
	var issuer string
	return p.provision(oidcBlock.spec, "", func(r *resolved) { issuer = r.get("issuer", p.Issuer) },
		func(r *resolved) (provider.Provider, error) {
			return oidc.New(oidc.Config{
				Name: r.name, Issuer: issuer, ClientID: r.clientID, ClientSecret: r.clientSecret,
				Scopes: r.scopes, Timeout: r.timeout,
			})
		})
}

// UnmarshalCaddyfile reads `oidc [<name>] { issuer ... client_id ... }`.
func (p *OIDC) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	return unmarshalBlock(d, p, oidcBlock)
}

var oidcBlock = newBlock(spec{
	typ:      "oidc",
	takes:    []string{"issuer", "client_id", "client_secret", "scopes", "redirect_url", "label", "timeout"},
	required: []string{"issuer", "client_id"},
	scope:    "openid",
	refused: map[string]string{
		"base_url": "base_url is for github providers (GitHub Enterprise); an oidc provider is found through its issuer",
		"api_url":  "api_url is for github providers (GitHub Enterprise); an oidc provider is found through its issuer",
	},
}, issuerSub(examples["issuer"], func(p *OIDC) *string { return &p.Issuer }))

// issuerSub is the issuer subdirective of an OpenID Connect type.
func issuerSub[T any](example string, field func(*T) *string) cfparse.Sub[T] {
	return httpURL("issuer", "an http(s) URL", example, field)
}

// Interface guards.
var (
	_ Provider              = (*OIDC)(nil)
	_ caddy.Provisioner     = (*OIDC)(nil)
	_ caddyfile.Unmarshaler = (*OIDC)(nil)
)
