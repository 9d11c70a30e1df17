package caddyfile

import (
	"slices"
	"strings"
	"unicode"

	"github.com/gatehouse-auth/gatehouse/internal/allow"
	"github.com/gatehouse-auth/gatehouse/internal/cfparse"
	"github.com/gatehouse-auth/gatehouse/module"
)

// allowKind is one kind of allow rule. Adding a kind is one line in
// allowKinds.
type allowKind struct {
	name    string
	example string
	check   func(c *cfparse.Cursor, v string) error // nil: any value
	// viaAccess: literal values are also compiled by internal/allow, so
	// that what adapts also provisions. The GitHub kinds are checked here
	// only, to the same shape (org, org/team, owner/name).
	viaAccess bool
}

var allowKinds = []allowKind{
	{name: "user", example: "alice", viaAccess: true},
	{name: "email", example: "*@example.com", check: checkAllowEmail, viaAccess: true},
	{name: "domain", example: "example.com", check: checkAllowDomain, viaAccess: true},
	{name: "org", example: "acme", check: gitHubName{"org", "organization", false,
		"must be an organization name such as acme, without /; for a team write allow team org/team, for a repository allow repo owner/name"}.check},
	{name: "team", example: "acme/backend", check: gitHubName{"team", "team", true,
		"must be org/team with exactly one /, e.g. allow team acme/backend (the team's slug, as in github.com/orgs/acme/teams/backend)"}.check},
	{name: "repo", example: "acme/app", check: gitHubName{"repo", "repository", true,
		"must be owner/name with exactly one /, e.g. allow repo acme/app (not a URL)"}.check},
}

func allowKindNames() string {
	names := make([]string, len(allowKinds))
	for i, k := range allowKinds {
		names[i] = k.name
	}
	return strings.Join(names, ", ")
}

func parseAllow(c *cfparse.Cursor, s *state) error {
	args, err := c.Values()
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return c.Errorf("allow needs a kind and at least one value, e.g. allow email *@example.com; kinds: %s",
			allowKindNames())
	}
	i := slices.IndexFunc(allowKinds, func(k allowKind) bool { return k.name == args[0] })
	if i < 0 {
		return c.Errorf("unknown allow kind %q; use one of: %s, e.g. allow email *@example.com",
			args[0], allowKindNames())
	}
	kind := allowKinds[i]
	values := args[1:]
	if len(values) == 0 {
		return c.Errorf("allow %s needs at least one value, e.g. allow %s %s", kind.name, kind.name, kind.example)
	}
	var literal []string // values known now; placeholders are resolved at provision
	for _, v := range values {
		if cfparse.HasPlaceholder(v) {
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
			return c.Errorf("allow %s: %v", kind.name, reason(err))
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

func checkAllowEmail(c *cfparse.Cursor, v string) error {
	local, domain, ok := strings.Cut(v, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") {
		return c.Errorf("allow email %q is not an email address; use alice@example.com, "+
			"*@example.com for a whole domain, or allow domain example.com", v)
	}
	if strings.Contains(domain, "*") || (strings.Contains(local, "*") && local != "*") {
		return c.Errorf("allow email %q: * may only stand for the whole part before the @, as in *@example.com", v)
	}
	return nil
}

func checkAllowDomain(c *cfparse.Cursor, v string) error {
	if strings.Contains(v, "@") {
		return c.Errorf("allow domain %q must be a bare domain such as example.com; "+
			"for addresses use allow email", v)
	}
	if strings.HasPrefix(v, "*.") {
		return c.Errorf("allow domain %q: write .%s to admit every subdomain (or %s for that domain only)", v, v[2:], v[2:])
	}
	if strings.ContainsAny(v, "*/: ") {
		return c.Errorf("allow domain %q must be a bare domain such as example.com, or .example.com "+
			"for its subdomains (no wildcard, scheme, port or path)", v)
	}
	return nil
}

// gitHubName checks a value of the org, team or repo kind: a non-empty
// name without white space or wildcards, an owner/name pair for team and
// repo, a bare name for org.
type gitHubName struct {
	kind, noun string // noun names one value
	pair       bool
	shape      string // what the value must be, when it is not
}

func (g gitHubName) check(c *cfparse.Cursor, v string) error {
	if v == "" || strings.ContainsFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return c.Errorf("allow %s %q must be a non-empty name without white space", g.kind, v)
	}
	if strings.Contains(v, "*") {
		return c.Errorf("allow %s %q: wildcards are not supported; list each %s", g.kind, v, g.noun)
	}
	if g.pair && !isPair(v) || !g.pair && strings.Contains(v, "/") {
		return c.Errorf("allow %s %q %s", g.kind, v, g.shape)
	}
	return nil
}

// isPair reports whether v is a/b: exactly one '/', both sides non-empty.
func isPair(v string) bool {
	a, b, ok := strings.Cut(v, "/")
	return ok && a != "" && b != "" && !strings.Contains(b, "/")
}
