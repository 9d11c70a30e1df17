package caddyfile

import (
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/internal/cfparse"
	"github.com/gatehouse-auth/gatehouse/module"
)

func parseCookie(c *cfparse.Cursor, s *state) error {
	cc := new(module.CookieConfig)
	seen, err := cfparse.BlockOnly(c, cookieBlock, cc, "cookie { lifetime 168h }",
		"with at least one of: "+strings.Join(cookieBlock.Names(), ", "))
	if err != nil {
		return err
	}
	if tok, ok := seen["domain"]; ok && strings.HasPrefix(strings.ToLower(cc.Name), "__host-") {
		return cfparse.ErrAt(tok, "cookie name %q starts with __Host-, which browsers reject together with a domain; "+
			"remove domain or use a name such as __Secure-gatehouse", cc.Name)
	}
	if cc.Lifetime > 0 && cc.IdleTimeout > cc.Lifetime {
		tok := seen["idle_timeout"]
		if l := seen["lifetime"]; l.Line > tok.Line {
			tok = l
		}
		return cfparse.ErrAt(tok, "cookie idle_timeout (%v) must not exceed lifetime (%v); "+
			"shorten idle_timeout or lengthen lifetime", time.Duration(cc.IdleTimeout), time.Duration(cc.Lifetime))
	}
	s.h.Cookie = cc
	return nil
}

var sameSiteValues = []string{"lax", "strict", "none"}

// cookieBlock is `cookie { ... }`.
var cookieBlock = newTable("cookie",
	cfparse.Checked("name", "__Host-gatehouse", func(c *cfparse.Cursor, v string) error {
		if err := c.NoPlaceholder(v, "__Host-gatehouse"); err != nil {
			return err
		}
		if !isToken(v) {
			return c.Errorf("cookie name %q is not a valid cookie name; use letters, digits, - and _, "+
				"e.g. name __Host-gatehouse", v)
		}
		return nil
	}, func(cc *module.CookieConfig) *string { return &cc.Name }),
	cfparse.Checked("domain", "example.com", func(c *cfparse.Cursor, v string) error {
		if !cfparse.HasPlaceholder(v) && (strings.ContainsAny(v, "/:@* ") || !strings.Contains(strings.TrimPrefix(v, "."), ".")) {
			return c.Errorf("cookie domain %q must be a registrable domain such as example.com "+
				"(no scheme, port, path or wildcard)", v)
		}
		return nil
	}, func(cc *module.CookieConfig) *string { return &cc.Domain }),
	cfparse.Duration("lifetime", "168h", time.Minute, func(cc *module.CookieConfig) *caddy.Duration { return &cc.Lifetime }),
	cfparse.Duration("idle_timeout", "24h", time.Minute, func(cc *module.CookieConfig) *caddy.Duration { return &cc.IdleTimeout }),
	cfparse.Sub[module.CookieConfig]{Name: "same_site", Parse: func(c *cfparse.Cursor, cc *module.CookieConfig) error {
		v, err := c.OneValue("lax")
		if err != nil {
			return err
		}
		lv := strings.ToLower(v)
		if !slices.Contains(sameSiteValues, lv) {
			return c.Errorf("cookie same_site must be one of %s; got %q", strings.Join(sameSiteValues, ", "), v)
		}
		cc.SameSite = lv
		return nil
	}},
)
