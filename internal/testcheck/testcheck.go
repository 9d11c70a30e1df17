// Package testcheck holds checks that unit tests of several packages share:
// building a value from configuration with the package's New and failing
// the test as the outcome requires.
package testcheck

import (
	"strings"
	"testing"
)

// Must returns newFn(in), failing tb when it returns an error.
func Must[In, Out any](tb testing.TB, newFn func(In) (Out, error), in In) Out {
	tb.Helper()
	v, err := newFn(in)
	if err != nil {
		tb.Fatalf("New(%#v): %v", in, err)
	}
	return v
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
