package caddyfile

import (
	"encoding/json"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	cf "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/gatehouse-auth/gatehouse/internal/cfparse"
	"github.com/gatehouse-auth/gatehouse/providers"
)

// parseProvider is `provider <type> [<name>] { ... }`. The type is a
// module of Caddy's registry (namespace http.handlers.gatehouse.providers,
// see package providers), which reads the rest of the segment with its
// own UnmarshalCaddyfile; its object goes into the handler's providers
// with "type" naming the module.
func parseProvider(c *cfparse.Cursor, s *state) error {
	supported := strings.Join(providers.Types(), ", ")
	if !c.NextArg() {
		return c.Errorf("provider needs a type, e.g. provider oidc corp { ... }; supported: %s", supported)
	}
	typ := c.Val()
	mod, err := caddy.GetModule(providers.Namespace + "." + typ)
	if err != nil {
		return c.Errorf("unknown provider type %q; supported: %s", typ, supported)
	}
	p, ok := mod.New().(cf.Unmarshaler)
	if !ok {
		return c.Errorf("provider type %q cannot be configured in the Caddyfile (module %s has no UnmarshalCaddyfile); "+
			"use the JSON config", typ, mod.ID)
	}
	if err := p.UnmarshalCaddyfile(c.NewFromNextSegment()); err != nil {
		return err
	}
	var warnings []caddyconfig.Warning
	raw := caddyconfig.JSONModuleObject(p, "type", typ, &warnings)
	var named struct{ Name string }
	if err := json.Unmarshal(raw, &named); err != nil || len(warnings) > 0 {
		return c.Errorf("provider %s: encoding its configuration: %v %v", typ, err, warnings)
	}
	name := named.Name
	if first, dup := s.providers[name]; dup {
		return c.Errorf("provider name %q is already used at line %d; "+
			"give each provider its own name: provider <type> <name>", name, first.Line)
	}
	s.providers[name] = c.Tok
	s.h.ProvidersRaw = append(s.h.ProvidersRaw, raw)
	return nil
}
