package caddyfile

import (
	"strings"

	cf "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/gatehouse-auth/gatehouse/internal/cfparse"
	"github.com/gatehouse-auth/gatehouse/internal/headers"
	"github.com/gatehouse-auth/gatehouse/module"
)

// headerOff turns a header off.
const headerOff = "off"

// headerFields lists the headers block in order, with each default name:
// every identity field, the assertion and the access token.
var headerFields = headers.Renamables()

// headersBlock is `headers { ... }`, one subdirective per headerFields entry.
var headersBlock = func() cfparse.Table[module.HeadersConfig] {
	subs := make([]cfparse.Sub[module.HeadersConfig], len(headerFields))
	for i, f := range headerFields {
		subs[i] = cfparse.Sub[module.HeadersConfig]{Name: f.Key, Parse: func(c *cfparse.Cursor, h *module.HeadersConfig) error {
			v, err := c.OneValue("X-Remote-User (or off)")
			if err != nil {
				return err
			}
			if err := c.NoPlaceholder(v, "X-Remote-User"); err != nil {
				return err
			}
			if strings.EqualFold(v, headerOff) {
				(*h)[f.Key] = headerOff
				return nil
			}
			if !isToken(v) || strings.ContainsAny(v, "_.") {
				return c.Errorf("headers %s: %q is not a usable header name; use letters, digits and - "+
					"(proxies drop names with _ or .), e.g. %s X-Remote-User, or %s off", f.Key, v, f.Key, f.Key)
			}
			if r, ok := headers.Reserved(v); ok {
				return c.Errorf("headers %s cannot be %s: Gatehouse replaces client copies of its headers, "+
					"which would break the request; pick another name such as X-Remote-User", f.Key, r)
			}
			(*h)[f.Key] = v
			return nil
		}}
	}
	return newTable("headers", subs...)
}()

func parseHeaders(c *cfparse.Cursor, s *state) error {
	if args := c.RemainingArgs(); len(args) > 0 {
		return c.Errorf("headers takes no arguments, only a block, e.g. headers { user X-Remote-User }; unexpected %q", args[0])
	}
	s.headers = c.Tok
	h := module.HeadersConfig{}
	seen, err := cfparse.ParseBlock(c.Dispenser, headersBlock, &h)
	if err != nil {
		return err
	}
	if len(seen) == 0 {
		return c.Errorf("headers needs a block, opened on the same line, setting at least one of %s "+
			"to a header name or off", strings.Join(headersBlock.Names(), ", "))
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
			return cfparse.ErrAt(at, "headers %s and %s would both be sent as %s; "+
				"give each its own name or turn one off", prev.field, f.Key, name)
		}
		used[key] = use{field: f.Key, tok: tok}
	}
	s.h.Headers = h
	return nil
}
