package nango

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"
)

// isNull reports whether raw is absent or the JSON literal null.
func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

// parseTime decodes an RFC 3339 timestamp such as
// "2026-08-21T10:00:00.000Z". Absent, null and "" give the zero time.
func parseTime(raw json.RawMessage) (time.Time, error) {
	if isNull(raw) {
		return time.Time{}, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return time.Time{}, errors.New("not a string")
	}
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, errors.New("not an RFC 3339 timestamp")
	}
	return t, nil
}

// stringTags decodes a tags object, keeping only its string values.
// Absent and null give nil; anything but an object is an error.
func stringTags(raw json.RawMessage) (map[string]string, error) {
	if isNull(raw) {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, errors.New("not an object")
	}
	tags := make(map[string]string, len(m))
	for k, v := range m {
		var s string
		if json.Unmarshal(v, &s) == nil && !isNull(v) {
			tags[k] = s
		}
	}
	return tags, nil
}

// parseString decodes a string; absent and null give "".
func parseString(raw json.RawMessage) (string, error) {
	if isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", errors.New("not a string")
	}
	return s, nil
}

// parseBool decodes a boolean; absent and null give false.
func parseBool(raw json.RawMessage) (bool, error) {
	if isNull(raw) {
		return false, nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil {
		return false, errors.New("not a boolean")
	}
	return b, nil
}

// parseID decodes a non-negative integer ID sent either as a JSON number or
// as a numeric string. Absent, null and "" give 0.
func parseID(raw json.RawMessage) (int64, error) {
	if isNull(raw) {
		return 0, nil
	}
	raw = bytes.TrimSpace(raw)
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, errors.New("not a number or numeric string")
		}
		if s == "" {
			return 0, nil
		}
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("not a non-negative integer")
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, errors.New("not a non-negative integer")
	}
	return n, nil
}
