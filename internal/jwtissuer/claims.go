package jwtissuer

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// lookup returns the value at a dotted claim path ("realm_access.roles").
func lookup(claims map[string]any, path string) (any, bool) {
	var v any = claims
	for part := range strings.SplitSeq(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[part]; !ok {
			return nil, false
		}
	}
	return v, v != nil
}

// scalar is a claim as one string: a string, a number or a boolean; ok
// false for anything else (an object, a list of several).
func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	case []any:
		if len(x) == 1 {
			return scalar(x[0])
		}
	}
	return "", false
}

// list is a claim as a list of strings: a list of scalars, or one scalar
// (a space- or comma-separated string stays one entry).
func list(v any) ([]string, bool) {
	if x, ok := v.([]any); ok {
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := scalar(e)
			if !ok {
				return nil, false
			}
			if s != "" {
				out = append(out, s)
			}
		}
		slices.Sort(out)
		return slices.Compact(out), true
	}
	s, ok := scalar(v)
	if !ok || s == "" {
		return nil, ok
	}
	return []string{s}, true
}

// maxClaimLen bounds a claim value taken into an identity, in bytes.
const maxClaimLen = 1024

// field reads the claim at path as one string for field f.
func field(claims map[string]any, f, path string) (string, error) {
	v, ok := lookup(claims, path)
	if !ok {
		return "", nil
	}
	s, ok := scalar(v)
	if !ok {
		return "", fmt.Errorf("claim %s (%s) is not a single value", path, f)
	}
	if len(s) > maxClaimLen || strings.ContainsAny(s, "\r\n\x00") {
		return "", fmt.Errorf("claim %s (%s) is too long or holds control characters", path, f)
	}
	return s, nil
}
