// Package providers holds Gatehouse's identity provider types, each a
// Caddy module in the namespace http.handlers.gatehouse.providers:
// oidc, google, github, oauth2 and the presets gitlab, microsoft, gitee,
// feishu and lark. The handler loads them from its "providers" list, where
// "type" names the module:
//
//	"providers": [{"type": "oidc", "name": "corp", "issuer": "https://login.example.com", "client_id": "gatehouse"}]
//
// A new provider type is a new module here (or in any package Caddy is
// built with) that implements Provider and, to be written in a
// Caddyfile, caddyfile.Unmarshaler: the gatehouse directive looks the
// type up in Caddy's registry and hands it `<type> [<name>] { ... }`
// (here through unmarshalBlock, which reads Common's subdirectives).
package providers

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/internal/placeholder"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
)

// Namespace is the Caddy module namespace of provider types.
const Namespace = "http.handlers.gatehouse.providers"

// Provider is implemented by every provider module: once provisioned, it
// gives the handler its sign-in.
type Provider interface {
	caddy.Module
	// Login returns the provider's sign-in and how it is shown.
	Login() Login
}

// Login is a provisioned provider as the handler uses it.
type Login struct {
	// Name is the provider's name in URLs ({prefix}/login/{name}) and in
	// X-Auth-Provider.
	Name string
	// Label is the chooser page's text.
	Label string
	// RedirectURL is the full redirect URI registered at the provider;
	// "" derives it from the site.
	RedirectURL string
	// Auth signs users in.
	Auth provider.Provider
	// Timeout bounds each call to the provider.
	Timeout time.Duration
}

// Common is the configuration every provider type has.
type Common struct {
	// Name used in URLs ({prefix}/login/{name}) and X-Auth-Provider.
	// Lowercase letters, digits, '-' and '_'. Default: the type.
	Name string `json:"name,omitempty"`

	// Label shown on the chooser page. Default: the name (for a provider
	// named after its type, the provider's own name, e.g. GitHub).
	Label string `json:"label,omitempty"`

	// OAuth client ID. Required.
	ClientID string `json:"client_id,omitempty"`

	// OAuth client secret. Placeholders are resolved at provision time and
	// the value is never logged. Default: none (a public client with
	// PKCE), where the type allows it.
	ClientSecret string `json:"client_secret,omitempty"`

	// Scopes requested. Default: the type's (openid email profile for
	// oidc and google; read:user user:email read:org for github).
	Scopes []string `json:"scopes,omitempty"`

	// Full redirect URI registered at the provider. Default:
	// {external_url or the site's address}{prefix}/callback/{name}.
	RedirectURL string `json:"redirect_url,omitempty"`

	// Time allowed for each call to the provider: discovery, token
	// exchange, userinfo, JWKS, refresh and revocation. A sign-in whose
	// call runs out of time gets 504 provider_timeout; one that cannot
	// reach the provider gets 502 provider_unavailable. Must not be
	// negative. Default: 10s.
	Timeout caddy.Duration `json:"timeout,omitempty"`

	// login is what provision built.
	login Login
}

// resolved is Common with its placeholders resolved and its defaults
// applied.
type resolved struct {
	name, label, clientID, clientSecret, redirectURL string
	scopes                                           []string
	timeout                                          time.Duration
	res                                              *placeholder.Resolver
	values                                           map[string]string // by field, as resolved
}

// get resolves the value raw of field (see placeholder.Resolver.Get) and
// keeps it for provision's check of the required fields.
func (r *resolved) get(field, raw string) string {
	v := r.res.Get(field, raw)
	r.values[field] = v
	return v
}

// resolve resolves c for a provider of type typ whose own label, when it
// is named after its type, is label. Further values of the type are
// resolved with r.get; r.res.Err must be checked after them.
func (c *Common) resolve(typ, label string) (*resolved, error) {
	r := &resolved{name: c.Name, values: map[string]string{}}
	if r.name == "" {
		r.name = typ
	}
	r.res = &placeholder.Resolver{Repl: caddy.NewReplacer(), Where: "provider " + r.name + ": "}
	r.clientID = r.get("client_id", c.ClientID)
	r.clientSecret = r.get("client_secret", c.ClientSecret)
	r.redirectURL = r.get("redirect_url", c.RedirectURL)
	r.scopes = c.Scopes
	r.label = c.Label
	switch {
	case r.label != "":
	case r.name == typ && label != "":
		r.label = label
	default:
		r.label = r.name
	}
	t, err := provider.Timeout(time.Duration(c.Timeout))
	if err != nil {
		return nil, r.errorf("%w", err)
	}
	r.timeout = t
	if r.redirectURL != "" {
		if u, err := url.Parse(r.redirectURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, r.errorf("redirect_url%s %q must be an absolute http(s) URL", placeholder.From(c.RedirectURL), r.redirectURL)
		}
	}
	return r, nil
}

// errorf is an error about the provider: "gatehouse: provider corp: ...".
func (r *resolved) errorf(format string, args ...any) error {
	return fmt.Errorf("gatehouse: provider %s: "+format, append([]any{r.name}, args...)...)
}

// require refuses a provider without one of the fields its type
// requires (those its Caddyfile block requires too): "client_id and
// client_secret are required".
func (r *resolved) require(fields []string) error {
	if !slices.ContainsFunc(fields, func(f string) bool { return r.values[f] == "" }) {
		return nil
	}
	list := strings.Join(fields, ", ")
	if i := strings.LastIndex(list, ", "); i >= 0 {
		list = list[:i] + " and " + list[i+2:]
	}
	return r.errorf("%s are required", list)
}

// provision is every provider's Provision, for a type described by s: it
// resolves the common values, then the type's own (fields, through
// r.get), refuses a value that resolved to nothing or a required one
// missing, and builds the sign-in.
func (c *Common) provision(s spec, label string, fields func(r *resolved), build func(r *resolved) (provider.Provider, error)) error {
	r, err := c.resolve(s.typ, label)
	if err != nil {
		return err
	}
	if fields != nil {
		fields(r)
	}
	if r.res.Err != nil {
		return r.res.Err
	}
	if err := r.require(s.required); err != nil {
		return err
	}
	auth, err := build(r)
	switch {
	case err == nil:
		c.login = r.login(auth)
		return nil
	case strings.HasPrefix(err.Error(), "gatehouse: "):
		return err
	}
	return r.errorf("%w", err)
}

// Login implements Provider: what provision built.
func (c *Common) Login() Login { return c.login }

// login is the Login of r signing in with auth.
func (r *resolved) login(auth provider.Provider) Login {
	return Login{Name: r.name, Label: r.label, RedirectURL: r.redirectURL, Auth: auth, Timeout: r.timeout}
}
