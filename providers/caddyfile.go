package providers

import (
	"fmt"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/gatehouse-auth/gatehouse/internal/cfparse"
)

// A provider's Caddyfile block is the segment of the gatehouse
// directive's provider subdirective that follows its keyword:
//
//	provider <type> [<name>] { <subdirective> <value> ... }
//
// The directive's adapter finds the module <type> in Caddy's registry and
// hands it `<type> [<name>] { ... }`, as Caddy does with a module named in
// a Caddyfile. Each module reads it with unmarshalBlock and its own block:
// a new provider type is one file here, its module with its
// UnmarshalCaddyfile.

// spec describes how one provider type reads its Caddyfile block.
type spec struct {
	typ string
	// takes lists the subdirectives the type takes, in the order its
	// messages list them: its own (given to newBlock) and those of
	// Common (client_id, client_secret, scopes, redirect_url, label,
	// timeout).
	takes    []string
	required []string          // subdirectives that must be set
	scope    string            // a scope that scopes, when set, must include
	named    bool              // the provider needs a name of its own (oauth2)
	refused  map[string]string // subdirective → why this type does not take it
	examples map[string]string // sample values that differ from examples
}

// example is the sample value of field for a provider of this type.
func (s spec) example(field string) string {
	if v, ok := s.examples[field]; ok {
		return v
	}
	return examples[field]
}

// examples are sample values used in provider error messages.
var examples = map[string]string{
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

// block is a provider type's Caddyfile block: its spec and its table.
type block[T any] struct {
	spec
	table cfparse.Table[T]
}

// withCommon is a provider module: a pointer to a type that embeds Common.
type withCommon[T any] interface {
	*T
	common() *Common
}

func (c *Common) common() *Common { return c }

// taken is every subdirective some provider type takes; newBlock fills
// it as the package's blocks are initialised.
var taken = map[string]bool{}

// newBlock returns the block of a provider type: Common's subdirectives
// and own, laid out in s.takes. A subdirective the type does not take is
// refused: with s.refused's reason, by naming what the type takes when
// another type takes it, or as unknown.
func newBlock[T any, P withCommon[T]](s spec, own ...cfparse.Sub[T]) *block[T] {
	subs := append(commonSubs[T, P](s), own...)
	b := &block[T]{spec: s, table: cfparse.Table[T]{Label: "provider"}}
	for _, name := range s.takes {
		i := slices.IndexFunc(subs, func(sub cfparse.Sub[T]) bool { return sub.Name == name })
		if i < 0 {
			panic("providers: " + s.typ + " takes " + name + ", which has no parser")
		}
		b.table.Subs = append(b.table.Subs, subs[i])
		taken[name] = true
	}
	b.table.Unknown = func(c *cfparse.Cursor, v *T) error {
		name, sub := P(v).common().Name, c.Tok.Text
		if why, ok := s.refused[sub]; ok {
			return c.Errorf("provider %s %q: %s", s.typ, name, why)
		}
		if taken[sub] {
			return c.Errorf("provider %s %q does not take %s; it takes: %s", s.typ, name, sub, strings.Join(s.takes, ", "))
		}
		return c.Errorf("unknown provider subdirective %q; valid ones are: %s", sub, strings.Join(allSubdirectives(), ", "))
	}
	return b
}

// commonSubs are the subdirectives of Common, with the type's examples.
func commonSubs[T any, P withCommon[T]](s spec) []cfparse.Sub[T] {
	c := func(v *T) *Common { return P(v).common() }
	return []cfparse.Sub[T]{
		cfparse.String("client_id", s.example("client_id"), func(v *T) *string { return &c(v).ClientID }),
		cfparse.Secret("client_secret", s.example("client_secret"), func(v *T) *string { return &c(v).ClientSecret }),
		{Name: "scopes", Parse: func(cur *cfparse.Cursor, v *T) error {
			args, err := cur.SomeValues("scope", s.example("scopes"))
			c(v).Scopes = args
			return err
		}},
		httpURL("redirect_url", "a full http(s) URL", s.example("redirect_url"), func(v *T) *string { return &c(v).RedirectURL }),
		cfparse.String("label", s.example("label"), func(v *T) *string { return &c(v).Label }),
		cfparse.Duration("timeout", "10s", 0, func(v *T) *caddy.Duration { return &c(v).Timeout }),
	}
}

// httpURL is a subdirective taking an absolute http(s) URL (a query is
// allowed), described as what in its error.
func httpURL[T any](name, what, example string, field func(*T) *string) cfparse.Sub[T] {
	return checked(name, example, field, func(v string) bool { return cfparse.IsHTTPURL(v) },
		"provider "+name+" must be "+what+" such as "+example+"; got %q")
}

// checked is a subdirective taking one value that, unless it holds a
// placeholder, must pass ok; bad is the error's format, given the value.
func checked[T any](name, example string, field func(*T) *string, ok func(string) bool, bad string) cfparse.Sub[T] {
	return cfparse.Sub[T]{Name: name, Parse: func(c *cfparse.Cursor, v *T) error {
		val, err := c.OneValue(example)
		if err != nil {
			return err
		}
		if !cfparse.HasPlaceholder(val) && !ok(val) {
			return c.Errorf(bad, val)
		}
		*field(v) = val
		return nil
	}}
}

// unmarshalBlock reads `<type> [<name>] { ... }` into p with b: the name
// (the type's by default), the block, then what the block must hold.
func unmarshalBlock[T any, P withCommon[T]](d *caddyfile.Dispenser, p P, b *block[T]) error {
	d.Next() // the type
	c := &cfparse.Cursor{Dispenser: d, Block: "provider", Tok: d.Token()}
	args := d.RemainingArgs()
	if len(args) > 1 {
		return c.Errorf("provider takes a type and an optional name, e.g. provider oidc corp { ... }; "+
			"unexpected %q", args[1])
	}
	name := b.typ
	if len(args) == 1 {
		name = args[0]
	} else if b.named {
		return c.Errorf("provider %s needs a name, e.g. provider %s corp { ... }; it appears in URLs such as /.gatehouse/login/corp", b.typ, b.typ)
	}
	if !ValidName(name) {
		return c.Errorf("provider name %q must be 1 to 32 lowercase letters, digits, - or _ "+
			"(it appears in URLs such as /.gatehouse/login/%s), e.g. provider %s corp", name, name, b.typ)
	}
	common := p.common()
	common.Name = name
	seen, err := cfparse.ParseBlock(d, b.table, (*T)(p))
	if err != nil {
		return err
	}
	if err := cfparse.Require(c, seen, fmt.Sprintf("provider %s %q", b.typ, name), b.required, b.example); err != nil {
		return err
	}
	if b.scope != "" && len(common.Scopes) > 0 && !slices.Contains(common.Scopes, b.scope) {
		return cfparse.ErrAt(seen["scopes"], "provider %s %q: scopes must include %s, e.g. scopes %s",
			b.typ, name, b.scope, b.example("scopes"))
	}
	return nil
}

// subdirectiveOrder is the order in which messages and the documentation
// list the subdirectives of all provider types together; one no type
// takes is left out, one it does not list comes last.
var subdirectiveOrder = []string{"issuer", "client_id", "client_secret", "scopes", "base_url", "api_url",
	"redirect_url", "label", "hosted_domain", "tenant", "auth_url", "token_url", "userinfo_url", "claims", "timeout"}

// allSubdirectives lists every subdirective some provider type takes.
func allSubdirectives() []string {
	all := slices.DeleteFunc(slices.Clone(subdirectiveOrder), func(s string) bool { return !taken[s] })
	var rest []string
	for s := range taken {
		if !slices.Contains(all, s) {
			rest = append(rest, s)
		}
	}
	slices.Sort(rest)
	return append(all, rest...)
}

// CaddyfileSubdirectives returns the subdirectives of the provider blocks
// of this package's types: "provider" (those of every type together) and
// "claims" (oauth2's claims block).
func CaddyfileSubdirectives() map[string][]string {
	return map[string][]string{"provider": allSubdirectives(), "claims": claimsBlock.Names()}
}

// Types lists the provider types in Caddy's module registry: the modules
// of Namespace.
func Types() []string {
	var types []string
	for _, m := range caddy.GetModules(Namespace) {
		types = append(types, m.ID.Name())
	}
	slices.Sort(types)
	return types
}

// ValidName reports whether v can name a provider (or a connection): 1
// to 32 lowercase letters, digits, '-' and '_', starting with a letter or
// digit.
func ValidName(v string) bool {
	if v == "" || len(v) > 32 || v[0] == '-' || v[0] == '_' {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
