package providers

import (
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/gatehouse-auth/gatehouse/internal/cfparse"
	"github.com/gatehouse-auth/gatehouse/internal/github"
	"github.com/gatehouse-auth/gatehouse/internal/githubaccess"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
)

func init() { caddy.RegisterModule(GitHub{}) }

// GitHub signs users in with a GitHub OAuth App (github.com or GitHub
// Enterprise Server); their organizations and teams feed allow org and
// allow team.
type GitHub struct {
	Common

	// GitHub web URL, for GitHub Enterprise Server (e.g.
	// https://github.example.com). Default: https://github.com.
	BaseURL string `json:"base_url,omitempty"`

	// GitHub REST API URL. Default: https://api.github.com, or
	// {base_url}/api/v3 when base_url is set.
	APIURL string `json:"api_url,omitempty"`

	login *githubaccess.Login
}

// CaddyModule returns the Caddy module information.
func (GitHub) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: Namespace + ".github", New: func() caddy.Module { return new(GitHub) }}
}

// Provision resolves the configuration and builds the provider.
func (p *GitHub) Provision(caddy.Context) error {
	var base, api string
	return p.provision(gitHubBlock.spec, "GitHub", func(r *resolved) {
		base, api = r.get("base_url", p.BaseURL), r.get("api_url", p.APIURL)
	}, func(r *resolved) (provider.Provider, error) {
		endpoints, err := github.ParseEndpoints(base, api)
		if err != nil {
			return nil, err
		}
		p.login = githubaccess.NewLogin(r.clientID, r.clientSecret, endpoints, r.scopes, r.timeout)
		return p.login, nil
	})
}

// UnmarshalCaddyfile reads `github [<name>] { client_id ... client_secret ... }`.
func (p *GitHub) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	return unmarshalBlock(d, p, gitHubBlock)
}

var gitHubBlock = newBlock(spec{
	typ:      "github",
	takes:    []string{"client_id", "client_secret", "scopes", "base_url", "api_url", "redirect_url", "label", "timeout"},
	required: []string{"client_id", "client_secret"},
	refused: map[string]string{
		"issuer": "issuer is for oidc providers; GitHub needs only client_id and client_secret " +
			"(base_url for GitHub Enterprise)",
	},
	examples: map[string]string{
		"client_id":     "{env.GITHUB_CLIENT_ID}",
		"client_secret": "{env.GITHUB_CLIENT_SECRET}",
		"scopes":        "read:user user:email read:org",
		"redirect_url":  "https://app.example.com/.gatehouse/callback/github",
		"label":         `"GitHub"`,
	},
},
	cfparse.URL("base_url", examples["base_url"], func(p *GitHub) *string { return &p.BaseURL }),
	cfparse.URL("api_url", examples["api_url"], func(p *GitHub) *string { return &p.APIURL }),
)

// GitHubLogin is the sign-in as GitHub repository access uses it (org and
// team re-checks with the user's token).
func (p *GitHub) GitHubLogin() *githubaccess.Login { return p.login }

// Interface guards.
var (
	_ Provider              = (*GitHub)(nil)
	_ caddy.Provisioner     = (*GitHub)(nil)
	_ caddyfile.Unmarshaler = (*GitHub)(nil)
)
