package module

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

// placeholders returns the placeholders in raw, in order.
func placeholders(raw string) []string {
	return placeholder.FindAllString(raw, -1)
}

// unsetHint says which placeholders of raw may have left it empty, as in
// "{env.OIDC_CLIENT_ID} unset?"; "" when raw has none.
func unsetHint(raw string) string {
	var parts []string
	for _, p := range placeholders(raw) {
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

// errEmpty reports that what, configured as raw, resolved to nothing:
// "client_id is empty after placeholders are resolved ({env.X} unset?)".
func errEmpty(what, raw string) error {
	if hint := unsetHint(raw); hint != "" {
		return fmt.Errorf("%s is empty after placeholders are resolved (%s)", what, hint)
	}
	return fmt.Errorf("%s is empty", what)
}

// from names where a value came from, for messages about it: " (from
// {env.X})" when raw holds placeholders, else "".
func from(raw string) string {
	if ps := placeholders(raw); len(ps) > 0 {
		return " (from " + strings.Join(ps, ", ") + ")"
	}
	return ""
}

// resolver resolves the placeholders of configured values. A value that
// was set (non-empty) but that its placeholders resolve to "" is almost
// always an unset environment variable or a missing file; resolver
// refuses it, naming the placeholder, rather than let it fall back to a
// default or turn a feature off. It keeps the first such error; callers
// check err once they have resolved a group of values.
type resolver struct {
	repl *caddy.Replacer
	// where prefixes the field in messages, e.g. "provider corp: ".
	where string
	err   error
}

// get returns raw with its placeholders resolved; field names it in the
// error when a non-empty raw resolves to "".
func (r *resolver) get(field, raw string) string {
	v := r.repl.ReplaceKnown(raw, "")
	if v == "" && raw != "" && r.err == nil {
		r.err = fmt.Errorf("gatehouse: %s%w", r.where, errEmpty(field, raw))
	}
	return v
}

// all resolves each of raw as get does.
func (r *resolver) all(field string, raw []string) []string {
	out := make([]string, len(raw))
	for i, v := range raw {
		out[i] = r.get(field, v)
	}
	return out
}

// optional returns raw with its placeholders resolved; "" is allowed and
// means the value is not set.
func (r *resolver) optional(raw string) string {
	return r.repl.ReplaceKnown(raw, "")
}

// readFile reads the file configured as raw for field (placeholders
// resolved). Its errors name the field, the placeholder the path came
// from and, for a missing file, what to do (fix).
func readFile(repl *caddy.Replacer, field, raw, fix string) (path string, data []byte, err error) {
	path = repl.ReplaceKnown(raw, "")
	if path == "" {
		return "", nil, errEmpty(field, raw)
	}
	data, err = os.ReadFile(path)
	if err != nil {
		err = fmt.Errorf("%s%s: %w", field, from(raw), err)
		if errors.Is(err, fs.ErrNotExist) && fix != "" {
			err = fmt.Errorf("%w (%s; the path is read on the machine that runs Caddy)", err, fix)
		}
		return path, nil, err
	}
	return path, data, nil
}
