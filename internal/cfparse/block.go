// Package cfparse reads Caddyfile blocks into configuration values, with
// errors that name the line and give an example: the gatehouse
// directive's adapter (package caddyfile) and the provider modules'
// UnmarshalCaddyfile (package providers) share it.
//
// A block is described by a Table of subdirectives, each parsed by its
// own function; ParseBlock walks the block, refuses unknown and repeated
// subdirectives, and returns where each one was seen.
package cfparse

import (
	"strings"

	cf "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// Sub is one entry of a block's table: its name, whether it may repeat,
// and the function that parses it into the block's value.
type Sub[T any] struct {
	Name string
	// Repeat: may appear more than once (values accumulate). Otherwise a
	// second occurrence is an error.
	Repeat bool
	Parse  func(c *Cursor, v *T) error
}

// Table lists the subdirectives accepted inside one block.
type Table[T any] struct {
	// Label names the block in messages: "" for the gatehouse block
	// itself, else e.g. "cookie".
	Label string
	Subs  []Sub[T]
	// Unknown, when set, reports a subdirective the table does not hold
	// (at c.Tok); by default it is refused with the table's names.
	Unknown func(c *Cursor, v *T) error
}

// NewTable returns the table of the block label.
func NewTable[T any](label string, subs ...Sub[T]) Table[T] {
	return Table[T]{Label: label, Subs: subs}
}

// Names lists the table's subdirectives in order.
func (t Table[T]) Names() []string {
	names := make([]string, len(t.Subs))
	for i, s := range t.Subs {
		names[i] = s.Name
	}
	return names
}

func (t Table[T]) find(name string) *Sub[T] {
	for i := range t.Subs {
		if t.Subs[i].Name == name {
			return &t.Subs[i]
		}
	}
	return nil
}

// blockName is how errors refer to the block.
func (t Table[T]) blockName() string {
	if t.Label == "" {
		return "gatehouse"
	}
	return t.Label
}

// Cursor is the dispenser positioned on a subdirective, with what errors
// need to name it.
type Cursor struct {
	*cf.Dispenser
	Block string   // label of the enclosing block, "" at the top
	Tok   cf.Token // the subdirective's own token
}

// What names the subdirective in messages: "secret", "cookie name".
func (c *Cursor) What() string {
	if c.Block == "" {
		return c.Tok.Text
	}
	return c.Block + " " + c.Tok.Text
}

// Errorf reports an error at the subdirective's line.
func (c *Cursor) Errorf(format string, args ...any) error {
	return ErrAt(c.Tok, format, args...)
}

// ErrAt reports an error at tok's file and line, in the same format (and
// with the same import chain) as Dispenser.Errf.
func ErrAt(tok cf.Token, format string, args ...any) error {
	d := cf.NewDispenser([]cf.Token{tok})
	d.Next()
	return d.Errf(format, args...)
}

// NoBlock fails if a block follows the arguments just read. Call it after
// RemainingArgs.
func (c *Cursor) NoBlock() error {
	if c.NextBlock(c.Nesting()) {
		return c.Errorf("%s takes no block; write its value on the same line", c.What())
	}
	return nil
}

// Values reads the rest of the line and rejects a following block.
func (c *Cursor) Values() ([]string, error) {
	args := c.RemainingArgs()
	return args, c.NoBlock()
}

// SomeValues reads one value or more; none is an error naming what one
// value is (noun) with an example of the values ("... needs at least one
// host:port, e.g. address 127.0.0.1:6379").
func (c *Cursor) SomeValues(noun, example string) ([]string, error) {
	args, err := c.Values()
	if err == nil && len(args) == 0 {
		err = c.Errorf("%s needs at least one %s, e.g. %s %s", c.What(), noun, c.Tok.Text, example)
	}
	return args, err
}

// OneValue reads exactly one non-empty value. example is a sample value
// shown in the error, e.g. "{env.GATEHOUSE_SECRET}".
func (c *Cursor) OneValue(example string) (string, error) {
	args, err := c.Values()
	if err != nil {
		return "", err
	}
	if len(args) != 1 {
		return "", c.Errorf("%s needs exactly one value, e.g. %s %s", c.What(), c.Tok.Text, example)
	}
	if strings.TrimSpace(args[0]) == "" {
		return "", c.Errorf("%s must not be empty, e.g. %s %s", c.What(), c.Tok.Text, example)
	}
	return args[0], nil
}

// NoPlaceholder rejects a placeholder in a value that must be known when
// the Caddyfile is adapted (numbers, durations, paths, names).
func (c *Cursor) NoPlaceholder(v, example string) error {
	if HasPlaceholder(v) {
		return c.Errorf("%s does not take placeholders such as %s; write the value itself, e.g. %s %s, "+
			"or use {$VAR} to read an environment variable when the Caddyfile is loaded",
			c.What(), v, c.Tok.Text, example)
	}
	return nil
}

// ParseBlock parses the block that must follow the current token (a
// subdirective or the directive itself) with table t into v. It returns
// the token of the first occurrence of each subdirective seen; the map is
// empty when there was no block (or an empty one).
func ParseBlock[T any](d *cf.Dispenser, t Table[T], v *T) (map[string]cf.Token, error) {
	seen := map[string]cf.Token{}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		tok := d.Token()
		c := &Cursor{Dispenser: d, Block: t.Label, Tok: tok}
		sd := t.find(tok.Text)
		if sd == nil {
			if t.Unknown != nil {
				return nil, t.Unknown(c, v)
			}
			return nil, c.Errorf("unknown %s subdirective %q; valid ones are: %s",
				t.blockName(), tok.Text, strings.Join(t.Names(), ", "))
		}
		if first, dup := seen[tok.Text]; dup && !sd.Repeat {
			return nil, c.Errorf("%s is already set at line %d; set it only once", c.What(), first.Line)
		}
		if _, ok := seen[tok.Text]; !ok {
			seen[tok.Text] = tok
		}
		if err := sd.Parse(c, v); err != nil {
			return nil, err
		}
	}
	return seen, nil
}

// BlockOnly parses the block of a subdirective that takes no arguments,
// only a block, and must not leave it empty: example shows it ("cookie {
// lifetime 168h }"), needs says what the block must hold ("with at least
// one of: ...").
func BlockOnly[T any](c *Cursor, t Table[T], v *T, example, needs string) (map[string]cf.Token, error) {
	if args := c.RemainingArgs(); len(args) > 0 {
		return nil, c.Errorf("%s takes no arguments, only a block, e.g. %s; unexpected %q", c.Tok.Text, example, args[0])
	}
	seen, err := ParseBlock(c.Dispenser, t, v)
	if err != nil {
		return nil, err
	}
	if len(seen) == 0 {
		return nil, c.Errorf("%s needs a block, opened on the same line, %s", c.Tok.Text, needs)
	}
	return seen, nil
}

// Require fails, at c's line, for the first of fields the block did not
// set: "<who> needs <field> in its block, e.g. <field> <example>".
func Require(c *Cursor, seen map[string]cf.Token, who string, fields []string, example func(field string) string) error {
	for _, f := range fields {
		if _, ok := seen[f]; !ok {
			return c.Errorf("%s needs %s in its block, e.g. %s %s", who, f, f, example(f))
		}
	}
	return nil
}
