package caddyfile

import (
	"slices"
	"strings"

	cf "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// subdirective is one entry of a block's table: its name, whether it may
// repeat, and the function that parses it into the block's value.
type subdirective[T any] struct {
	name string
	// repeat: may appear more than once (values accumulate). Otherwise a
	// second occurrence is an error.
	repeat bool
	parse  func(c *cursor, v *T) error
}

// table lists the subdirectives accepted inside one block. The same table
// drives the parser and Subdirectives, so the two cannot drift apart.
type table[T any] struct {
	label string // "" for the gatehouse block itself, else e.g. "cookie"
	subs  []subdirective[T]
}

// registry maps each block label to its subdirective names; filled by
// newTable as the package's tables are initialised.
var registry = map[string][]string{}

func newTable[T any](label string, subs ...subdirective[T]) table[T] {
	t := table[T]{label: label, subs: subs}
	if _, dup := registry[label]; dup {
		panic("caddyfile: block " + label + " defined twice")
	}
	registry[label] = t.names()
	return t
}

func (t table[T]) names() []string {
	names := make([]string, len(t.subs))
	for i, s := range t.subs {
		names[i] = s.name
	}
	return names
}

func (t table[T]) find(name string) *subdirective[T] {
	for i := range t.subs {
		if t.subs[i].name == name {
			return &t.subs[i]
		}
	}
	return nil
}

// blockName is how errors refer to the block.
func (t table[T]) blockName() string {
	if t.label == "" {
		return "gatehouse"
	}
	return t.label
}

// Subdirectives returns, for each block of the gatehouse directive, the
// names of the subdirectives it accepts, in the order the documentation
// lists them. The key "" is the gatehouse block itself; the others are
// "store redis", "provider", "github_app", "cookie" and "headers". The
// result is a fresh copy built from the parser's own tables.
func Subdirectives() map[string][]string {
	out := make(map[string][]string, len(registry))
	for k, v := range registry {
		out[k] = slices.Clone(v)
	}
	return out
}

// cursor is the dispenser positioned on a subdirective, with what errors
// need to name it.
type cursor struct {
	*cf.Dispenser
	block string   // label of the enclosing block, "" at the top
	tok   cf.Token // the subdirective's own token
}

// what names the subdirective in messages: "secret", "cookie name".
func (c *cursor) what() string {
	if c.block == "" {
		return c.tok.Text
	}
	return c.block + " " + c.tok.Text
}

// errf reports an error at the subdirective's line.
func (c *cursor) errf(format string, args ...any) error {
	return errAt(c.tok, format, args...)
}

// errAt reports an error at tok's file and line, in the same format (and
// with the same import chain) as Dispenser.Errf.
func errAt(tok cf.Token, format string, args ...any) error {
	d := cf.NewDispenser([]cf.Token{tok})
	d.Next()
	return d.Errf(format, args...)
}

// noBlock fails if a block follows the arguments just read. Call it after
// RemainingArgs.
func (c *cursor) noBlock() error {
	if c.NextBlock(c.Nesting()) {
		return c.errf("%s takes no block; write its value on the same line", c.what())
	}
	return nil
}

// args reads the rest of the line and rejects a following block.
func (c *cursor) args() ([]string, error) {
	args := c.RemainingArgs()
	return args, c.noBlock()
}

// oneValue reads exactly one non-empty value. example is a sample value
// shown in the error, e.g. "{env.GATEHOUSE_SECRET}".
func (c *cursor) oneValue(example string) (string, error) {
	args, err := c.args()
	if err != nil {
		return "", err
	}
	if len(args) != 1 {
		return "", c.errf("%s needs exactly one value, e.g. %s %s", c.what(), c.tok.Text, example)
	}
	if strings.TrimSpace(args[0]) == "" {
		return "", c.errf("%s must not be empty, e.g. %s %s", c.what(), c.tok.Text, example)
	}
	return args[0], nil
}

// noPlaceholder rejects a placeholder in a value that must be known when
// the Caddyfile is adapted (numbers, durations, paths, names).
func (c *cursor) noPlaceholder(v, example string) error {
	if hasPlaceholder(v) {
		return c.errf("%s does not take placeholders such as %s; write the value itself, e.g. %s %s, "+
			"or use {$VAR} to read an environment variable when the Caddyfile is loaded",
			c.what(), v, c.tok.Text, example)
	}
	return nil
}

// parseBlock parses the block that must follow the current token (a
// subdirective or the directive itself) with table t into v. It returns
// the token of the first occurrence of each subdirective seen; the map is
// empty when there was no block (or an empty one).
func parseBlock[T any](d *cf.Dispenser, t table[T], v *T) (map[string]cf.Token, error) {
	seen := map[string]cf.Token{}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		tok := d.Token()
		sd := t.find(tok.Text)
		if sd == nil {
			return nil, errAt(tok, "unknown %s subdirective %q; valid ones are: %s",
				t.blockName(), tok.Text, strings.Join(t.names(), ", "))
		}
		if first, dup := seen[tok.Text]; dup && !sd.repeat {
			what := tok.Text
			if t.label != "" {
				what = t.label + " " + what
			}
			return nil, errAt(tok, "%s is already set at line %d; set it only once", what, first.Line)
		}
		if _, ok := seen[tok.Text]; !ok {
			seen[tok.Text] = tok
		}
		if err := sd.parse(&cursor{Dispenser: d, block: t.label, tok: tok}, v); err != nil {
			return nil, err
		}
	}
	return seen, nil
}
