package caddyfile

import (
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/cfparse"
	"github.com/gatehouse-auth/gatehouse/internal/headers"
	"github.com/gatehouse-auth/gatehouse/module"
)

// headersBlock is `headers { ... }`, one subdirective per renamable
// header, each checked by the module's own rule.
var headersBlock = func() cfparse.Table[module.HeadersConfig] {
	var subs []cfparse.Sub[module.HeadersConfig]
	for _, f := range headers.Renamables() {
		subs = append(subs, cfparse.Sub[module.HeadersConfig]{Name: f.Key, Parse: func(c *cfparse.Cursor, h *module.HeadersConfig) error {
			v, err := c.OneValue("X-Remote-User (or off)")
			if err != nil {
				return err
			}
			if err := c.NoPlaceholder(v, "X-Remote-User"); err != nil {
				return err
			}
			if strings.EqualFold(v, "off") {
				v = "off"
			} else if _, err := module.CheckHeaderName(f.Key, v); err != nil {
				return c.Errorf("%s", err.(*module.ConfigError).Reason)
			}
			(*h)[f.Key] = v
			return nil
		}})
	}
	return newTable("headers", subs...)
}()

func parseHeaders(c *cfparse.Cursor, s *state) error {
	h := module.HeadersConfig{}
	seen, err := cfparse.BlockOnly(c, headersBlock, &h, "headers { user X-Remote-User }",
		"setting at least one of "+strings.Join(headersBlock.Names(), ", ")+" to a header name or off")
	if err != nil {
		return err
	}
	s.headers, s.headerFields = c.Tok, seen
	s.h.Headers = h
	return nil
}
