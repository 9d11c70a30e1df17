package nango

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxMessageLen bounds APIError.Message (Nango may append a JSON payload).
const maxMessageLen = 512

// APIError is a non-2xx answer from Nango: {"error":{"code","message"}}.
// A body that is not Nango's JSON envelope (e.g. an HTML 502 from a load
// balancer) gives Code "http_<status>" and the status text as Message.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Code is Nango's error code, e.g. "not_found" or "invalid_body".
	Code string
	// Message is Nango's message; for validation errors without one, the
	// "path: message" of each entry of errors[], joined with "; ".
	Message string
}

// Error returns "nango: <status> <code>: <message>" (without ": <message>"
// when there is none). It never includes the request's key.
func (e *APIError) Error() string {
	s := "nango: " + strconv.Itoa(e.Status) + " " + e.Code
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// IsNotFound reports whether err is, or wraps, an APIError saying the
// connection does not exist: 404 not_found, or 400 unknown_connection (what
// DELETE answers for an unknown connection).
func IsNotFound(err error) bool {
	var e *APIError
	if !errors.As(err, &e) {
		return false
	}
	return (e.Status == http.StatusNotFound && e.Code == "not_found") ||
		(e.Status == http.StatusBadRequest && e.Code == "unknown_connection")
}

// errorEnvelope is Nango's error body.
type errorEnvelope struct {
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Errors  []struct {
			Message string `json:"message"`
			Path    []any  `json:"path"`
		} `json:"errors"`
	} `json:"error"`
}

// newAPIError builds the error for a non-2xx answer whose body was read.
// The body is Nango's; the request's key is never part of it.
func newAPIError(status int, body []byte) *APIError {
	e := &APIError{Status: status}
	var env errorEnvelope
	if json.Unmarshal(body, &env) == nil && env.Error != nil && env.Error.Code != "" {
		e.Code = env.Error.Code
		e.Message = env.Error.Message
		if e.Message == "" && len(env.Error.Errors) > 0 {
			parts := make([]string, 0, len(env.Error.Errors))
			for _, v := range env.Error.Errors {
				p := make([]string, 0, len(v.Path))
				for _, seg := range v.Path {
					p = append(p, fmt.Sprint(seg))
				}
				if len(p) > 0 {
					parts = append(parts, strings.Join(p, ".")+": "+v.Message)
				} else {
					parts = append(parts, v.Message)
				}
			}
			e.Message = strings.Join(parts, "; ")
		}
	} else {
		e.Code = "http_" + strconv.Itoa(status)
		// Older Nango versions answer {"error":"<message>"}.
		var legacy struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &legacy) == nil && legacy.Error != "" {
			e.Message = legacy.Error
		} else {
			e.Message = http.StatusText(status)
		}
	}
	e.Message = truncate(e.Message, maxMessageLen)
	return e
}

// truncate shortens s to at most n bytes without splitting a UTF-8 rune.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
