package providers

import (
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/gatehouse-auth/gatehouse/internal/cfparse"

	"github.com/gatehouse-auth/gatehouse/internal/oauth2login"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
)

// presets are the preset types, each a module of its own: the chooser
// label of one named after its type, and where its public service lives
// (the example of base_url).
var presets = map[string]struct{ label, site string }{
	"gitlab":    {"GitLab", "https://gitlab.example.com"},
	"microsoft": {"Microsoft", "https://login.microsoftonline.com"},
	"gitee":     {"Gitee", "https://gitee.com"},
	"feishu":    {"Feishu", "https://open.feishu.cn"},
	"lark":      {"Lark", "https://open.larksuite.com"},
}

// presetBlocks are the presets' Caddyfile blocks by type.
var presetBlocks = map[string]*block[Preset]{}

func init() {
	for kind, preset := range presets {
		caddy.RegisterModule(Preset{kind: kind})
		takes := []string{"client_id", "client_secret", "scopes", "base_url", "redirect_url", "label", "timeout"}
		if kind == "microsoft" {
			takes = append(takes, "tenant")
		}
		env := "{env." + strings.ToUpper(kind)
		presetBlocks[kind] = newBlock(spec{
			typ: kind, takes: takes, required: []string{"client_id", "client_secret"},
			examples: map[string]string{
				"client_id": env + "_CLIENT_ID}", "client_secret": env + "_CLIENT_SECRET}", "base_url": preset.site,
				"redirect_url": "https://app.example.com/.gatehouse/callback/" + kind,
			},
		},
			cfparse.URL("base_url", examples["base_url"], func(p *Preset) *string { return &p.BaseURL }),
			checked("tenant", examples["tenant"], func(p *Preset) *string { return &p.Tenant }, validTenant,
				"provider tenant %q must be common, organizations, consumers, or a tenant id or domain such as contoso.onmicrosoft.com"),
		)
	}
}

// validTenant reports whether v is a Microsoft tenant, by the preset's
// own rule.
func validTenant(v string) bool {
	_, err := oauth2login.Preset("microsoft", "", oauth2login.PresetParams{Tenant: v})
	return err == nil
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

	kind string
}

// CaddyModule returns the Caddy module information.
func (p Preset) CaddyModule() caddy.ModuleInfo {
	kind := p.kind
	return caddy.ModuleInfo{ID: caddy.ModuleID(Namespace + "." + kind), New: func() caddy.Module { return &Preset{kind: kind} }}
}

// Provision resolves the configuration and builds the provider.
func (p *Preset) Provision(caddy.Context) error {
	var base, tenant string
	return p.provision(presetBlocks[p.kind].spec, presets[p.kind].label, func(r *resolved) {
		base, tenant = r.get("base_url", p.BaseURL), r.get("tenant", p.Tenant)
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
}

// UnmarshalCaddyfile reads `<type> [<name>] { client_id ... client_secret ... }`.
func (p *Preset) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	return unmarshalBlock(d, p, presetBlocks[p.kind])
}

// Interface guards.
var (
	_ Provider              = (*Preset)(nil)
	_ caddy.Provisioner     = (*Preset)(nil)
	_ caddyfile.Unmarshaler = (*Preset)(nil)
)
