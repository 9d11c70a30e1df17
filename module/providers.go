package module

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/internal/gate"
	"github.com/gatehouse-auth/gatehouse/internal/githubaccess"
	"github.com/gatehouse-auth/gatehouse/internal/integration"
	"github.com/gatehouse-auth/gatehouse/providers"
)

// buildProviders loads the provider modules of ProvidersRaw and checks
// what concerns them all: a name each, none taken twice or by the Nango
// login. It returns the engine's providers and the GitHub sign-ins by
// name.
func (h *Handler) buildProviders(ctx caddy.Context) ([]gate.Provider, map[string]*githubaccess.Login, error) {
	nangoLogin := h.Nango != nil && h.Nango.LoginIntegration != "off"
	if len(h.ProvidersRaw) == 0 && !nangoLogin {
		return nil, nil, errors.New("gatehouse: no provider configured; add e.g. provider oidc { issuer ... client_id ... client_secret ... }")
	}
	seen := map[string]bool{}
	if nangoLogin {
		seen[integration.NangoProvider] = true // {prefix}/login/nango
	}
	out := make([]gate.Provider, 0, len(h.ProvidersRaw))
	logins := map[string]*githubaccess.Login{}
	for i, raw := range h.ProvidersRaw {
		mod, err := loadProvider(ctx, i, raw)
		if err != nil {
			return nil, nil, err
		}
		l := mod.Login()
		if seen[l.Name] {
			if l.Name == integration.NangoProvider {
				return nil, nil, fmt.Errorf("gatehouse: provider name %q is taken by the Nango login; give the provider another name", l.Name)
			}
			return nil, nil, fmt.Errorf("gatehouse: provider name %q is used twice; give each provider its own name", l.Name)
		}
		seen[l.Name] = true
		if gh, ok := mod.(interface{ GitHubLogin() *githubaccess.Login }); ok {
			logins[l.Name] = gh.GitHubLogin()
		}
		out = append(out, gate.Provider{Name: l.Name, Label: l.Label, RedirectURL: l.RedirectURL, Auth: l.Auth, Timeout: l.Timeout})
	}
	return out, logins, nil
}

// loadProvider loads provider i, a module named by its "type" (Caddy's
// inline key). Its errors start with "gatehouse: provider": an unknown
// type lists the known ones from Caddy's registry; a module's own error
// ("gatehouse: provider corp: client_id is empty ...") comes as it is,
// without Caddy's "provision <id>: " before it.
func loadProvider(ctx caddy.Context, i int, raw json.RawMessage) (providers.Provider, error) {
	var fields map[string]json.RawMessage
	var typ string
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, fmt.Errorf("gatehouse: providers[%d] is not an object: %w", i, err)
	}
	_ = json.Unmarshal(fields["type"], &typ)
	id := providers.Namespace + "." + typ
	if _, err := caddy.GetModule(id); typ == "" || err != nil {
		return nil, fmt.Errorf("gatehouse: providers[%d]: type %q is not supported; supported: %s", i, typ, strings.Join(providers.Types(), ", "))
	}
	// The name is checked first: the module's own errors carry it.
	name := typ
	_ = json.Unmarshal(fields["name"], &name)
	if name == "" {
		name = typ
	}
	if !providers.ValidName(name) {
		return nil, fmt.Errorf("gatehouse: provider name %q must be lowercase letters, digits, - or _", name)
	}
	delete(fields, "type") // the module decodes the rest strictly
	body, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	mod, err := ctx.LoadModuleByID(id, body)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "provision "+id+": ")
		if strings.HasPrefix(msg, "gatehouse: ") {
			return nil, errors.New(msg)
		}
		return nil, fmt.Errorf("gatehouse: providers[%d] (%s): %s", i, typ, msg)
	}
	p, ok := mod.(providers.Provider)
	if !ok {
		return nil, fmt.Errorf("gatehouse: module %s is not a Gatehouse provider", id)
	}
	return p, nil
}
