package github

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// flexInt is an integer GitHub may send as a JSON number or as a numeric
// string; null leaves it 0.
type flexInt int64

// UnmarshalJSON accepts 28800, "28800" and null.
func (n *flexInt) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	s, _, err := scalarText(b)
	if err != nil {
		return err
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("not an integer: %q", s)
	}
	*n = flexInt(v)
	return nil
}

// flexTime is a timestamp GitHub sends either as epoch seconds (an
// integer, in some webhook payloads) or as an ISO 8601 / RFC 3339 string;
// null and "" leave it zero.
type flexTime struct{ time.Time }

// UnmarshalJSON accepts 1557933591, "2021-04-28T22:32:21.000-04:00",
// "2019-05-15T15:20:49Z", "" and null.
func (t *flexTime) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	s, quoted, err := scalarText(b)
	if err != nil {
		return err
	}
	if !quoted {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e12 {
			return fmt.Errorf("timestamp %.40q is neither epoch seconds nor a string", s)
		}
		sec, frac := math.Modf(f)
		t.Time = time.Unix(int64(sec), int64(frac*1e9)).UTC()
		return nil
	}
	if s == "" {
		return nil
	}
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return fmt.Errorf("timestamp %q is not RFC 3339", s)
	}
	t.Time = v
	return nil
}

// ptr returns nil for the zero time and a pointer to t otherwise.
func (t flexTime) ptr() *time.Time {
	if t.IsZero() {
		return nil
	}
	v := t.Time
	return &v
}

// isNull reports whether the JSON value b is null.
func isNull(b []byte) bool {
	return bytes.Equal(b, []byte("null"))
}

// scalarText is the text of a JSON value GitHub sends either as a string or
// bare (a number): a string's contents, with quoted true, or another
// value's bytes as they stand.
func scalarText(b []byte) (text string, quoted bool, err error) {
	if len(b) == 0 || b[0] != '"' {
		return string(b), false, nil
	}
	err = json.Unmarshal(b, &text)
	return text, true, err
}
