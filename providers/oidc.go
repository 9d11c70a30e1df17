package providers

import (
	"github.com/caddyserver/caddy/v2"

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

	login Login
}

// CaddyModule returns the Caddy module information.
func (OIDC) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: Namespace + ".oidc", New: func() caddy.Module { return new(OIDC) }}
}

// Provision resolves the configuration and builds the provider; it makes
// no call to the issuer (discovery happens at the first sign-in).
func (p *OIDC) Provision(caddy.Context) (err error) {
	var issuer string
	p.login, err = p.provision("oidc", "", func(r *resolved) { issuer = r.res.Get("issuer", p.Issuer) },
		func(r *resolved) (provider.Provider, error) {
			return oidc.New(oidc.Config{
				Name: r.name, Issuer: issuer, ClientID: r.clientID, ClientSecret: r.clientSecret,
				Scopes: r.scopes, Timeout: r.timeout,
			})
		})
	return err
}

// Login implements Provider.
func (p *OIDC) Login() Login { return p.login }

// Interface guards.
var (
	_ Provider          = (*OIDC)(nil)
	_ caddy.Provisioner = (*OIDC)(nil)
)
