package caddyfile

import (
	"errors"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	cf "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/gatehouse-auth/gatehouse/internal/cfparse"
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
		return nil, cfparse.ErrAt(dir, "gatehouse takes no arguments besides an optional matcher "+
			"(e.g. gatehouse /app/* { ... }); unexpected %q", args[0])
	}
	s := &state{h: new(module.Handler), dir: dir, providers: map[string]cf.Token{}, allow: map[string]int{}}
	seen, err := cfparse.ParseBlock(d, topLevel, s)
	if err != nil {
		return nil, err
	}
	// The headers once pass_access_token is known, before what the block
	// lacks.
	_, err = s.h.Headers.Names(s.h.PassAccessToken)
	if err := s.place(err); err != nil {
		return nil, err
	}
	if len(seen) == 0 {
		return nil, cfparse.ErrAt(dir, "gatehouse needs a block, opened on the same line, with at least "+
			"`secret {env.GATEHOUSE_SECRET}` and one `provider oidc { ... }`")
	}
	if _, ok := seen["secret"]; !ok {
		return nil, cfparse.ErrAt(dir, "gatehouse needs a secret of at least 32 bytes, "+
			"e.g. secret {env.GATEHOUSE_SECRET}")
	}
	// What concerns several settings at once, by the module's own checks.
	if err := s.place(s.h.Validate()); err != nil {
		return nil, err
	}
	return s.h, nil
}

// state is what the top-level block parses into.
type state struct {
	h       *module.Handler
	dir     cf.Token // the directive
	nango   cf.Token // where the nango block was declared
	headers cf.Token // where the headers block was declared
	// headerFields is where each header of the headers block was set.
	headerFields map[string]cf.Token
	// nangoBothOff is where nango turned off both integrations, which is
	// only useful with connections of type nango.
	nangoBothOff cf.Token
	connections  map[string]cf.Token // connection name → where declared
	jwtIssuers   map[string]cf.Token // jwt_issuer name → where declared
	// deviceLogin is where device_login was set.
	deviceLogin cf.Token
	// connectionsSecret is where connections_secret was set.
	connectionsSecret cf.Token
	providers         map[string]cf.Token // provider name → where it was declared
	allow             map[string]int      // allow kind → index in h.Allow
}

// place puts an error of the module's checks (a *module.ConfigError) on
// the line of what it is about: of the entries it names, the one set last
// in the file; else the block it names, else the directive.
func (s *state) place(err error) error {
	var ce *module.ConfigError
	if !errors.As(err, &ce) {
		if err != nil {
			return cfparse.ErrAt(s.dir, "%v", err)
		}
		return nil
	}
	at, entries := s.dir, s.providers
	switch ce.Block {
	case "headers":
		at, entries = s.headers, s.headerFields
	case "connections":
		entries = s.connections
	case "jwt_issuers":
		entries = s.jwtIssuers
	case "connections_secret":
		at = s.connectionsSecret
	case "device_login":
		at = s.deviceLogin
	case "nango":
		at, entries = s.nango, map[string]cf.Token{"integrations": s.nangoBothOff}
	}
	for _, k := range ce.Keys {
		if tok, ok := entries[k]; ok && tok.Line > at.Line {
			at = tok
		}
	}
	return cfparse.ErrAt(at, "%s", ce.Reason)
}

// topLevel is the gatehouse block.
var topLevel = newTable("",
	cfparse.Sub[state]{Name: "secret", Parse: func(c *cfparse.Cursor, s *state) error {
		v, err := c.SecretValue("{env.GATEHOUSE_SECRET}")
		if err != nil {
			return err
		}
		if err := checkSecret(c, v); err != nil {
			return err
		}
		s.h.Secret = v
		return nil
	}},
	cfparse.Sub[state]{Name: "previous_secrets", Parse: func(c *cfparse.Cursor, s *state) error {
		args, err := c.SomeValues("secret", "{env.GATEHOUSE_PREVIOUS_SECRET}")
		if err != nil {
			return err
		}
		for _, v := range args {
			cfparse.WarnLiteralSecret(c.Tok, c.What(), v, "{env.GATEHOUSE_PREVIOUS_SECRET}", false)
			if err := checkSecret(c, v); err != nil {
				return err
			}
		}
		s.h.PreviousSecrets = args
		return nil
	}},
	cfparse.Sub[state]{Name: "assertion_key", Parse: func(c *cfparse.Cursor, s *state) error {
		v, err := c.OneValue("/etc/gatehouse/assertion.pem")
		s.h.AssertionKey = v
		return err
	}},
	cfparse.Sub[state]{Name: "previous_assertion_keys", Parse: func(c *cfparse.Cursor, s *state) error {
		args, err := c.SomeValues("PEM file", "/etc/gatehouse/assertion-2025.pem")
		s.h.PreviousAssertionKeys = args
		return err
	}},
	cfparse.Sub[state]{Name: "store", Parse: parseStore},
	cfparse.Sub[state]{Name: "prefix", Parse: func(c *cfparse.Cursor, s *state) error {
		v, err := c.OneValue("/.gatehouse")
		if err != nil {
			return err
		}
		if err := c.NoPlaceholder(v, "/.gatehouse"); err != nil {
			return err
		}
		if err := checkPrefix(c, v); err != nil {
			return err
		}
		s.h.Prefix = v
		return nil
	}},
	cfparse.Sub[state]{Name: "provider", Repeat: true, Parse: parseProvider},
	cfparse.Sub[state]{Name: "allow", Repeat: true, Parse: parseAllow},
	cfparse.Sub[state]{Name: "public", Repeat: true, Parse: func(c *cfparse.Cursor, s *state) error {
		args, err := c.SomeValues("path", "/healthz /static/*")
		if err != nil {
			return err
		}
		for _, p := range args {
			if err := c.NoPlaceholder(p, "/healthz"); err != nil {
				return err
			}
			if err := checkPublicPath(c, p); err != nil {
				return err
			}
		}
		s.h.Public = append(s.h.Public, args...)
		return nil
	}},
	cfparse.Sub[state]{Name: "github_app", Parse: parseGitHubApp},
	cfparse.Sub[state]{Name: "nango", Parse: parseNango},
	cfparse.Sub[state]{Name: "connection", Repeat: true, Parse: parseConnection},
	cfparse.Sub[state]{Name: "jwt_issuer", Repeat: true, Parse: parseJWTIssuer},
	cfparse.Sub[state]{Name: "device_login", Parse: parseDeviceLogin},
	cfparse.Sub[state]{Name: "connections_secret", Parse: func(c *cfparse.Cursor, s *state) error {
		v, err := c.SecretValue("{env.GATEHOUSE_CONNECTIONS_SECRET}")
		s.h.ConnectionsSecret, s.connectionsSecret = v, c.Tok
		return err
	}},
	cfparse.Sub[state]{Name: "title", Parse: func(c *cfparse.Cursor, s *state) error {
		v, err := c.OneValue(`"Acme"`)
		s.h.Title = v
		return err
	}},
	cfparse.Checked("logo", "/static/logo.svg", func(c *cfparse.Cursor, v string) error {
		if !cfparse.HasPlaceholder(v) && !strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "data:image/") {
			return c.Errorf("logo must be a path on the site (/static/logo.svg), an https URL or a data:image/ URL; got %q", v)
		}
		return nil
	}, func(s *state) *string { return &s.h.Logo }),
	cfparse.Sub[state]{Name: "pass_access_token", Parse: func(c *cfparse.Cursor, s *state) error {
		if args := c.RemainingArgs(); len(args) > 0 {
			return c.Errorf("pass_access_token takes no value; the header is named in headers { access_token X-Token }; unexpected %q", args[0])
		}
		if err := c.NoBlock(); err != nil {
			return err
		}
		s.h.PassAccessToken = true
		return nil
	}},
	cfparse.Sub[state]{Name: "session_cache", Parse: func(c *cfparse.Cursor, s *state) error {
		v, err := c.OneValue("5s")
		if err != nil {
			return err
		}
		if v == "off" {
			s.h.SessionCache = -1
			return nil
		}
		if err := c.NoPlaceholder(v, "5s"); err != nil {
			return err
		}
		dur, err := caddy.ParseDuration(v)
		if err != nil || dur <= 0 {
			return c.Errorf("session_cache takes a positive duration or off, e.g. session_cache 5s; got %q", v)
		}
		s.h.SessionCache = caddy.Duration(dur)
		return nil
	}},
	cfparse.Sub[state]{Name: "logins_per_minute", Parse: func(c *cfparse.Cursor, s *state) error {
		v, err := c.OneValue("6000")
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return c.Errorf("logins_per_minute takes a positive whole number (sign-ins started per minute over all instances), e.g. logins_per_minute 6000; got %q", v)
		}
		s.h.LoginsPerMinute = n
		return nil
	}},
	cfparse.Sub[state]{Name: "cookie", Parse: parseCookie},
	cfparse.Sub[state]{Name: "headers", Parse: parseHeaders},
	cfparse.Sub[state]{Name: "external_url", Parse: func(c *cfparse.Cursor, s *state) error {
		v, err := c.OneValue("https://app.example.com")
		if err != nil {
			return err
		}
		if !cfparse.HasPlaceholder(v) && !isOrigin(v) {
			return c.Errorf("external_url must be an origin such as https://app.example.com "+
				"(http or https, a host, an optional port, no path or query); got %q", v)
		}
		s.h.ExternalURL = v
		return nil
	}},
	cfparse.Sub[state]{Name: "redirect_domains", Repeat: true, Parse: func(c *cfparse.Cursor, s *state) error {
		args, err := c.SomeValues("host", "app.example.com .example.com")
		if err != nil {
			return err
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
