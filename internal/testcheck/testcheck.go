// Package testcheck holds checks that unit tests of several packages share:
// building a value from configuration with the package's New (or parsing
// one with a parser) and failing the test as the outcome requires.
package testcheck

import (
	"path"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// Must returns fn(in), failing tb when it returns an error. fn is a
// package's New or a parser such as url.Parse.
func Must[In, Out any](tb testing.TB, fn func(In) (Out, error), in In) Out {
	tb.Helper()
	v, err := fn(in)
	if err != nil {
		tb.Fatalf("%s(%#v): %v", funcName(fn), in, err)
	}
	return v
}

// funcName is fn's name qualified by its package, e.g. "url.Parse".
func funcName(fn any) string {
	return path.Base(runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name())
}

// New checks newFn(in): a non-nil value when wantErr is "", otherwise an
// error whose text contains wantErr.
func New[In, Out any](tb testing.TB, newFn func(In) (*Out, error), in In, wantErr string) {
	tb.Helper()
	v, err := newFn(in)
	if wantErr == "" {
		if err != nil || v == nil {
			tb.Fatalf("New(%#v) = %v, %v; want a value", in, v, err)
		}
		return
	}
	if err == nil {
		tb.Fatalf("New(%#v) succeeded; want an error containing %q", in, wantErr)
	}
	if !strings.Contains(err.Error(), wantErr) {
		tb.Fatalf("New(%#v) error = %q; want it to contain %q", in, err, wantErr)
	}
}

// NewCase is one row of a table of configurations for New.
type NewCase[In any] struct {
	Name    string
	In      In
	WantErr string // "" means success; otherwise a substring of the error
}

// NewCases checks New(t, newFn, c.In, c.WantErr) for each case, as a
// subtest named after it.
func NewCases[In, Out any](t *testing.T, newFn func(In) (*Out, error), cases []NewCase[In]) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			New(t, newFn, c.In, c.WantErr)
		})
	}
}
