package providers

import (
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/gatehouse-auth/gatehouse/internal/oidc"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
)

func init() { caddy.RegisterModule(Google{}) }

// Google signs users in with Google (OpenID Connect), optionally only
// accounts of one Google Workspace domain.
type Google struct {
	Common

	// Google Workspace domain the account must belong to, checked
	// against the id_token's hd claim. Default: any account.
	HostedDomain string `json:"hosted_domain,omitempty"`

	// Issuer of a Google-compatible provider (a test double); its short
	// form is accepted as Google's accounts.google.com is. Default:
	// https://accounts.google.com.
	Issuer string `json:"issuer,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (Google) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: Namespace + ".google", New: func() caddy.Module { return new(Google) }}
}

// Provision resolves the configuration and builds the provider.
func (p *Google) Provision(caddy.Context) error {
	var hostedDomain, issuer string
	return p.provision(googleBlock.spec, "Google", func(r *resolved) {
		hostedDomain, issuer = r.get("hosted_domain", p.HostedDomain), r.get("issuer", p.Issuer)
	}, func(r *resolved) (provider.Provider, error) {
		cfg := oidc.Google(r.name, r.clientID, r.clientSecret, hostedDomain, r.scopes)
		if issuer != "" {
			cfg.Issuer = issuer
			cfg.IssuerAliases = []string{strings.TrimPrefix(strings.TrimPrefix(issuer, "https://"), "http://")}
		}
		cfg.Timeout = r.timeout
		return oidc.New(cfg)
	})
}

// UnmarshalCaddyfile reads `google [<name>] { client_id ... client_secret ... }`.
func (p *Google) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	return unmarshalBlock(d, p, googleBlock)
}

var googleBlock = newBlock(spec{
	typ:      "google",
	takes:    []string{"client_id", "client_secret", "hosted_domain", "scopes", "issuer", "redirect_url", "label", "timeout"},
	required: []string{"client_id", "client_secret"},
	scope:    "openid",
	examples: map[string]string{
		"client_id":     "{env.GOOGLE_CLIENT_ID}",
		"client_secret": "{env.GOOGLE_CLIENT_SECRET}",
		"redirect_url":  "https://app.example.com/.gatehouse/callback/google",
		"issuer":        "https://accounts.google.com",
	},
},
	checked("hosted_domain", examples["hosted_domain"], func(p *Google) *string { return &p.HostedDomain },
		func(v string) bool { return !strings.ContainsAny(v, "/:@ ") && strings.Contains(v, ".") },
		"provider hosted_domain must be a Google Workspace domain such as example.com; got %q"),
	issuerSub(examples["issuer"], func(p *Google) *string { return &p.Issuer }),
)

// Interface guards.
var (
	_ Provider              = (*Google)(nil)
	_ caddy.Provisioner     = (*Google)(nil)
	_ caddyfile.Unmarshaler = (*Google)(nil)
)
