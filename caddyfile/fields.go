package caddyfile

import (
	"time"

	"github.com/caddyserver/caddy/v2"
)

// stringField is a subdirective taking one verbatim string value.
func stringField[T any](name, example string, field func(*T) *string) subdirective[T] {
	return subdirective[T]{name: name, parse: func(c *cursor, v *T) error {
		val, err := c.oneValue(example)
		if err != nil {
			return err
		}
		*field(v) = val
		return nil
	}}
}

// urlField is a subdirective taking one http(s) URL without query or
// fragment, such as a GitHub Enterprise base_url; placeholders are kept.
func urlField[T any](name, example string, field func(*T) *string) subdirective[T] {
	return subdirective[T]{name: name, parse: func(c *cursor, v *T) error {
		val, err := c.oneValue(example)
		if err != nil {
			return err
		}
		if !hasPlaceholder(val) && !isPlainHTTPURL(val) {
			return c.errf("%s must be an http(s) URL such as %s (no query); got %q", c.what(), example, val)
		}
		*field(v) = val
		return nil
	}}
}

// durationField is a subdirective taking one positive duration of at least
// min.
func durationField[T any](name, example string, min time.Duration, field func(*T) *caddy.Duration) subdirective[T] {
	return subdirective[T]{name: name, parse: func(c *cursor, v *T) error {
		val, err := c.oneValue(example)
		if err != nil {
			return err
		}
		if err := c.noPlaceholder(val, example); err != nil {
			return err
		}
		dur, err := caddy.ParseDuration(val)
		if err != nil {
			return c.errf("%s: %q is not a duration; use e.g. %s %s (units: ms, s, m, h, d)",
				c.what(), val, name, example)
		}
		if dur <= 0 {
			return c.errf("%s must be greater than zero, e.g. %s %s", c.what(), name, example)
		}
		if dur < min {
			return c.errf("%s must be at least %v, e.g. %s %s", c.what(), min, name, example)
		}
		*field(v) = caddy.Duration(dur)
		return nil
	}}
}
