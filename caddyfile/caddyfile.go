package caddyfile

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/caddyserver/caddy/v2"
	cf "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/gatehouse-auth/gatehouse/internal/allow"
	"github.com/gatehouse-auth/gatehouse/internal/headers"
	"github.com/gatehouse-auth/gatehouse/module"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("gatehouse", parse)
	httpcaddyfile.RegisterDirectiveOrder("gatehouse", httpcaddyfile.Before, "basic_auth")
}

// parse is the httpcaddyfile entry point of the gatehouse directive.
func parse(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	return Parse(h.Dispenser)
}

// Parse parses one gatehouse directive. d must be positioned before the
// directive name, with any matcher already removed, as httpcaddyfile hands
// it to handler directives. See the package documentation for the syntax.
func Parse(d *cf.Dispenser) (*module.Handler, error) {
	if !d.Next() {
		return nil, d.Err("expected the gatehouse directive")
	}
	dir := d.Token()
	if args := d.RemainingArgs(); len(args) > 0 {
		return nil, errAt(dir, "gatehouse takes no arguments besides an optional matcher "+
			"(e.g. gatehouse /app/* { ... }); unexpected %q", args[0])
	}
	s := &state{h: new(module.Handler), providers: map[string]cf.Token{}, allow: map[string]int{}}
	seen, err := parseBlock(d, topLevel, s)
	if err != nil {
		return nil, err
	}
	if len(seen) == 0 {
		return nil, errAt(dir, "gatehouse needs a block, opened on the same line, with at least "+
			"`secret {env.GATEHOUSE_SECRET}` and one `provider oidc { ... }`")
	}
	if _, ok := seen["secret"]; !ok {
		return nil, errAt(dir, "gatehouse needs a secret of at least 32 bytes, "+
			"e.g. secret {env.GATEHOUSE_SECRET}")
	}
	if s.nangoBothOff.Line != 0 && !slices.ContainsFunc(s.h.Connections, func(c module.ConnectionConfig) bool { return c.Type == "nango" }) {
		return nil, errAt(s.nangoBothOff, "nango: login_integration and repo_integration are both off; "+
			"turn one on, add a connection of type nango, or remove the nango block")
	}
	for _, c := range s.h.Connections {
		if c.Type == "nango" && s.h.Nango == nil {
			return nil, errAt(s.connections[c.Name], "connection %s is of type nango, which needs the nango block "+
				"(its secret_key and webhook_secret)", c.Name)
		}
	}
	if s.h.ConnectionsSecret != "" && len(s.h.Connections) == 0 {
		return nil, errAt(s.connectionsSecret, "connections_secret is only used by connections; add a connection block or remove it")
	}
	if v := s.h.Headers["access_token"]; v != "" && v != headerOff && !s.h.PassAccessToken {
		return nil, errAt(s.headers, "headers access_token names the header of the access token, which is only sent "+
			"with pass_access_token; add pass_access_token or remove access_token")
	}
	if s.h.Nango != nil && s.h.GitHubApp != nil {
		return nil, errAt(s.nango, "nango and github_app both connect repositories; keep one of them "+
			"(with Nango, the GitHub App is Nango's github-app-oauth integration)")
	}
	if s.h.Nango != nil && s.h.Nango.LoginIntegration != "off" {
		if tok, taken := s.providers["nango"]; taken {
			return nil, errAt(tok, "provider name \"nango\" is taken by the nango login (/.gatehouse/login/nango); "+
				"give the provider another name, e.g. provider oidc corp")
		}
	}
	if len(s.h.Providers) == 0 && (s.h.Nango == nil || s.h.Nango.LoginIntegration == "off") {
		if s.h.GitHubApp != nil || s.h.Nango != nil {
			return nil, errAt(dir, "gatehouse needs at least one provider to sign users in; "+
				"github_app and nango with login_integration off only connect their repositories. Add e.g. "+
				"provider github { client_id ... client_secret ... }")
		}
		return nil, errAt(dir, "gatehouse needs at least one provider, "+
			"e.g. provider oidc { issuer https://login.example.com ... client_id ... } "+
			"or provider github { client_id ... client_secret ... }")
	}
	return s.h, nil
}

// state is what the top-level block parses into.
type state struct {
	h       *module.Handler
	nango   cf.Token // where the nango block was declared
	headers cf.Token // where the headers block was declared
	// nangoBothOff is where nango turned off both integrations, which is
	// only useful with connections of type nango.
	nangoBothOff cf.Token
	connections  map[string]cf.Token // connection name → where declared
	// connectionsSecret is where connections_secret was set.
	connectionsSecret cf.Token
	providers         map[string]cf.Token // provider name → where it was declared
	allow             map[string]int      // allow kind → index in h.Allow
}

// topLevel is the gatehouse block.
var topLevel = newTable("",
	subdirective[state]{name: "secret", parse: func(c *cursor, s *state) error {
		v, err := c.secretValue("{env.GATEHOUSE_SECRET}")
		if err != nil {
			return err
		}
		if err := checkSecret(c, v); err != nil {
			return err
		}
		s.h.Secret = v
		return nil
	}},
	subdirective[state]{name: "assertion_key", parse: func(c *cursor, s *state) error {
		v, err := c.oneValue("/etc/gatehouse/assertion.pem")
		s.h.AssertionKey = v
		return err
	}},
	subdirective[state]{name: "previous_assertion_keys", parse: func(c *cursor, s *state) error {
		args, err := c.args()
		if err != nil {
			return err
		}
		if len(args) == 0 {
			return c.errf("previous_assertion_keys needs at least one PEM file, e.g. previous_assertion_keys /etc/gatehouse/assertion-2025.pem")
		}
		s.h.PreviousAssertionKeys = args
		return nil
	}},
	subdirective[state]{name: "store", parse: parseStore},
	subdirective[state]{name: "prefix", parse: func(c *cursor, s *state) error {
		v, err := c.oneValue("/.gatehouse")
		if err != nil {
			return err
		}
		if err := c.noPlaceholder(v, "/.gatehouse"); err != nil {
			return err
		}
		if err := checkPrefix(c, v); err != nil {
			return err
		}
		s.h.Prefix = v
		return nil
	}},
	subdirective[state]{name: "provider", repeat: true, parse: parseProvider},
	subdirective[state]{name: "allow", repeat: true, parse: parseAllow},
	subdirective[state]{name: "public", repeat: true, parse: func(c *cursor, s *state) error {
		args, err := c.args()
		if err != nil {
			return err
		}
		if len(args) == 0 {
			return c.errf("public needs at least one path, e.g. public /healthz /static/*")
		}
		for _, p := range args {
			if err := c.noPlaceholder(p, "/healthz"); err != nil {
				return err
			}
			if err := checkPublicPath(c, p); err != nil {
				return err
			}
		}
		s.h.Public = append(s.h.Public, args...)
		return nil
	}},
	subdirective[state]{name: "github_app", parse: parseGitHubApp},
	subdirective[state]{name: "nango", parse: parseNango},
	subdirective[state]{name: "connection", repeat: true, parse: parseConnection},
	subdirective[state]{name: "connections_secret", parse: func(c *cursor, s *state) error {
		v, err := c.secretValue("{env.GATEHOUSE_CONNECTIONS_SECRET}")
		s.h.ConnectionsSecret, s.connectionsSecret = v, c.tok
		return err
	}},
	subdirective[state]{name: "title", parse: func(c *cursor, s *state) error {
		v, err := c.oneValue(`"Acme"`)
		s.h.Title = v
		return err
	}},
	subdirective[state]{name: "logo", parse: func(c *cursor, s *state) error {
		v, err := c.oneValue("/static/logo.svg")
		if err != nil {
			return err
		}
		if !hasPlaceholder(v) && !strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "data:image/") {
			return c.errf("logo must be a path on the site (/static/logo.svg), an https URL or a data:image/ URL; got %q", v)
		}
		s.h.Logo = v
		return nil
	}},
	subdirective[state]{name: "pass_access_token", parse: func(c *cursor, s *state) error {
		if args := c.RemainingArgs(); len(args) > 0 {
			return c.errf("pass_access_token takes no value; the header is named in headers { access_token X-Token }; unexpected %q", args[0])
		}
		if err := c.noBlock(); err != nil {
			return err
		}
		s.h.PassAccessToken = true
		return nil
	}},
	subdirective[state]{name: "session_cache", parse: func(c *cursor, s *state) error {
		v, err := c.oneValue("5s")
		if err != nil {
			return err
		}
		if v == "off" {
			s.h.SessionCache = -1
			return nil
		}
		if err := c.noPlaceholder(v, "5s"); err != nil {
			return err
		}
		dur, err := caddy.ParseDuration(v)
		if err != nil || dur <= 0 {
			return c.errf("session_cache takes a positive duration or off, e.g. session_cache 5s; got %q", v)
		}
		s.h.SessionCache = caddy.Duration(dur)
		return nil
	}},
	subdirective[state]{name: "logins_per_minute", parse: func(c *cursor, s *state) error {
		v, err := c.oneValue("6000")
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return c.errf("logins_per_minute takes a positive whole number (sign-ins started per minute over all instances), e.g. logins_per_minute 6000; got %q", v)
		}
		s.h.LoginsPerMinute = n
		return nil
	}},
	subdirective[state]{name: "cookie", parse: parseCookie},
	subdirective[state]{name: "headers", parse: parseHeaders},
	subdirective[state]{name: "external_url", parse: func(c *cursor, s *state) error {
		v, err := c.oneValue("https://app.example.com")
		if err != nil {
			return err
		}
		if !hasPlaceholder(v) && !isOrigin(v) {
			return c.errf("external_url must be an origin such as https://app.example.com "+
				"(http or https, a host, an optional port, no path or query); got %q", v)
		}
		s.h.ExternalURL = v
		return nil
	}},
	subdirective[state]{name: "redirect_domains", repeat: true, parse: func(c *cursor, s *state) error {
		args, err := c.args()
		if err != nil {
			return err
		}
		if len(args) == 0 {
			return c.errf("redirect_domains needs at least one host, " +
				"e.g. redirect_domains app.example.com .example.com")
		}
		for _, h := range args {
			if err := checkRedirectDomain(c, h); err != nil {
				return err
			}
		}
		s.h.RedirectDomains = append(s.h.RedirectDomains, args...)
		return nil
	}},
)

// ---- store ----

// defaultRedisAddress is used by `store redis` without a URL or address.
const defaultRedisAddress = "127.0.0.1:6379"

func parseStore(c *cursor, s *state) error {
	args := c.RemainingArgs()
	if len(args) == 0 {
		return c.errf("store needs a type: store memory, store redis <url>, or store redis { ... }")
	}
	switch args[0] {
	case "memory":
		if len(args) > 1 {
			return c.errf("store memory takes no further arguments; remove %q", args[1])
		}
		if c.NextBlock(c.Nesting()) {
			return c.errf("store memory takes no block; for Redis options write store redis { ... }")
		}
		s.h.Store = &module.StoreConfig{Type: "memory"}
		return nil
	case "redis":
		st := &module.StoreConfig{Type: "redis"}
		switch len(args) {
		case 1:
			seen, err := parseBlock(c.Dispenser, redisBlock, st)
			if err != nil {
				return err
			}
			if err := checkRedisBlock(seen, st); err != nil {
				return err
			}
		case 2:
			if c.NextBlock(c.Nesting()) {
				return c.errf("store redis takes either a URL or a block, not both; "+
					"move the URL into the block as: url %s", args[1])
			}
			if err := checkRedisURL(c, "store redis", args[1]); err != nil {
				return err
			}
			st.URL = args[1]
		default:
			return c.errf("store redis takes at most one URL, e.g. store redis redis://127.0.0.1:6379/0; " +
				"for several servers use a block: store redis { address <host:port...> }")
		}
		if st.URL == "" && len(st.Addresses) == 0 {
			st.Addresses = []string{defaultRedisAddress}
		}
		s.h.Store = st
		return nil
	default:
		return c.errf("unknown store type %q; use store memory or store redis", args[0])
	}
}

// redisBlock is `store redis { ... }`.
var redisBlock = newTable("store redis",
	subdirective[module.StoreConfig]{name: "url", parse: func(c *cursor, st *module.StoreConfig) error {
		v, err := c.oneValue("redis://127.0.0.1:6379/0")
		if err != nil {
			return err
		}
		if len(st.Addresses) > 0 {
			return c.errf("store redis takes url or address, not both; " +
				"use url for one server or address for several")
		}
		if err := checkRedisURL(c, "store redis url", v); err != nil {
			return err
		}
		st.URL = v
		return nil
	}},
	subdirective[module.StoreConfig]{name: "address", repeat: true, parse: func(c *cursor, st *module.StoreConfig) error {
		args, err := c.args()
		if err != nil {
			return err
		}
		if len(args) == 0 {
			return c.errf("store redis address needs at least one host:port, e.g. address 127.0.0.1:6379")
		}
		if st.URL != "" {
			return c.errf("store redis takes url or address, not both; " +
				"use url for one server or address for several")
		}
		for _, a := range args {
			if !hasPlaceholder(a) && !isHostPort(a) {
				return c.errf("store redis address %q must be host:port, e.g. 127.0.0.1:6379 "+
					"(for a URL use url instead)", a)
			}
		}
		st.Addresses = append(st.Addresses, args...)
		return nil
	}},
	stringField("master_name", "mymaster", func(st *module.StoreConfig) *string { return &st.MasterName }),
	stringField("username", "{env.REDIS_USER}", func(st *module.StoreConfig) *string { return &st.Username }),
	secretField("password", "{env.REDIS_PASSWORD}", func(st *module.StoreConfig) *string { return &st.Password }),
	secretField("sentinel_password", "{env.SENTINEL_PASSWORD}", func(st *module.StoreConfig) *string { return &st.SentinelPassword }),
	subdirective[module.StoreConfig]{name: "db", parse: func(c *cursor, st *module.StoreConfig) error {
		v, err := c.oneValue("0")
		if err != nil {
			return err
		}
		if err := c.noPlaceholder(v, "0"); err != nil {
			return err
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return c.errf("store redis db must be a whole number >= 0 (the Redis database index), e.g. db 0; got %q", v)
		}
		st.DB = n
		return nil
	}},
	subdirective[module.StoreConfig]{name: "tls", parse: func(c *cursor, st *module.StoreConfig) error {
		args, err := c.args()
		if err != nil {
			return err
		}
		if len(args) > 0 {
			return c.errf("store redis tls takes no value; write just: tls")
		}
		st.TLS = true
		return nil
	}},
	stringField("key_prefix", "gatehouse:", func(st *module.StoreConfig) *string { return &st.KeyPrefix }),
	durationField("timeout", "2s", 0, func(st *module.StoreConfig) *caddy.Duration { return &st.Timeout }),
)

// checkRedisBlock checks what needs the whole `store redis` block.
func checkRedisBlock(seen map[string]cf.Token, st *module.StoreConfig) error {
	if tok, ok := seen["master_name"]; ok && st.URL == "" && len(st.Addresses) == 0 {
		return errAt(tok, "store redis master_name needs the Sentinel addresses, "+
			"e.g. address 127.0.0.1:26379 127.0.0.1:26380 127.0.0.1:26381")
	}
	if st.URL != "" {
		for _, x := range []struct{ name, fix string }{
			{"username", "put the user and password in the URL: redis://user:password@host:6379/0"},
			{"password", "put the user and password in the URL: redis://user:password@host:6379/0"},
			{"db", "put the database number in the URL path: redis://host:6379/2"},
			{"tls", "use the rediss:// scheme for TLS"},
			{"master_name", "Sentinels need address <host:port...> instead of url"},
			{"sentinel_password", "Sentinels need address <host:port...> instead of url"},
		} {
			if tok, ok := seen[x.name]; ok {
				return errAt(tok, "store redis %s cannot be combined with url; %s", x.name, x.fix)
			}
		}
	}
	if tok, ok := seen["db"]; ok && st.DB != 0 && len(st.Addresses) > 1 && st.MasterName == "" {
		return errAt(tok, "store redis db must be 0 with a Cluster (several addresses without master_name); "+
			"remove db or add master_name for Sentinels")
	}
	if tok, ok := seen["sentinel_password"]; ok && st.MasterName == "" {
		return errAt(tok, "store redis sentinel_password only applies to Sentinels; "+
			"add master_name <name> or remove sentinel_password")
	}
	return nil
}

// ---- provider ----

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

	p := module.ProviderConfig{Type: typ, Name: name}
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
	s.h.Providers = append(s.h.Providers, p)
	return nil
}

// providerField returns the value of a single-valued provider subdirective.
func providerField(p *module.ProviderConfig, name string) string {
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
func providerSubs(subs ...subdirective[module.ProviderConfig]) []subdirective[module.ProviderConfig] {
	for i := range subs {
		name, parse := subs[i].name, subs[i].parse
		subs[i].parse = func(c *cursor, p *module.ProviderConfig) error {
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
func providerString(name string, field func(*module.ProviderConfig) *string) subdirective[module.ProviderConfig] {
	return subdirective[module.ProviderConfig]{name: name, parse: func(c *cursor, p *module.ProviderConfig) error {
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
func providerSecret(name string, field func(*module.ProviderConfig) *string) subdirective[module.ProviderConfig] {
	return subdirective[module.ProviderConfig]{name: name, parse: func(c *cursor, p *module.ProviderConfig) error {
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
	subdirective[module.ProviderConfig]{name: "issuer", parse: func(c *cursor, p *module.ProviderConfig) error {
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
	providerString("client_id", func(p *module.ProviderConfig) *string { return &p.ClientID }),
	providerSecret("client_secret", func(p *module.ProviderConfig) *string { return &p.ClientSecret }),
	subdirective[module.ProviderConfig]{name: "scopes", parse: func(c *cursor, p *module.ProviderConfig) error {
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
	urlField("base_url", providerExamples["base_url"], func(p *module.ProviderConfig) *string { return &p.BaseURL }),
	urlField("api_url", providerExamples["api_url"], func(p *module.ProviderConfig) *string { return &p.APIURL }),
	subdirective[module.ProviderConfig]{name: "redirect_url", parse: func(c *cursor, p *module.ProviderConfig) error {
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
	providerString("label", func(p *module.ProviderConfig) *string { return &p.Label }),
	subdirective[module.ProviderConfig]{name: "hosted_domain", parse: func(c *cursor, p *module.ProviderConfig) error {
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
	subdirective[module.ProviderConfig]{name: "tenant", parse: func(c *cursor, p *module.ProviderConfig) error {
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
	urlField("auth_url", providerExamples["auth_url"], func(p *module.ProviderConfig) *string { return &p.AuthURL }),
	urlField("token_url", providerExamples["token_url"], func(p *module.ProviderConfig) *string { return &p.TokenURL }),
	urlField("userinfo_url", providerExamples["userinfo_url"], func(p *module.ProviderConfig) *string { return &p.UserinfoURL }),
	subdirective[module.ProviderConfig]{name: "claims", parse: func(c *cursor, p *module.ProviderConfig) error {
		if args := c.RemainingArgs(); len(args) > 0 {
			return c.errf("claims takes no arguments, only a block, e.g. claims { id id login login }; unexpected %q", args[0])
		}
		cl := new(module.ClaimsConfig)
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
	durationField("timeout", "10s", 0, func(p *module.ProviderConfig) *caddy.Duration { return &p.Timeout }),
)...)

// claimsBlock is `claims { ... }` of provider oauth2: paths into the
// userinfo response.
var claimsBlock = newTable("claims",
	claimPath("id", func(c *module.ClaimsConfig) *string { return &c.ID }),
	claimPath("login", func(c *module.ClaimsConfig) *string { return &c.Login }),
	claimPath("email", func(c *module.ClaimsConfig) *string { return &c.Email }),
	claimPath("email_verified", func(c *module.ClaimsConfig) *string { return &c.EmailVerified }),
	claimPath("name", func(c *module.ClaimsConfig) *string { return &c.Name }),
	claimPath("avatar", func(c *module.ClaimsConfig) *string { return &c.Avatar }),
)

// claimPath takes a dot-separated path into a JSON object.
func claimPath(name string, field func(*module.ClaimsConfig) *string) subdirective[module.ClaimsConfig] {
	return subdirective[module.ClaimsConfig]{name: name, parse: func(c *cursor, cl *module.ClaimsConfig) error {
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

// ---- allow ----

// allowKind is one kind of allow rule. Adding a kind is one line in
// allowKinds.
type allowKind struct {
	name    string
	example string
	check   func(c *cursor, v string) error // nil: any value
	// viaAccess: literal values are also compiled by internal/allow, so
	// that what adapts also provisions. The GitHub kinds are checked here
	// only, to the same shape (org, org/team, owner/name).
	viaAccess bool
}

var allowKinds = []allowKind{
	{name: "user", example: "alice", viaAccess: true},
	{name: "email", example: "*@example.com", check: checkAllowEmail, viaAccess: true},
	{name: "domain", example: "example.com", check: checkAllowDomain, viaAccess: true},
	{name: "org", example: "acme", check: checkAllowOrg},
	{name: "team", example: "acme/backend", check: checkAllowTeam},
	{name: "repo", example: "acme/app", check: checkAllowRepo},
}

func allowKindNames() string {
	names := make([]string, len(allowKinds))
	for i, k := range allowKinds {
		names[i] = k.name
	}
	return strings.Join(names, ", ")
}

func parseAllow(c *cursor, s *state) error {
	args, err := c.args()
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return c.errf("allow needs a kind and at least one value, e.g. allow email *@example.com; kinds: %s",
			allowKindNames())
	}
	i := slices.IndexFunc(allowKinds, func(k allowKind) bool { return k.name == args[0] })
	if i < 0 {
		return c.errf("unknown allow kind %q; use one of: %s, e.g. allow email *@example.com",
			args[0], allowKindNames())
	}
	kind := allowKinds[i]
	values := args[1:]
	if len(values) == 0 {
		return c.errf("allow %s needs at least one value, e.g. allow %s %s", kind.name, kind.name, kind.example)
	}
	var literal []string // values known now; placeholders are resolved at provision
	for _, v := range values {
		if hasPlaceholder(v) {
			continue
		}
		if kind.check != nil {
			if err := kind.check(c, v); err != nil {
				return err
			}
		}
		literal = append(literal, v)
	}
	// The module's own rules, so that what adapts also provisions.
	if kind.viaAccess && len(literal) > 0 {
		if _, err := allow.New([]allow.Rule{{Kind: kind.name, Values: literal}}); err != nil {
			return c.errf("allow %s: %v", kind.name, reason(err))
		}
	}
	if idx, ok := s.allow[kind.name]; ok {
		s.h.Allow[idx].Values = append(s.h.Allow[idx].Values, values...)
		return nil
	}
	s.allow[kind.name] = len(s.h.Allow)
	s.h.Allow = append(s.h.Allow, module.AllowRule{Kind: kind.name, Values: slices.Clone(values)})
	return nil
}

func checkAllowEmail(c *cursor, v string) error {
	local, domain, ok := strings.Cut(v, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") {
		return c.errf("allow email %q is not an email address; use alice@example.com, "+
			"*@example.com for a whole domain, or allow domain example.com", v)
	}
	if strings.Contains(domain, "*") || (strings.Contains(local, "*") && local != "*") {
		return c.errf("allow email %q: * may only stand for the whole part before the @, as in *@example.com", v)
	}
	return nil
}

func checkAllowDomain(c *cursor, v string) error {
	if strings.Contains(v, "@") {
		return c.errf("allow domain %q must be a bare domain such as example.com; "+
			"for addresses use allow email", v)
	}
	if strings.HasPrefix(v, "*.") {
		return c.errf("allow domain %q: write .%s to admit every subdomain (or %s for that domain only)", v, v[2:], v[2:])
	}
	if strings.ContainsAny(v, "*/: ") {
		return c.errf("allow domain %q must be a bare domain such as example.com, or .example.com "+
			"for its subdomains (no wildcard, scheme, port or path)", v)
	}
	return nil
}

// checkGitHubName checks what the org, team and repo kinds share: a
// non-empty name without white space or wildcards. noun names one value.
func checkGitHubName(c *cursor, kind, noun, v string) error {
	if v == "" || strings.ContainsFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return c.errf("allow %s %q must be a non-empty name without white space", kind, v)
	}
	if strings.Contains(v, "*") {
		return c.errf("allow %s %q: wildcards are not supported; list each %s", kind, v, noun)
	}
	return nil
}

// isPair reports whether v is a/b: exactly one '/', both sides non-empty.
func isPair(v string) bool {
	a, b, ok := strings.Cut(v, "/")
	return ok && a != "" && b != "" && !strings.Contains(b, "/")
}

func checkAllowOrg(c *cursor, v string) error {
	if err := checkGitHubName(c, "org", "organization", v); err != nil {
		return err
	}
	if strings.Contains(v, "/") {
		return c.errf("allow org %q must be an organization name such as acme, without /; "+
			"for a team write allow team org/team, for a repository allow repo owner/name", v)
	}
	return nil
}

func checkAllowTeam(c *cursor, v string) error {
	if err := checkGitHubName(c, "team", "team", v); err != nil {
		return err
	}
	if !isPair(v) {
		return c.errf("allow team %q must be org/team with exactly one /, e.g. allow team acme/backend "+
			"(the team's slug, as in github.com/orgs/acme/teams/backend)", v)
	}
	return nil
}

func checkAllowRepo(c *cursor, v string) error {
	if err := checkGitHubName(c, "repo", "repository", v); err != nil {
		return err
	}
	if !isPair(v) {
		return c.errf("allow repo %q must be owner/name with exactly one /, e.g. allow repo acme/app (not a URL)", v)
	}
	return nil
}

// ---- github_app ----

// gitHubAppExamples are sample values used in github_app error messages.
var gitHubAppExamples = map[string]string{
	"app_id":           "123456",
	"client_id":        "{env.GITHUB_APP_CLIENT_ID}",
	"client_secret":    "{env.GITHUB_APP_CLIENT_SECRET}",
	"webhook_secret":   "{env.GITHUB_WEBHOOK_SECRET}",
	"private_key_file": "/etc/gatehouse/github-app.pem",
	"base_url":         "https://github.example.com",
	"api_url":          "https://github.example.com/api/v3",
	"recheck_interval": "10m",
}

func parseGitHubApp(c *cursor, s *state) error {
	if args := c.RemainingArgs(); len(args) > 0 {
		return c.errf("github_app takes no arguments, only a block, e.g. github_app { app_id 123456 ... }; "+
			"unexpected %q", args[0])
	}
	app := new(module.GitHubAppConfig)
	seen, err := parseBlock(c.Dispenser, gitHubAppBlock, app)
	if err != nil {
		return err
	}
	if len(seen) == 0 {
		return c.errf("github_app needs a block, opened on the same line, with at least " +
			"client_id, client_secret and webhook_secret")
	}
	for _, f := range []struct{ name, value string }{
		{"client_id", app.ClientID},
		{"client_secret", app.ClientSecret},
		{"webhook_secret", app.WebhookSecret},
	} {
		if f.value == "" {
			return c.errf("github_app needs %s in its block, e.g. %s %s", f.name, f.name, gitHubAppExamples[f.name])
		}
	}
	if tok, ok := seen["private_key_file"]; ok && app.AppID == "" {
		return errAt(tok, "github_app private_key_file needs app_id, the App's numeric ID from its settings page, "+
			"e.g. app_id %s", gitHubAppExamples["app_id"])
	}
	s.h.GitHubApp = app
	return nil
}

// gitHubAppBlock is `github_app { ... }`.
var gitHubAppBlock = newTable("github_app",
	subdirective[module.GitHubAppConfig]{name: "app_id", parse: func(c *cursor, app *module.GitHubAppConfig) error {
		v, err := c.oneValue(gitHubAppExamples["app_id"])
		if err != nil {
			return err
		}
		if !hasPlaceholder(v) && strings.Trim(v, "0123456789") != "" {
			hint := ""
			if strings.HasPrefix(v, "Iv") {
				hint = " (that looks like the client ID, which goes in client_id)"
			}
			return c.errf("github_app app_id must be the App's numeric ID from its settings page, "+
				"e.g. app_id 123456; got %q%s", v, hint)
		}
		app.AppID = v
		return nil
	}},
	stringField("client_id", gitHubAppExamples["client_id"], func(app *module.GitHubAppConfig) *string { return &app.ClientID }),
	secretField("client_secret", gitHubAppExamples["client_secret"], func(app *module.GitHubAppConfig) *string { return &app.ClientSecret }),
	secretField("webhook_secret", gitHubAppExamples["webhook_secret"], func(app *module.GitHubAppConfig) *string { return &app.WebhookSecret }),
	stringField("private_key_file", gitHubAppExamples["private_key_file"], func(app *module.GitHubAppConfig) *string { return &app.PrivateKeyFile }),
	urlField("base_url", gitHubAppExamples["base_url"], func(app *module.GitHubAppConfig) *string { return &app.BaseURL }),
	urlField("api_url", gitHubAppExamples["api_url"], func(app *module.GitHubAppConfig) *string { return &app.APIURL }),
	durationField("recheck_interval", gitHubAppExamples["recheck_interval"], time.Second,
		func(app *module.GitHubAppConfig) *caddy.Duration { return &app.RecheckInterval }),
)

// ---- nango ----

// nangoExamples are sample values used in nango error messages.
var nangoExamples = map[string]string{
	"secret_key":              "{env.NANGO_SECRET_KEY}",
	"base_url":                "https://api.nango.dev",
	"connect_url":             "https://connect.nango.dev",
	"webhook_secret":          "{env.NANGO_WEBHOOK_SECRET}",
	"previous_webhook_secret": "{env.NANGO_PREVIOUS_WEBHOOK_SECRET}",
	"login_integration":       "github",
	"repo_integration":        "github-app-oauth",
	"syncs":                   "repos",
	"sync_forward":            "http://localhost:3000/nango-webhooks",
	"label":                   "GitHub",
	"github_api_url":          "https://github.example.com/api/v3",
	"recheck_interval":        "10m",
}

func parseNango(c *cursor, s *state) error {
	if args := c.RemainingArgs(); len(args) > 0 {
		return c.errf("nango takes no arguments, only a block, e.g. nango { secret_key {env.NANGO_SECRET_KEY} ... }; "+
			"unexpected %q", args[0])
	}
	s.nango = c.tok
	n := new(module.NangoConfig)
	seen, err := parseBlock(c.Dispenser, nangoBlock, n)
	if err != nil {
		return err
	}
	if len(seen) == 0 {
		return c.errf("nango needs a block, opened on the same line, with at least secret_key and webhook_secret")
	}
	for _, f := range []struct{ name, value string }{
		{"secret_key", n.SecretKey},
		{"webhook_secret", n.WebhookSecret},
	} {
		if f.value == "" {
			return c.errf("nango needs %s in its block, e.g. %s %s", f.name, f.name, nangoExamples[f.name])
		}
	}
	if n.LoginIntegration == "off" && n.RepoIntegration == "off" {
		s.nangoBothOff = seen["repo_integration"]
	}
	login, repo := cmp.Or(n.LoginIntegration, "github"), cmp.Or(n.RepoIntegration, "github-app-oauth")
	if login == repo && login != "off" {
		tok := seen["login_integration"]
		if _, ok := seen["repo_integration"]; ok {
			tok = seen["repo_integration"]
		}
		return errAt(tok, "nango: login_integration and repo_integration must be two integrations "+
			"(a GitHub OAuth App for sign-in, a GitHub App for repositories); both are %q", login)
	}
	s.h.Nango = n
	return nil
}

// integrationField takes a Nango integration id (unique key), or off.
func integrationField(name string, field func(*module.NangoConfig) *string) subdirective[module.NangoConfig] {
	return subdirective[module.NangoConfig]{name: name, parse: func(c *cursor, n *module.NangoConfig) error {
		v, err := c.oneValue(nangoExamples[name])
		if err != nil {
			return err
		}
		if !hasPlaceholder(v) && !isIntegrationID(v) {
			return c.errf("%s must be the integration's unique key from Nango's dashboard (letters, digits, - and _), "+
				"or off; e.g. %s %s; got %q", c.what(), name, nangoExamples[name], v)
		}
		*field(n) = v
		return nil
	}}
}

func isIntegrationID(v string) bool {
	if v == "" || len(v) > 255 {
		return false
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// nangoBlock is `nango { ... }`.
var nangoBlock = newTable("nango",
	secretField("secret_key", nangoExamples["secret_key"], func(n *module.NangoConfig) *string { return &n.SecretKey }),
	urlField("base_url", nangoExamples["base_url"], func(n *module.NangoConfig) *string { return &n.BaseURL }),
	urlField("connect_url", nangoExamples["connect_url"], func(n *module.NangoConfig) *string { return &n.ConnectURL }),
	secretField("webhook_secret", nangoExamples["webhook_secret"], func(n *module.NangoConfig) *string { return &n.WebhookSecret }),
	secretField("previous_webhook_secret", nangoExamples["previous_webhook_secret"], func(n *module.NangoConfig) *string { return &n.PreviousWebhookSecret }),
	integrationField("login_integration", func(n *module.NangoConfig) *string { return &n.LoginIntegration }),
	integrationField("repo_integration", func(n *module.NangoConfig) *string { return &n.RepoIntegration }),
	subdirective[module.NangoConfig]{name: "syncs", parse: func(c *cursor, n *module.NangoConfig) error {
		args, err := c.args()
		if err != nil {
			return err
		}
		if len(args) == 0 {
			return c.errf("syncs needs at least one sync name, e.g. syncs repos")
		}
		for _, a := range args {
			if !hasPlaceholder(a) && !isIntegrationID(a) {
				return c.errf("syncs: %q is not a sync name (letters, digits, - and _), e.g. syncs repos", a)
			}
		}
		n.Syncs = append(n.Syncs, args...)
		return nil
	}},
	urlField("sync_forward", nangoExamples["sync_forward"], func(n *module.NangoConfig) *string { return &n.SyncForward }),
	stringField("label", nangoExamples["label"], func(n *module.NangoConfig) *string { return &n.Label }),
	urlField("github_api_url", nangoExamples["github_api_url"], func(n *module.NangoConfig) *string { return &n.GitHubAPIURL }),
	durationField("recheck_interval", nangoExamples["recheck_interval"], time.Second,
		func(n *module.NangoConfig) *caddy.Duration { return &n.RecheckInterval }),
)

// ---- connection ----

// connectionFields lists, per connection type, the subdirectives it
// requires and the ones it takes besides type.
var connectionFields = map[string]struct{ required, accepts []string }{
	"oauth1": {
		required: []string{"request_token_url", "authorize_url", "access_token_url", "consumer_key", "consumer_secret"},
		accepts:  []string{"request_token_url", "authorize_url", "access_token_url", "consumer_key", "consumer_secret"},
	},
	"oauth2": {
		required: []string{"auth_url", "token_url", "client_id"},
		accepts:  []string{"auth_url", "token_url", "revoke_url", "client_id", "client_secret", "scopes", "auth_style"},
	},
	"nango": {required: []string{"integration"}, accepts: []string{"integration"}},
}

// connectionExamples are sample values used in connection error messages.
var connectionExamples = map[string]string{
	"type":              "oauth2",
	"request_token_url": "https://connectapi.garmin.com/oauth-service/oauth/request_token",
	"authorize_url":     "https://connect.garmin.com/oauthConfirm",
	"access_token_url":  "https://connectapi.garmin.com/oauth-service/oauth/access_token",
	"consumer_key":      "{env.GARMIN_CONSUMER_KEY}",
	"consumer_secret":   "{env.GARMIN_CONSUMER_SECRET}",
	"auth_url":          "https://api.prod.whoop.com/oauth/oauth2/auth",
	"token_url":         "https://api.prod.whoop.com/oauth/oauth2/token",
	"revoke_url":        "https://provider.example.com/oauth/revoke",
	"client_id":         "{env.WHOOP_CLIENT_ID}",
	"client_secret":     "{env.WHOOP_CLIENT_SECRET}",
	"scopes":            "read:recovery offline",
	"integration":       "strava",
}

func parseConnection(c *cursor, s *state) error {
	args := c.RemainingArgs()
	if len(args) != 1 {
		return c.errf("connection takes one name, e.g. connection garmin { type oauth1 ... }")
	}
	name := args[0]
	if !isProviderName(name) {
		return c.errf("connection name %q must be 1 to 32 lowercase letters, digits, - or _ "+
			"(it appears in URLs such as /.gatehouse/connect/%s)", name, name)
	}
	if s.connections == nil {
		s.connections = map[string]cf.Token{}
	}
	if first, dup := s.connections[name]; dup {
		return c.errf("connection %q is already declared at line %d", name, first.Line)
	}
	s.connections[name] = c.tok
	conn := module.ConnectionConfig{Name: name}
	seen, err := parseBlock(c.Dispenser, connectionBlock, &conn)
	if err != nil {
		return err
	}
	if conn.Type == "" {
		return c.errf("connection %s needs a type in its block: oauth1, oauth2 or nango, e.g. type oauth2", name)
	}
	fields := connectionFields[conn.Type]
	for field, tok := range seen {
		if field != "type" && !slices.Contains(fields.accepts, field) {
			return errAt(tok, "connection %s of type %s does not take %s; it takes: %s", name, conn.Type, field, strings.Join(fields.accepts, ", "))
		}
	}
	for _, field := range fields.required {
		if _, ok := seen[field]; !ok {
			return c.errf("connection %s of type %s needs %s in its block, e.g. %s %s", name, conn.Type, field, field, connectionExamples[field])
		}
	}
	s.h.Connections = append(s.h.Connections, conn)
	return nil
}

func connectionString(name string, field func(*module.ConnectionConfig) *string) subdirective[module.ConnectionConfig] {
	return stringField(name, connectionExamples[name], field)
}

func connectionSecret(name string, field func(*module.ConnectionConfig) *string) subdirective[module.ConnectionConfig] {
	return secretField(name, connectionExamples[name], field)
}

func connectionURL(name string, field func(*module.ConnectionConfig) *string) subdirective[module.ConnectionConfig] {
	return urlField(name, connectionExamples[name], field)
}

// connectionBlock is `connection <name> { ... }`.
var connectionBlock = newTable("connection",
	subdirective[module.ConnectionConfig]{name: "type", parse: func(c *cursor, conn *module.ConnectionConfig) error {
		v, err := c.oneValue("oauth2")
		if err != nil {
			return err
		}
		if _, ok := connectionFields[v]; !ok {
			return c.errf("connection type must be oauth1, oauth2 or nango; got %q", v)
		}
		conn.Type = v
		return nil
	}},
	connectionURL("request_token_url", func(x *module.ConnectionConfig) *string { return &x.RequestTokenURL }),
	connectionURL("authorize_url", func(x *module.ConnectionConfig) *string { return &x.AuthorizeURL }),
	connectionURL("access_token_url", func(x *module.ConnectionConfig) *string { return &x.AccessTokenURL }),
	connectionString("consumer_key", func(x *module.ConnectionConfig) *string { return &x.ConsumerKey }),
	connectionSecret("consumer_secret", func(x *module.ConnectionConfig) *string { return &x.ConsumerSecret }),
	connectionURL("auth_url", func(x *module.ConnectionConfig) *string { return &x.AuthURL }),
	connectionURL("token_url", func(x *module.ConnectionConfig) *string { return &x.TokenURL }),
	connectionURL("revoke_url", func(x *module.ConnectionConfig) *string { return &x.RevokeURL }),
	connectionString("client_id", func(x *module.ConnectionConfig) *string { return &x.ClientID }),
	connectionSecret("client_secret", func(x *module.ConnectionConfig) *string { return &x.ClientSecret }),
	subdirective[module.ConnectionConfig]{name: "scopes", parse: func(c *cursor, conn *module.ConnectionConfig) error {
		args, err := c.args()
		if err != nil {
			return err
		}
		if len(args) == 0 {
			return c.errf("connection scopes needs at least one scope, e.g. scopes %s", connectionExamples["scopes"])
		}
		conn.Scopes = args
		return nil
	}},
	subdirective[module.ConnectionConfig]{name: "auth_style", parse: func(c *cursor, conn *module.ConnectionConfig) error {
		v, err := c.oneValue("post")
		if err != nil {
			return err
		}
		if v != "basic" && v != "post" {
			return c.errf("connection auth_style must be basic (client_secret_basic) or post (client_secret_post); got %q", v)
		}
		conn.AuthStyle = v
		return nil
	}},
	subdirective[module.ConnectionConfig]{name: "integration", parse: func(c *cursor, conn *module.ConnectionConfig) error {
		v, err := c.oneValue(connectionExamples["integration"])
		if err != nil {
			return err
		}
		if !hasPlaceholder(v) && !isIntegrationID(v) {
			return c.errf("connection integration must be the integration's unique key from Nango's dashboard; got %q", v)
		}
		conn.Integration = v
		return nil
	}},
)

// ---- cookie ----

func parseCookie(c *cursor, s *state) error {
	if args := c.RemainingArgs(); len(args) > 0 {
		return c.errf("cookie takes no arguments, only a block, e.g. cookie { lifetime 168h }; unexpected %q", args[0])
	}
	cc := new(module.CookieConfig)
	seen, err := parseBlock(c.Dispenser, cookieBlock, cc)
	if err != nil {
		return err
	}
	if len(seen) == 0 {
		return c.errf("cookie needs a block, opened on the same line, with at least one of: %s",
			strings.Join(cookieBlock.names(), ", "))
	}
	if tok, ok := seen["domain"]; ok && strings.HasPrefix(strings.ToLower(cc.Name), "__host-") {
		return errAt(tok, "cookie name %q starts with __Host-, which browsers reject together with a domain; "+
			"remove domain or use a name such as __Secure-gatehouse", cc.Name)
	}
	if cc.Lifetime > 0 && cc.IdleTimeout > cc.Lifetime {
		tok := seen["idle_timeout"]
		if l := seen["lifetime"]; l.Line > tok.Line {
			tok = l
		}
		return errAt(tok, "cookie idle_timeout (%v) must not exceed lifetime (%v); "+
			"shorten idle_timeout or lengthen lifetime", time.Duration(cc.IdleTimeout), time.Duration(cc.Lifetime))
	}
	s.h.Cookie = cc
	return nil
}

var sameSiteValues = []string{"lax", "strict", "none"}

// cookieBlock is `cookie { ... }`.
var cookieBlock = newTable("cookie",
	subdirective[module.CookieConfig]{name: "name", parse: func(c *cursor, cc *module.CookieConfig) error {
		v, err := c.oneValue("__Host-gatehouse")
		if err != nil {
			return err
		}
		if err := c.noPlaceholder(v, "__Host-gatehouse"); err != nil {
			return err
		}
		if !isToken(v) {
			return c.errf("cookie name %q is not a valid cookie name; use letters, digits, - and _, "+
				"e.g. name __Host-gatehouse", v)
		}
		cc.Name = v
		return nil
	}},
	subdirective[module.CookieConfig]{name: "domain", parse: func(c *cursor, cc *module.CookieConfig) error {
		v, err := c.oneValue("example.com")
		if err != nil {
			return err
		}
		if !hasPlaceholder(v) && (strings.ContainsAny(v, "/:@* ") || !strings.Contains(strings.TrimPrefix(v, "."), ".")) {
			return c.errf("cookie domain %q must be a registrable domain such as example.com "+
				"(no scheme, port, path or wildcard)", v)
		}
		cc.Domain = v
		return nil
	}},
	durationField("lifetime", "168h", time.Minute, func(cc *module.CookieConfig) *caddy.Duration { return &cc.Lifetime }),
	durationField("idle_timeout", "24h", time.Minute, func(cc *module.CookieConfig) *caddy.Duration { return &cc.IdleTimeout }),
	subdirective[module.CookieConfig]{name: "same_site", parse: func(c *cursor, cc *module.CookieConfig) error {
		v, err := c.oneValue("lax")
		if err != nil {
			return err
		}
		lv := strings.ToLower(v)
		if !slices.Contains(sameSiteValues, lv) {
			return c.errf("cookie same_site must be one of %s; got %q", strings.Join(sameSiteValues, ", "), v)
		}
		cc.SameSite = lv
		return nil
	}},
)

// ---- headers ----

// headerOff turns a header off.
const headerOff = "off"

// reservedHeaders are request headers an identity header must not replace:
// Gatehouse removes client copies of its headers, which would break these.
var reservedHeaders = []string{
	"Authorization", "Connection", "Content-Length", "Content-Type", "Cookie", "Host",
	"Keep-Alive", "Proxy-Authorization", "Proxy-Connection", "Te", "Trailer",
	"Transfer-Encoding", "Upgrade", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
}

// headerFields lists the headers block in order, with each default name:
// every identity field, the assertion and the access token.
var headerFields = headers.Renamables()

// headersBlock is `headers { ... }`, one subdirective per headerFields entry.
var headersBlock = func() table[module.HeadersConfig] {
	subs := make([]subdirective[module.HeadersConfig], len(headerFields))
	for i, f := range headerFields {
		subs[i] = subdirective[module.HeadersConfig]{name: f.Key, parse: func(c *cursor, h *module.HeadersConfig) error {
			v, err := c.oneValue("X-Remote-User (or off)")
			if err != nil {
				return err
			}
			if err := c.noPlaceholder(v, "X-Remote-User"); err != nil {
				return err
			}
			if strings.EqualFold(v, headerOff) {
				(*h)[f.Key] = headerOff
				return nil
			}
			if !isToken(v) || strings.ContainsAny(v, "_.") {
				return c.errf("headers %s: %q is not a usable header name; use letters, digits and - "+
					"(proxies drop names with _ or .), e.g. %s X-Remote-User, or %s off", f.Key, v, f.Key, f.Key)
			}
			if i := slices.IndexFunc(reservedHeaders, func(r string) bool { return strings.EqualFold(r, v) }); i >= 0 {
				return c.errf("headers %s cannot be %s: Gatehouse replaces client copies of its headers, "+
					"which would break the request; pick another name such as X-Remote-User", f.Key, reservedHeaders[i])
			}
			(*h)[f.Key] = v
			return nil
		}}
	}
	return newTable("headers", subs...)
}()

func parseHeaders(c *cursor, s *state) error {
	if args := c.RemainingArgs(); len(args) > 0 {
		return c.errf("headers takes no arguments, only a block, e.g. headers { user X-Remote-User }; unexpected %q", args[0])
	}
	s.headers = c.tok
	h := module.HeadersConfig{}
	seen, err := parseBlock(c.Dispenser, headersBlock, &h)
	if err != nil {
		return err
	}
	if len(seen) == 0 {
		return c.errf("headers needs a block, opened on the same line, setting at least one of %s "+
			"to a header name or off", strings.Join(headersBlock.names(), ", "))
	}
	// Two identity fields must not end up in the same header, counting the
	// defaults of the fields left alone.
	type use struct {
		field string
		tok   cf.Token // zero when the default is in effect
	}
	used := map[string]use{}
	for _, f := range headerFields {
		name, tok := f.Default, cf.Token{}
		if v := h[f.Key]; v != "" {
			name, tok = v, seen[f.Key]
		}
		if name == headerOff {
			continue
		}
		key := strings.ToLower(name)
		if prev, clash := used[key]; clash {
			// Blame the renamed one that comes last in the file.
			at := tok
			if at.Text == "" || (prev.tok.Text != "" && prev.tok.Line > at.Line) {
				at = prev.tok
			}
			return errAt(at, "headers %s and %s would both be sent as %s; "+
				"give each its own name or turn one off", prev.field, f.Key, name)
		}
		used[key] = use{field: f.Key, tok: tok}
	}
	s.h.Headers = h
	return nil
}

// ---- shared field helpers ----

// stringField is a subdirective taking one verbatim string value.
func stringField[T any](name, example string, field func(*T) *string) subdirective[T] {
	return subdirective[T]{name: name, parse: func(c *cursor, v *T) error {
		val, err := c.oneValue(example)
		if err != nil {
			return err
		}
		*field(v) = val
		return nil
	}}
}

// urlField is a subdirective taking one http(s) URL without query or
// fragment, such as a GitHub Enterprise base_url; placeholders are kept.
func urlField[T any](name, example string, field func(*T) *string) subdirective[T] {
	return subdirective[T]{name: name, parse: func(c *cursor, v *T) error {
		val, err := c.oneValue(example)
		if err != nil {
			return err
		}
		if !hasPlaceholder(val) && !isPlainHTTPURL(val) {
			return c.errf("%s must be an http(s) URL such as %s (no query); got %q", c.what(), example, val)
		}
		*field(v) = val
		return nil
	}}
}

// durationField is a subdirective taking one positive duration of at least
// min.
func durationField[T any](name, example string, min time.Duration, field func(*T) *caddy.Duration) subdirective[T] {
	return subdirective[T]{name: name, parse: func(c *cursor, v *T) error {
		val, err := c.oneValue(example)
		if err != nil {
			return err
		}
		if err := c.noPlaceholder(val, example); err != nil {
			return err
		}
		dur, err := caddy.ParseDuration(val)
		if err != nil {
			return c.errf("%s: %q is not a duration; use e.g. %s %s (units: ms, s, m, h, d)",
				c.what(), val, name, example)
		}
		if dur <= 0 {
			return c.errf("%s must be greater than zero, e.g. %s %s", c.what(), name, example)
		}
		if dur < min {
			return c.errf("%s must be at least %v, e.g. %s %s", c.what(), min, name, example)
		}
		*field(v) = caddy.Duration(dur)
		return nil
	}}
}
