package cfparse

import (
	"net/url"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
)

// String is a subdirective taking one verbatim string value.
func String[T any](name, example string, field func(*T) *string) Sub[T] {
	return value(name, field, func(c *Cursor) (string, error) { return c.OneValue(example) })
}

// Secret is a subdirective taking one secret string, which warns when the
// secret is written literally (see Cursor.SecretValue).
func Secret[T any](name, example string, field func(*T) *string) Sub[T] {
	return value(name, field, func(c *Cursor) (string, error) { return c.SecretValue(example) })
}

// URL is a subdirective taking one http(s) URL without query or
// fragment, such as a GitHub Enterprise base_url; placeholders are kept.
func URL[T any](name, example string, field func(*T) *string) Sub[T] {
	return value(name, field, func(c *Cursor) (string, error) {
		val, err := c.OneValue(example)
		if err == nil && !HasPlaceholder(val) && !IsPlainHTTPURL(val) {
			err = c.Errorf("%s must be an http(s) URL such as %s (no query); got %q", c.What(), example, val)
		}
		return val, err
	})
}

// Checked is a subdirective taking one string that check accepts (check
// gives the error, at the subdirective's line, otherwise).
func Checked[T any](name, example string, check func(c *Cursor, val string) error, field func(*T) *string) Sub[T] {
	return value(name, field, func(c *Cursor) (string, error) {
		val, err := c.OneValue(example)
		if err == nil {
			err = check(c, val)
		}
		return val, err
	})
}

// value is a subdirective whose value read sets one string field.
func value[T any](name string, field func(*T) *string, read func(c *Cursor) (string, error)) Sub[T] {
	return Sub[T]{Name: name, Parse: func(c *Cursor, v *T) error {
		val, err := read(c)
		if err != nil {
			return err
		}
		*field(v) = val
		return nil
	}}
}

// Duration is a subdirective taking one positive duration of at least
// min.
func Duration[T any](name, example string, min time.Duration, field func(*T) *caddy.Duration) Sub[T] {
	return Sub[T]{Name: name, Parse: func(c *Cursor, v *T) error {
		val, err := c.OneValue(example)
		if err != nil {
			return err
		}
		if err := c.NoPlaceholder(val, example); err != nil {
			return err
		}
		dur, err := caddy.ParseDuration(val)
		if err != nil {
			return c.Errorf("%s: %q is not a duration; use e.g. %s %s (units: ms, s, m, h, d)",
				c.What(), val, name, example)
		}
		if dur <= 0 {
			return c.Errorf("%s must be greater than zero, e.g. %s %s", c.What(), name, example)
		}
		if dur < min {
			return c.Errorf("%s must be at least %v, e.g. %s %s", c.What(), min, name, example)
		}
		*field(v) = caddy.Duration(dur)
		return nil
	}}
}

// HasPlaceholder reports whether v holds a placeholder such as {env.X},
// which is resolved at provision time and cannot be checked here.
func HasPlaceholder(v string) bool {
	i := strings.IndexByte(v, '{')
	return i >= 0 && strings.IndexByte(v[i:], '}') > 0
}

// IsHTTPURL reports whether v is an absolute http(s) URL with a host and
// no fragment or user info.
func IsHTTPURL(v string) bool {
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		u.Fragment == "" && u.User == nil
}

// IsPlainHTTPURL reports whether v is an absolute http(s) URL with a host
// and no query, fragment or user info.
func IsPlainHTTPURL(v string) bool {
	u, err := url.Parse(v)
	return err == nil && IsHTTPURL(v) && u.RawQuery == "" && !u.ForceQuery
}
