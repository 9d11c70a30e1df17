package providers

import (
	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/internal/oauth2login"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
)

// presetLabels are the presets, each a module of its own, and the
// chooser label of one named after its type.
var presetLabels = map[string]string{
	"gitlab": "GitLab", "microsoft": "Microsoft", "gitee": "Gitee", "feishu": "Feishu", "lark": "Lark",
}

func init() {
	for kind := range presetLabels {
		caddy.RegisterModule(Preset{kind: kind})
	}
}

// Preset signs users in with a provider whose endpoints and claims
// Gatehouse knows (see the README's Providers section): gitlab,
// microsoft, gitee, feishu, lark. Each is its own module, e.g.
// http.handlers.gatehouse.providers.gitlab.
type Preset struct {
	Common

	// Where a self-managed instance lives, e.g. https://gitlab.example.com.
	// Default: the provider's public service.
	BaseURL string `json:"base_url,omitempty"`

	// Microsoft Entra tenant: "common", "organizations", "consumers", or
	// a tenant id or domain. microsoft only. Default: common.
	Tenant string `json:"tenant,omitempty"`

	kind  string
	login Login
}

// CaddyModule returns the Caddy module information.
func (p Preset) CaddyModule() caddy.ModuleInfo {
	kind := p.kind
	return caddy.ModuleInfo{ID: caddy.ModuleID(Namespace + "." + kind), New: func() caddy.Module { return &Preset{kind: kind} }}
}

// Provision resolves the configuration and builds the provider.
func (p *Preset) Provision(caddy.Context) (err error) {
	var base, tenant string
	p.login, err = p.provision(p.kind, presetLabels[p.kind], func(r *resolved) {
		base, tenant = r.res.Get("base_url", p.BaseURL), r.res.Get("tenant", p.Tenant)
	}, func(r *resolved) (provider.Provider, error) {
		cfg, err := oauth2login.Preset(p.kind, r.name, oauth2login.PresetParams{
			ClientID: r.clientID, ClientSecret: r.clientSecret, Tenant: tenant, BaseURL: base, Scopes: r.scopes,
		})
		if err != nil {
			return nil, err
		}
		cfg.Timeout = r.timeout
		return oauth2login.New(cfg)
	})
	return err
}

// Login implements Provider.
func (p *Preset) Login() Login { return p.login }

// Interface guards.
var (
	_ Provider          = (*Preset)(nil)
	_ caddy.Provisioner = (*Preset)(nil)
)
