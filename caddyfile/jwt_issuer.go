package caddyfile

import (
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	cf "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/gatehouse-auth/gatehouse/internal/cfparse"
	"github.com/gatehouse-auth/gatehouse/internal/jwtissuer"
	"github.com/gatehouse-auth/gatehouse/module"
	"github.com/gatehouse-auth/gatehouse/providers"
)

// parseJWTIssuer is `jwt_issuer <name> { ... }`.
func parseJWTIssuer(c *cfparse.Cursor, s *state) error {
	args := c.RemainingArgs()
	if len(args) != 1 {
		return c.Errorf("jwt_issuer takes one name, e.g. jwt_issuer github_actions { audience https://app.example.com }")
	}
	name := args[0]
	if !providers.ValidName(name) {
		return c.Errorf("jwt_issuer name %q must be 1 to 32 lowercase letters, digits, - or _ (it is X-Auth-Provider)", name)
	}
	for _, j := range s.h.JWTIssuers {
		if j.Name == name {
			return c.Errorf("jwt_issuer %q is already declared", name)
		}
	}
	if s.jwtIssuers == nil {
		s.jwtIssuers = map[string]cf.Token{}
	}
	s.jwtIssuers[name] = c.Tok
	j := module.JWTIssuerConfig{Name: name}
	seen, err := cfparse.ParseBlock(c.Dispenser, jwtIssuerBlock, &j)
	if err != nil {
		return err
	}
	required := []string{"issuer", "audience"}
	if name == module.GitHubActionsIssuer {
		required = []string{"audience"}
	} else if tok, ok := seen["base_url"]; ok {
		return cfparse.ErrAt(tok, "jwt_issuer %s: base_url is for the github_actions preset only (GitHub Enterprise Server); set issuer", name)
	}
	if err := cfparse.Require(c, seen, "jwt_issuer "+name, required, func(f string) string {
		return map[string]string{"issuer": "https://login.example.com/realms/ci", "audience": "https://app.example.com"}[f]
	}); err != nil {
		return err
	}
	s.h.JWTIssuers = append(s.h.JWTIssuers, j)
	return nil
}

// jwtIssuerBlock is the block of jwt_issuer.
var jwtIssuerBlock = newTable("jwt_issuer",
	cfparse.URL("issuer", "https://login.example.com/realms/ci", func(j *module.JWTIssuerConfig) *string { return &j.Issuer }),
	cfparse.Sub[module.JWTIssuerConfig]{Name: "audience", Parse: func(c *cfparse.Cursor, j *module.JWTIssuerConfig) error {
		args, err := c.SomeValues("audience", "https://app.example.com")
		j.Audiences = args
		return err
	}},
	cfparse.URL("jwks_url", "https://login.example.com/realms/ci/protocol/openid-connect/certs", func(j *module.JWTIssuerConfig) *string { return &j.JWKSURL }),
	cfparse.URL("base_url", "https://github.example.com", func(j *module.JWTIssuerConfig) *string { return &j.BaseURL }),
	cfparse.Duration("timeout", "10s", time.Second, func(j *module.JWTIssuerConfig) *caddy.Duration { return &j.Timeout }),
	cfparse.Sub[module.JWTIssuerConfig]{Name: "claims", Parse: func(c *cfparse.Cursor, j *module.JWTIssuerConfig) error {
		_, err := cfparse.BlockOnly(c, jwtClaimsBlock, j, "claims { login preferred_username  groups realm_access.roles }",
			"with at least one of: "+strings.Join(jwtissuer.Fields, ", "))
		return err
	}},
)

// jwtClaimsBlock is `claims { <field> <claim path> ... }`.
var jwtClaimsBlock = newTable("jwt_issuer claims", jwtClaimSubs()...)

func jwtClaimSubs() []cfparse.Sub[module.JWTIssuerConfig] {
	var subs []cfparse.Sub[module.JWTIssuerConfig]
	for _, f := range jwtissuer.Fields {
		subs = append(subs, cfparse.Sub[module.JWTIssuerConfig]{Name: f, Parse: func(c *cfparse.Cursor, j *module.JWTIssuerConfig) error {
			v, err := c.OneValue("realm_access.roles")
			if err != nil {
				return err
			}
			if strings.HasPrefix(v, ".") || strings.HasSuffix(v, ".") || strings.Contains(v, "..") || strings.ContainsAny(v, " {}") {
				return c.Errorf("claims %s: %q is not a claim path (a claim name, or names joined by dots such as realm_access.roles)", f, v)
			}
			if j.Claims == nil {
				j.Claims = map[string]string{}
			}
			j.Claims[f] = v
			return nil
		}})
	}
	return slices.Clip(subs)
}
