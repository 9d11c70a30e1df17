package github

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// secondaryLimitWait is how long to wait after a secondary rate limit that
// names no time, as GitHub's docs advise ("at least one minute").
const secondaryLimitWait = time.Minute

// APIError is a non-2xx answer from GitHub.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Message is GitHub's "message" field, or the status text when the
	// body has none.
	Message string
	// RateLimitReset is when to try again after a rate limit: from
	// Retry-After when sent, else from x-ratelimit-reset. It is zero when
	// the error is not a rate limit.
	RateLimitReset time.Time
}

// Error returns the status and GitHub's message.
func (e *APIError) Error() string {
	s := fmt.Sprintf("github API: %d %s", e.Status, e.Message)
	if !e.RateLimitReset.IsZero() {
		s += " (rate limited until " + e.RateLimitReset.UTC().Format(time.RFC3339) + ")"
	}
	return s
}

// newAPIError builds the error for a non-2xx response whose body has
// been read.
func newAPIError(resp *http.Response, body []byte, now time.Time) *APIError {
	e := &APIError{Status: resp.StatusCode}
	var msg struct {
		Message          string `json:"message"`
		ErrorDescription string `json:"error_description"`
	}
	if json.Unmarshal(body, &msg) == nil {
		e.Message = msg.Message
		if e.Message == "" {
			e.Message = msg.ErrorDescription
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	if resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests {
		e.RateLimitReset = rateLimitReset(resp.Header, e.Message, resp.StatusCode, now)
	}
	return e
}

// rateLimitReset tells whether a 403 or 429 is a rate limit and, if so,
// when it lifts (zero when it is not one).
func rateLimitReset(h http.Header, message string, status int, now time.Time) time.Time {
	if ra := strings.TrimSpace(h.Get("Retry-After")); ra != "" {
		if secs, err := strconv.ParseInt(ra, 10, 64); err == nil && secs >= 0 {
			return now.Add(time.Duration(secs) * time.Second)
		}
		if at, err := http.ParseTime(ra); err == nil {
			return at
		}
		return now.Add(secondaryLimitWait)
	}
	if strings.TrimSpace(h.Get("X-Ratelimit-Remaining")) == "0" {
		if secs, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-Ratelimit-Reset")), 10, 64); err == nil && secs > 0 {
			return time.Unix(secs, 0)
		}
		return now.Add(secondaryLimitWait)
	}
	if status == http.StatusTooManyRequests || strings.Contains(strings.ToLower(message), "rate limit") {
		return now.Add(secondaryLimitWait)
	}
	return time.Time{}
}

// asAPIError finds an *APIError in err's chain.
func asAPIError(err error) (*APIError, bool) {
	var ae *APIError
	ok := errors.As(err, &ae)
	return ae, ok
}

// IsUnauthorized reports whether err is a 401 from GitHub: the token is
// unknown, expired or revoked ("Bad credentials").
func IsUnauthorized(err error) bool {
	ae, ok := asAPIError(err)
	return ok && ae.Status == http.StatusUnauthorized
}

// IsForbidden reports whether err is a 403 from GitHub that is not a rate
// limit (e.g. "Resource not accessible by integration").
func IsForbidden(err error) bool {
	ae, ok := asAPIError(err)
	return ok && ae.Status == http.StatusForbidden && ae.RateLimitReset.IsZero()
}

// IsNotFound reports whether err is a 404 from GitHub (which GitHub also
// sends for things the token may not see).
func IsNotFound(err error) bool {
	ae, ok := asAPIError(err)
	return ok && ae.Status == http.StatusNotFound
}

// IsRateLimited reports whether err is a primary or secondary rate limit:
// a 403 or 429 with x-ratelimit-remaining: 0, a Retry-After header, or a
// rate-limit message. [APIError.RateLimitReset] says when to retry.
func IsRateLimited(err error) bool {
	ae, ok := asAPIError(err)
	return ok && (ae.Status == http.StatusForbidden || ae.Status == http.StatusTooManyRequests) && !ae.RateLimitReset.IsZero()
}
