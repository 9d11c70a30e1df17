package provider

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"testing"
)

func TestUnavailable(t *testing.T) {
	refused := &url.Error{Op: "Post", URL: "http://127.0.0.1:1/token",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	dialTimeout := &url.Error{Op: "Get", URL: "http://10.255.255.1/", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}}
	for _, tt := range []struct {
		name   string
		err    error
		code   string
		status int
	}{
		{"context deadline", context.DeadlineExceeded, CodeTimeout, http.StatusGatewayTimeout},
		{"wrapped deadline", fmt.Errorf("code exchange: %w", context.DeadlineExceeded), CodeTimeout, http.StatusGatewayTimeout},
		{"dial timeout", dialTimeout, CodeTimeout, http.StatusGatewayTimeout},
		{"wrapped dial timeout", fmt.Errorf("oidc discovery: %w", dialTimeout), CodeTimeout, http.StatusGatewayTimeout},
		{"connection refused", refused, CodeUnavailable, http.StatusBadGateway},
		{"cancelled", context.Canceled, CodeUnavailable, http.StatusBadGateway},
		{"5xx", errors.New("token endpoint answered HTTP 503"), CodeUnavailable, http.StatusBadGateway},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := Unavailable(tt.err)
			if e.Code != tt.code || e.Status != tt.status || !errors.Is(e, tt.err) {
				t.Fatalf("Unavailable(%v) = %s/%d, want %s/%d wrapping the cause", tt.err, e.Code, e.Status, tt.code, tt.status)
			}
			if !IsUnavailable(fmt.Errorf("login: %w", e)) {
				t.Errorf("IsUnavailable is false for %v", e)
			}
		})
	}
	if IsTimeout(nil) || IsUnavailable(nil) || IsUnavailable(&Error{Code: "exchange_failed", Err: errors.New("x")}) {
		t.Error("nil or a refused exchange counted as an outage")
	}
}
