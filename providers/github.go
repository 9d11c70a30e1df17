package providers

import (
	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/internal/github"
	"github.com/gatehouse-auth/gatehouse/internal/githubaccess"
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
	info  Login
}

// CaddyModule returns the Caddy module information.
func (GitHub) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: Namespace + ".github", New: func() caddy.Module { return new(GitHub) }}
}

// Provision resolves the configuration and builds the provider.
func (p *GitHub) Provision(caddy.Context) error {
	r, err := p.resolve("github", "GitHub")
	if err != nil {
		return err
	}
	base, api := r.res.Get("base_url", p.BaseURL), r.res.Get("api_url", p.APIURL)
	if r.res.Err != nil {
		return r.res.Err
	}
	if err := r.requireSecret(); err != nil {
		return err
	}
	endpoints, err := github.ParseEndpoints(base, api)
	if err != nil {
		return r.errorf("%w", err)
	}
	p.login = githubaccess.NewLogin(r.clientID, r.clientSecret, endpoints, r.scopes, r.timeout)
	p.info = r.login(p.login)
	return nil
}

// Login implements Provider.
func (p *GitHub) Login() Login { return p.info }

// GitHubLogin is the sign-in as GitHub repository access uses it (org and
// team re-checks with the user's token).
func (p *GitHub) GitHubLogin() *githubaccess.Login { return p.login }

// Interface guards.
var (
	_ Provider          = (*GitHub)(nil)
	_ caddy.Provisioner = (*GitHub)(nil)
)
