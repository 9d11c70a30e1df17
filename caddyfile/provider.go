package caddyfile

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/gatehouse-auth/gatehouse/providers"
)

// providerType describes one supported provider type. Adding a type is one
// entry in providerTypes.
type providerType struct {
	required []string          // subdirectives that must be set
	scope    string            // a scope that scopes, when set, must include
	refused  map[string]string // subdirective → why this type does not take it
	// accepts, when set, lists every subdirective the type takes; others
	// are refused with that list.
	accepts  []string
	examples map[string]string // sample values that differ from providerExamples
	named    bool              // the provider needs a name of its own (oauth2)
}

// presetAccepts are the subdirectives of a preset that needs only
// credentials.
var presetAccepts = []string{"client_id", "client_secret", "scopes", "base_url", "redirect_url", "label", "timeout"}

// presetType is a preset provider type; base_url is where a self-managed
// instance lives.
func presetType(kind, site string, extra ...string) providerType {
	return providerType{
		required: []string{"client_id", "client_secret"},
		accepts:  append(slices.Clone(presetAccepts), extra...),
		examples: map[string]string{
			"client_id":     "{env." + strings.ToUpper(kind) + "_CLIENT_ID}",
			"client_secret": "{env." + strings.ToUpper(kind) + "_CLIENT_SECRET}",
			"base_url":      site,
			"redirect_url":  "https://app.example.com/.gatehouse/callback/" + kind,
		},
	}
}

// providerTypes are the provider types the module supports.
var providerTypes = map[string]providerType{
	"oidc": {
		required: []string{"issuer", "client_id"},
		scope:    "openid",
		accepts:  []string{"issuer", "client_id", "client_secret", "scopes", "redirect_url", "label", "timeout"},
		refused: map[string]string{
			"base_url": "base_url is for github providers (GitHub Enterprise); an oidc provider is found through its issuer",
			"api_url":  "api_url is for github providers (GitHub Enterprise); an oidc provider is found through its issuer",
		},
	},
	"github": {
		required: []string{"client_id", "client_secret"},
		accepts:  []string{"client_id", "client_secret", "scopes", "base_url", "api_url", "redirect_url", "label", "timeout"},
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
	"google": {
		required: []string{"client_id", "client_secret"},
		scope:    "openid",
		accepts:  []string{"client_id", "client_secret", "hosted_domain", "scopes", "issuer", "redirect_url", "label", "timeout"},
		examples: map[string]string{
			"client_id":     "{env.GOOGLE_CLIENT_ID}",
			"client_secret": "{env.GOOGLE_CLIENT_SECRET}",
			"redirect_url":  "https://app.example.com/.gatehouse/callback/google",
			"issuer":        "https://accounts.google.com",
		},
	},
	"oauth2": {
		required: []string{"auth_url", "token_url", "userinfo_url", "client_id"},
		accepts: []string{"auth_url", "token_url", "userinfo_url", "client_id", "client_secret", "scopes", "claims",
			"redirect_url", "label", "timeout"},
		named: true,
		examples: map[string]string{
			"client_id":     "{env.OAUTH_CLIENT_ID}",
			"client_secret": "{env.OAUTH_CLIENT_SECRET}",
			"scopes":        "read:user",
		},
	},
	"gitlab":    presetType("gitlab", "https://gitlab.example.com"),
	"microsoft": presetType("microsoft", "https://login.microsoftonline.com", "tenant"),
	"gitee":     presetType("gitee", "https://gitee.com"),
	"feishu":    presetType("feishu", "https://open.feishu.cn"),
	"lark":      presetType("lark", "https://open.larksuite.com"),
}

// providerExamples are sample values used in provider error messages.
var providerExamples = map[string]string{
	"issuer":        "https://login.example.com",
	"client_id":     "{env.OIDC_CLIENT_ID}",
	"client_secret": "{env.OIDC_CLIENT_SECRET}",
	"scopes":        "openid email profile",
	"base_url":      "https://github.example.com",
	"api_url":       "https://github.example.com/api/v3",
	"redirect_url":  "https://app.example.com/.gatehouse/callback/corp",
	"label":         `"Corporate login"`,
	"hosted_domain": "example.com",
	"tenant":        "organizations",
	"auth_url":      "https://login.example.com/oauth/authorize",
	"token_url":     "https://login.example.com/oauth/token",
	"userinfo_url":  "https://login.example.com/api/user",
}

// providerExample is the sample value of field for a provider of type typ.
func providerExample(typ, field string) string {
	if v, ok := providerTypes[typ].examples[field]; ok {
		return v
	}
	return providerExamples[field]
}

func supportedProviderTypes() string {
	types := make([]string, 0, len(providerTypes))
	for t := range providerTypes {
		types = append(types, t)
	}
	slices.Sort(types)
	return strings.Join(types, ", ")
}

func parseProvider(c *cursor, s *state) error {
	args := c.RemainingArgs()
	if len(args) == 0 {
		return c.errf("provider needs a type, e.g. provider oidc corp { ... }; supported: %s",
			supportedProviderTypes())
	}
	if len(args) > 2 {
		return c.errf("provider takes a type and an optional name, e.g. provider oidc corp { ... }; "+
			"unexpected %q", args[2])
	}
	typ := args[0]
	pt, ok := providerTypes[typ]
	if !ok {
		return c.errf("unknown provider type %q; supported: %s", typ, supportedProviderTypes())
	}
	name := typ
	if len(args) == 2 {
		name = args[1]
	} else if pt.named {
		return c.errf("provider %s needs a name, e.g. provider %s corp { ... }; it appears in URLs such as /.gatehouse/login/corp", typ, typ)
	}
	if !isProviderName(name) {
		return c.errf("provider name %q must be 1 to 32 lowercase letters, digits, - or _ "+
			"(it appears in URLs such as /.gatehouse/login/%s), e.g. provider %s corp", name, name, typ)
	}
	if first, dup := s.providers[name]; dup {
		return c.errf("provider name %q is already used at line %d; "+
			"give each provider its own name: provider <type> <name>", name, first.Line)
	}
	s.providers[name] = c.tok

	p := providerConfig{Type: typ, Name: name}
	seen, err := parseBlock(c.Dispenser, providerBlock, &p)
	if err != nil {
		return err
	}
	for _, field := range pt.required {
		if providerField(&p, field) == "" {
			return c.errf("provider %s %q needs %s in its block, e.g. %s %s",
				typ, name, field, field, providerExample(typ, field))
		}
	}
	if pt.scope != "" && len(p.Scopes) > 0 && !slices.Contains(p.Scopes, pt.scope) {
		return errAt(seen["scopes"], "provider %s %q: scopes must include %s, e.g. scopes %s",
			typ, name, pt.scope, providerExample(typ, "scopes"))
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return c.errf("provider %s %q: %v", typ, name, err)
	}
	s.h.ProvidersRaw = append(s.h.ProvidersRaw, raw)
	return nil
}

// providerField returns the value of a single-valued provider subdirective.
func providerField(p *providerConfig, name string) string {
	switch name {
	case "issuer":
		return p.Issuer
	case "client_id":
		return p.ClientID
	case "client_secret":
		return p.ClientSecret
	case "base_url":
		return p.BaseURL
	case "api_url":
		return p.APIURL
	case "redirect_url":
		return p.RedirectURL
	case "label":
		return p.Label
	case "hosted_domain":
		return p.HostedDomain
	case "tenant":
		return p.Tenant
	case "auth_url":
		return p.AuthURL
	case "token_url":
		return p.TokenURL
	case "userinfo_url":
		return p.UserinfoURL
	}
	panic("caddyfile: unknown provider field " + name)
}

// providerSubs makes each provider subdirective refuse, before reading
// its value, what the provider's type does not take (issuer for github,
// base_url for oidc...).
func providerSubs(subs ...subdirective[providerConfig]) []subdirective[providerConfig] {
	for i := range subs {
		name, parse := subs[i].name, subs[i].parse
		subs[i].parse = func(c *cursor, p *providerConfig) error {
			pt := providerTypes[p.Type]
			if why, refused := pt.refused[name]; refused {
				return c.errf("provider %s %q: %s", p.Type, p.Name, why)
			}
			if pt.accepts != nil && !slices.Contains(pt.accepts, name) {
				return c.errf("provider %s %q does not take %s; it takes: %s", p.Type, p.Name, name, strings.Join(pt.accepts, ", "))
			}
			return parse(c, p)
		}
	}
	return subs
}

// providerString is a provider subdirective taking one verbatim string,
// with an example that suits the provider's type.
func providerString(name string, field func(*providerConfig) *string) subdirective[providerConfig] {
	return subdirective[providerConfig]{name: name, parse: func(c *cursor, p *providerConfig) error {
		v, err := c.oneValue(providerExample(p.Type, name))
		if err != nil {
			return err
		}
		*field(p) = v
		return nil
	}}
}

// providerSecret is a provider subdirective taking one secret (see
// secretValue), with an example that suits the provider's type.
func providerSecret(name string, field func(*providerConfig) *string) subdirective[providerConfig] {
	return subdirective[providerConfig]{name: name, parse: func(c *cursor, p *providerConfig) error {
		v, err := c.secretValue(providerExample(p.Type, name))
		if err != nil {
			return err
		}
		*field(p) = v
		return nil
	}}
}

// providerBlock is `provider <type> [<name>] { ... }`.
var providerBlock = newTable("provider", providerSubs(
	subdirective[providerConfig]{name: "issuer", parse: func(c *cursor, p *providerConfig) error {
		v, err := c.oneValue(providerExamples["issuer"])
		if err != nil {
			return err
		}
		if !hasPlaceholder(v) && !isHTTPURL(v) {
			return c.errf("provider issuer must be an http(s) URL such as https://login.example.com; got %q", v)
		}
		p.Issuer = v
		return nil
	}},
	providerString("client_id", func(p *providerConfig) *string { return &p.ClientID }),
	providerSecret("client_secret", func(p *providerConfig) *string { return &p.ClientSecret }),
	subdirective[providerConfig]{name: "scopes", parse: func(c *cursor, p *providerConfig) error {
		args, err := c.args()
		if err != nil {
			return err
		}
		if len(args) == 0 {
			return c.errf("provider scopes needs at least one scope, e.g. scopes %s", providerExample(p.Type, "scopes"))
		}
		p.Scopes = args
		return nil
	}},
	urlField("base_url", providerExamples["base_url"], func(p *providerConfig) *string { return &p.BaseURL }),
	urlField("api_url", providerExamples["api_url"], func(p *providerConfig) *string { return &p.APIURL }),
	subdirective[providerConfig]{name: "redirect_url", parse: func(c *cursor, p *providerConfig) error {
		v, err := c.oneValue(providerExample(p.Type, "redirect_url"))
		if err != nil {
			return err
		}
		if !hasPlaceholder(v) && !isHTTPURL(v) {
			return c.errf("provider redirect_url must be a full http(s) URL such as %s; got %q",
				providerExample(p.Type, "redirect_url"), v)
		}
		p.RedirectURL = v
		return nil
	}},
	providerString("label", func(p *providerConfig) *string { return &p.Label }),
	subdirective[providerConfig]{name: "hosted_domain", parse: func(c *cursor, p *providerConfig) error {
		v, err := c.oneValue(providerExamples["hosted_domain"])
		if err != nil {
			return err
		}
		if !hasPlaceholder(v) && (strings.ContainsAny(v, "/:@ ") || !strings.Contains(v, ".")) {
			return c.errf("provider hosted_domain must be a Google Workspace domain such as example.com; got %q", v)
		}
		p.HostedDomain = v
		return nil
	}},
	subdirective[providerConfig]{name: "tenant", parse: func(c *cursor, p *providerConfig) error {
		v, err := c.oneValue(providerExamples["tenant"])
		if err != nil {
			return err
		}
		if err := checkTenant(c, v); err != nil {
			return err
		}
		p.Tenant = v
		return nil
	}},
	urlField("auth_url", providerExamples["auth_url"], func(p *providerConfig) *string { return &p.AuthURL }),
	urlField("token_url", providerExamples["token_url"], func(p *providerConfig) *string { return &p.TokenURL }),
	urlField("userinfo_url", providerExamples["userinfo_url"], func(p *providerConfig) *string { return &p.UserinfoURL }),
	subdirective[providerConfig]{name: "claims", parse: func(c *cursor, p *providerConfig) error {
		if args := c.RemainingArgs(); len(args) > 0 {
			return c.errf("claims takes no arguments, only a block, e.g. claims { id id login login }; unexpected %q", args[0])
		}
		cl := new(providers.Claims)
		seen, err := parseBlock(c.Dispenser, claimsBlock, cl)
		if err != nil {
			return err
		}
		if len(seen) == 0 {
			return c.errf("claims needs a block, opened on the same line, naming at least one of %s", strings.Join(claimsBlock.names(), ", "))
		}
		p.Claims = cl
		return nil
	}},
	durationField("timeout", "10s", 0, func(p *providerConfig) *caddy.Duration { return &p.Timeout }),
)...)

// claimsBlock is `claims { ... }` of provider oauth2: paths into the
// userinfo response.
var claimsBlock = newTable("claims",
	claimPath("id", func(c *providers.Claims) *string { return &c.ID }),
	claimPath("login", func(c *providers.Claims) *string { return &c.Login }),
	claimPath("email", func(c *providers.Claims) *string { return &c.Email }),
	claimPath("email_verified", func(c *providers.Claims) *string { return &c.EmailVerified }),
	claimPath("name", func(c *providers.Claims) *string { return &c.Name }),
	claimPath("avatar", func(c *providers.Claims) *string { return &c.Avatar }),
)

// claimPath takes a dot-separated path into a JSON object.
func claimPath(name string, field func(*providers.Claims) *string) subdirective[providers.Claims] {
	return subdirective[providers.Claims]{name: name, parse: func(c *cursor, cl *providers.Claims) error {
		v, err := c.oneValue("data.user." + name)
		if err != nil {
			return err
		}
		for _, part := range strings.Split(v, ".") {
			if part == "" || strings.ContainsAny(part, " {}[]\"") {
				return c.errf("claims %s must be a dot-separated path into the userinfo JSON such as data.user.%s; got %q", name, name, v)
			}
		}
		if v == "id_token" || strings.HasPrefix(v, "id_token.") {
			return c.errf("claims %s: %q would read an id_token, which provider oauth2 does not use; "+
				"give a path into the userinfo JSON such as data.user.%s (for an id_token use provider oidc)", name, v, name)
		}
		*field(cl) = v
		return nil
	}}
}

// providerConfig is one provider block as the adapter reads it; it is
// written into the handler's JSON as the provider module's object, with
// "type" naming the module (see package providers for the fields).
type providerConfig struct {
	// Provider type: "oidc" (any OpenID Connect provider), "github" (a
	// GitHub OAuth App), "google", "oauth2" (a generic OAuth 2.0 provider
	// with a userinfo endpoint), or a preset: "gitlab", "microsoft",
	// "gitee", "feishu", "lark". Required.
	Type string `json:"type"`

	// Name used in URLs ({prefix}/login/{name}) and X-Auth-Provider.
	// Lowercase letters, digits, '-' and '_'. Default: the type.
	Name string `json:"name,omitempty"`

	// Label shown on the chooser page. Default: the name.
	Label string `json:"label,omitempty"`

	// OIDC issuer URL; discovery is read from
	// {issuer}/.well-known/openid-configuration. Required for oidc.
	Issuer string `json:"issuer,omitempty"`

	// GitHub web URL, for GitHub Enterprise Server (e.g.
	// https://github.example.com). github only. Default: https://github.com.
	BaseURL string `json:"base_url,omitempty"`

	// GitHub REST API URL. github only. Default: https://api.github.com,
	// or {base_url}/api/v3 when base_url is set.
	APIURL string `json:"api_url,omitempty"`

	// OAuth client ID. Required.
	ClientID string `json:"client_id,omitempty"`

	// OAuth client secret. Placeholders are resolved at provision time and
	// the value is never logged. Default: none (public client with PKCE).
	ClientSecret string `json:"client_secret,omitempty"`

	// Scopes requested. Default: openid email profile for oidc;
	// read:user user:email read:org for github.
	Scopes []string `json:"scopes,omitempty"`

	// Full redirect URI registered at the provider. Default:
	// {external_url or the site's address}{prefix}/callback/{name}.
	RedirectURL string `json:"redirect_url,omitempty"`

	// Google Workspace domain the account must belong to, checked
	// against the id_token's hd claim. google only. Default: any account.
	HostedDomain string `json:"hosted_domain,omitempty"`

	// Microsoft Entra tenant: "common", "organizations", "consumers", or
	// a tenant id or domain. microsoft only. Default: common.
	Tenant string `json:"tenant,omitempty"`

	// Authorization, token and userinfo endpoints. Required for oauth2.
	AuthURL     string `json:"auth_url,omitempty"`
	TokenURL    string `json:"token_url,omitempty"`
	UserinfoURL string `json:"userinfo_url,omitempty"`

	// Where the identity is in the userinfo response. oauth2 only.
	// Default: see providers.Claims.
	Claims *providers.Claims `json:"claims,omitempty"`

	// Time allowed for each call to the provider: discovery, token
	// exchange, userinfo, JWKS, refresh and revocation. A sign-in whose
	// call runs out of time gets 504 provider_timeout; one that cannot
	// reach the provider gets 502 provider_unavailable. Must not be
	// negative. Default: 10s.
	Timeout caddy.Duration `json:"timeout,omitempty"`
}
