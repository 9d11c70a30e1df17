// Package placeholder resolves the Caddy placeholders ({env.X},
// {file.path}) of configured values, refusing a value that was set but
// resolves to nothing (an unset variable, a missing file) and naming the
// placeholder in the error.
package placeholder

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"

	"github.com/caddyserver/caddy/v2"
)

// placeholder matches a Caddy placeholder such as {env.X} or
// {file./run/secrets/x} in a configured value.
var placeholder = regexp.MustCompile(`\{[^{}\s]+\}`)

// List returns the placeholders in raw, in order.
func List(raw string) []string {
	return placeholder.FindAllString(raw, -1)
}

// UnsetHint says which placeholders of raw may have left it empty, as in
// "{env.OIDC_CLIENT_ID} unset?"; "" when raw has none.
func UnsetHint(raw string) string {
	var parts []string
	for _, p := range List(raw) {
		switch {
		case strings.HasPrefix(p, "{env."):
			parts = append(parts, p+" unset?")
		case strings.HasPrefix(p, "{file."):
			parts = append(parts, p+" missing or empty?")
		default:
			parts = append(parts, p+" empty?")
		}
	}
	return strings.Join(parts, " ")
}

// ErrEmpty reports that what, configured as raw, resolved to nothing:
// "client_id is empty after placeholders are resolved ({env.X} unset?)".
func ErrEmpty(what, raw string) error {
	if hint := UnsetHint(raw); hint != "" {
		return fmt.Errorf("%s is empty after placeholders are resolved (%s)", what, hint)
	}
	return fmt.Errorf("%s is empty", what)
}

// From names where a value came from, for messages about it: " (from
// {env.X})" when raw holds placeholders, else "".
func From(raw string) string {
	if ps := List(raw); len(ps) > 0 {
		return " (from " + strings.Join(ps, ", ") + ")"
	}
	return ""
}

// Resolver resolves the placeholders of configured values. A value that
// was set (non-empty) but that its placeholders resolve to "" is almost
// always an unset environment variable or a missing file; Resolver
// refuses it, naming the placeholder, rather than let it fall back to a
// default or turn a feature off. It keeps the first such error; callers
// check Err once they have resolved a group of values.
type Resolver struct {
	Repl *caddy.Replacer
	// Where prefixes the field in messages, e.g. "provider corp: ".
	Where string
	// Err is the first value that resolved to nothing.
	Err error
}

// Get returns raw with its placeholders resolved; field names it in the
// error when a non-empty raw resolves to "".
func (r *Resolver) Get(field, raw string) string {
	v := r.Repl.ReplaceKnown(raw, "")
	if v == "" && raw != "" && r.Err == nil {
		r.Err = fmt.Errorf("gatehouse: %s%w", r.Where, ErrEmpty(field, raw))
	}
	return v
}

// All resolves each of raw as Get does.
func (r *Resolver) All(field string, raw []string) []string {
	out := make([]string, len(raw))
	for i, v := range raw {
		out[i] = r.Get(field, v)
	}
	return out
}

// Optional returns raw with its placeholders resolved; "" is allowed and
// means the value is not set.
func (r *Resolver) Optional(raw string) string {
	return r.Repl.ReplaceKnown(raw, "")
}

// ReadFile reads the file configured as raw for field (placeholders
// resolved). Its errors name the field, the placeholder the path came
// from and, for a missing file, what to do (fix).
func ReadFile(repl *caddy.Replacer, field, raw, fix string) (path string, data []byte, err error) {
	path = repl.ReplaceKnown(raw, "")
	if path == "" {
		return "", nil, ErrEmpty(field, raw)
	}
	data, err = os.ReadFile(path)
	if err != nil {
		err = fmt.Errorf("%s%s: %w", field, From(raw), err)
		if errors.Is(err, fs.ErrNotExist) && fix != "" {
			err = fmt.Errorf("%w (%s; the path is read on the machine that runs Caddy)", err, fix)
		}
		return path, nil, err
	}
	return path, data, nil
}
