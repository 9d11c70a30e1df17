package provider

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// DefaultTimeout bounds each call to a provider (discovery, token
// exchange, userinfo, keys, refresh, revocation) unless configured.
const DefaultTimeout = 10 * time.Second

// Codes of the errors of a provider that did not answer.
const (
	// CodeTimeout: the provider did not answer within the timeout (504).
	CodeTimeout = "provider_timeout"
	// CodeUnavailable: the provider could not be reached (connection
	// refused or reset, DNS) or answered with a server error (502).
	CodeUnavailable = "provider_unavailable"
)

// Unavailable is the error of a call to the provider that got no usable
// answer: provider_timeout (504 Gateway Timeout) when the call ran out of
// time, provider_unavailable (502 Bad Gateway) otherwise — the provider
// refused the connection, reset it, or failed with a 5xx.
func Unavailable(err error) *Error {
	if IsTimeout(err) {
		return &Error{Code: CodeTimeout, Status: http.StatusGatewayTimeout, Err: err}
	}
	return &Error{Code: CodeUnavailable, Status: http.StatusBadGateway, Err: err}
}

// IsTimeout reports whether err is a call that ran out of time: a context
// deadline, or a network error that says so (http.Client.Timeout, a dial
// or read timeout).
func IsTimeout(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// IsUnavailable reports whether err is an [Error] of a provider that did
// not answer (provider_timeout or provider_unavailable).
func IsUnavailable(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.Code == CodeTimeout || e.Code == CodeUnavailable)
}
