package caddyfile

import (
	"maps"
	"slices"

	"github.com/gatehouse-auth/gatehouse/internal/cfparse"
	"github.com/gatehouse-auth/gatehouse/providers"
)

// registry maps each block label to its subdirective names; filled by
// newTable as the package's tables are initialised.
var registry = map[string][]string{}

// newTable is cfparse.NewTable for a block of the gatehouse directive,
// whose names Subdirectives lists.
func newTable[T any](label string, subs ...cfparse.Sub[T]) cfparse.Table[T] {
	t := cfparse.NewTable(label, subs...)
	if _, dup := registry[label]; dup {
		panic("caddyfile: block " + label + " defined twice")
	}
	registry[label] = t.Names()
	return t
}

// Subdirectives returns, for each block of the gatehouse directive, the
// names of the subdirectives it accepts, in the order the documentation
// lists them. The key "" is the gatehouse block itself; the others are
// "store redis", "provider", "claims", "github_app", "nango",
// "connection", "jwt_issuer", "jwt_issuer claims", "device_login",
// "cookie" and "headers"; "provider" and "claims" are the
// blocks of the provider modules (every subdirective of any type). The
// result is a fresh copy built from the parsers' own tables.
func Subdirectives() map[string][]string {
	out := make(map[string][]string, len(registry)+2)
	for k, v := range registry {
		out[k] = slices.Clone(v)
	}
	maps.Copy(out, providers.CaddyfileSubdirectives())
	return out
}
