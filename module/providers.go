package module

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/internal/gate"
	"github.com/gatehouse-auth/gatehouse/internal/githubaccess"
	"github.com/gatehouse-auth/gatehouse/internal/nangoaccess"
	"github.com/gatehouse-auth/gatehouse/providers"
)

// buildProviders loads the provider modules of ProvidersRaw, once
// providerNames has checked them as a set. It returns the engine's
// providers and the GitHub sign-ins by name.
func (h *Handler) buildProviders(ctx caddy.Context) ([]gate.Provider, map[string]*githubaccess.Login, error) {
	if _, err := h.providerNames(); err != nil {
		return nil, nil, err
	}
	out := make([]gate.Provider, 0, len(h.ProvidersRaw))
	logins := map[string]*githubaccess.Login{}
	for i, raw := range h.ProvidersRaw {
		mod, err := loadProvider(ctx, i, raw)
		if err != nil {
			return nil, nil, err
		}
		l := mod.Login()
		if gh, ok := mod.(interface{ GitHubLogin() *githubaccess.Login }); ok {
			logins[l.Name] = gh.GitHubLogin()
		}
		out = append(out, gate.Provider{Name: l.Name, Label: l.Label, RedirectURL: l.RedirectURL, Auth: l.Auth, Timeout: l.Timeout})
	}
	return out, logins, nil
}

// providerNames checks the providers as a set and returns their names:
// at least one unless the Nango login is on, each name valid (the type's
// by default), none used twice or taken by the Nango login
// ({prefix}/login/nango). A provider that is not an object is left to
// loadProvider.
func (h *Handler) providerNames() ([]string, error) {
	nangoLogin := h.Nango != nil && h.Nango.LoginIntegration != "off"
	if len(h.ProvidersRaw) == 0 && !nangoLogin {
		if h.GitHubApp != nil || h.Nango != nil {
			return nil, configErrorf("", nil, "no provider configured: gatehouse needs at least one provider to sign users in; "+
				"github_app and nango with login_integration off only connect their repositories. Add e.g. "+
				"provider github { client_id ... client_secret ... }")
		}
		return nil, configErrorf("", nil, "no provider configured: gatehouse needs at least one provider, "+
			"e.g. provider oidc { issuer https://login.example.com ... client_id ... } "+
			"or provider github { client_id ... client_secret ... }")
	}
	seen := map[string]bool{}
	names := make([]string, 0, len(h.ProvidersRaw))
	for _, raw := range h.ProvidersRaw {
		var p struct{ Type, Name string }
		if json.Unmarshal(raw, &p) != nil {
			continue
		}
		name := cmp.Or(p.Name, p.Type)
		switch {
		case !providers.ValidName(name):
			return nil, configErrorf("providers", []string{name}, "provider name %q must be lowercase letters, digits, - or _", name)
		case name == nangoaccess.Provider && nangoLogin:
			return nil, configErrorf("providers", []string{name}, "provider name %q is taken by the nango login (%s/login/%s); "+
				"give the provider another name, e.g. provider oidc corp", name, cmp.Or(h.Prefix, DefaultPrefix), name)
		case seen[name]:
			return nil, configErrorf("providers", []string{name}, "provider name %q is used twice; give each provider its own name", name)
		}
		seen[name] = true
		names = append(names, name)
	}
	return names, nil
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
