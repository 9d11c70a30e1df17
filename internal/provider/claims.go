package provider

import (
	"encoding/json"
	"math/big"
	"strconv"
	"strings"
)

// Helpers that read identity claims the way providers send them.

// Scalar formats a string or number claim; numbers never use an exponent
// (1e3 → "1000", 12345678901234567890 stays exact). Other types
// (booleans, objects, lists) give "".
func Scalar(v any) string {
	switch t := v.(type) {
	case string:
		return strings.TrimSpace(t)
	case json.Number:
		s := t.String()
		if !strings.ContainsAny(s, ".eE") {
			return s
		}
		f, _, err := big.ParseFloat(s, 10, 256, big.ToNearestEven)
		if err != nil {
			return s
		}
		return f.Text('f', -1)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	}
	return ""
}

// Verified reads a verification claim: true or the string "true" (any
// case); anything else (false, "false", missing, 1) is false.
func Verified(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case string:
		return strings.EqualFold(strings.TrimSpace(t), "true")
	}
	return false
}

// Strings reads a list of strings or a single string.
func Strings(v any) []string {
	switch t := v.(type) {
	case string:
		if t == "" {
			return nil
		}
		return []string{t}
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			if s := Scalar(e); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
