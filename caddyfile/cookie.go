package caddyfile

import (
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/module"
)

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
