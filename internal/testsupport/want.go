package testsupport

import (
	"maps"
	"slices"
	"testing"
)

// WantEach checks that get(k) is v for each k, v in want, and reports
// each that differs as "what k = got, want v": the headers, query
// parameters, claims or document fields a test expects, with get a
// header's or query's Get, or a lookup in a decoded JSON object.
func WantEach[V comparable](tb testing.TB, what string, want map[string]V, get func(k string) V) {
	tb.Helper()
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got := get(k); got != want[k] {
			tb.Errorf("%s %s = %#v, want %#v", what, k, got, want[k])
		}
	}
}
