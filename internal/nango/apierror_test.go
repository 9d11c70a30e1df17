package nango

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// asAPIError is errors.As for *APIError.
func asAPIError(err error, target **APIError) bool {
	return errors.As(err, target)
}

func TestAPIErrors(t *testing.T) {
	tests := []struct {
		name         string
		status       int
		contentType  string
		body         string
		wantCode     string
		wantMessage  string
		wantError    string
		wantNotFound bool
	}{
		{
			name: "401 missing auth header", status: 401,
			body:        `{"error":{"code":"missing_auth_header","message":"Authentication failed. The request is missing the Authorization header."}}`,
			wantCode:    "missing_auth_header",
			wantMessage: "Authentication failed. The request is missing the Authorization header.",
			wantError:   "nango: 401 missing_auth_header: Authentication failed. The request is missing the Authorization header.",
		},
		{
			name: "401 unknown account", status: 401,
			body:        `{"error":{"code":"unknown_account","message":"Authentication failed. The provided authorization header does not match any account."}}`,
			wantCode:    "unknown_account",
			wantMessage: "Authentication failed. The provided authorization header does not match any account.",
		},
		{
			name: "403 forbidden", status: 403,
			body:        `{"error":{"code":"forbidden","message":"Insufficient scope. Required: environment:connections:read_credentials"}}`,
			wantCode:    "forbidden",
			wantMessage: "Insufficient scope. Required: environment:connections:read_credentials",
			wantError:   "nango: 403 forbidden: Insufficient scope. Required: environment:connections:read_credentials",
		},
		{
			name: "400 invalid body with errors", status: 400,
			body:        `{"error":{"code":"invalid_body","errors":[{"code":"custom","message":"Integration does not exist","path":["allowed_integrations",0]},{"code":"invalid_string","message":"Invalid email","path":["end_user","email"]}]}}`,
			wantCode:    "invalid_body",
			wantMessage: "allowed_integrations.0: Integration does not exist; end_user.email: Invalid email",
			wantError:   "nango: 400 invalid_body: allowed_integrations.0: Integration does not exist; end_user.email: Invalid email",
		},
		{
			name: "400 invalid body, error without path", status: 400,
			body:        `{"error":{"code":"invalid_body","errors":[{"code":"unrecognized_keys","message":"Unrecognized key(s) in object: 'foo'","path":[]}]}}`,
			wantCode:    "invalid_body",
			wantMessage: "Unrecognized key(s) in object: 'foo'",
		},
		{
			name: "400 unknown connection", status: 400,
			body:         `{"error":{"code":"unknown_connection"}}`,
			wantCode:     "unknown_connection",
			wantError:    "nango: 400 unknown_connection",
			wantNotFound: true,
		},
		{
			name: "404 not found", status: 404,
			body:         `{"error":{"code":"not_found","message":"Connection not found"}}`,
			wantCode:     "not_found",
			wantMessage:  "Connection not found",
			wantNotFound: true,
		},
		{
			name: "424 connection refresh exhausted", status: 424,
			body:        `{"error":{"code":"connection_refresh_exhausted","message":"The connection has exhausted its refresh attempts"}}`,
			wantCode:    "connection_refresh_exhausted",
			wantMessage: "The connection has exhausted its refresh attempts",
		},
		{
			name: "424 invalid credentials with payload", status: 424,
			body:        `{"error":{"code":"invalid_credentials","message":"Failed to refresh","payload":{"connection":{"connection_id":"conn-1"},"reason":"exhausted"}}}`,
			wantCode:    "invalid_credentials",
			wantMessage: "Failed to refresh",
		},
		{
			name: "HTML 502 from a load balancer", status: 502, contentType: "text/html",
			body:        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n",
			wantCode:    "http_502",
			wantMessage: "Bad Gateway",
			wantError:   "nango: 502 http_502: Bad Gateway",
		},
		{
			name: "empty 503", status: 503, contentType: "text/plain",
			wantCode: "http_503", wantMessage: "Service Unavailable",
		},
		{
			name: "legacy string error", status: 400,
			body:     `{"error":"Missing secret key"}`,
			wantCode: "http_400", wantMessage: "Missing secret key",
		},
		{
			name: "404 without Nango envelope is not IsNotFound", status: 404, contentType: "text/plain",
			body:     "Cannot GET /connections/x",
			wantCode: "http_404", wantMessage: "Not Found",
		},
		{
			name: "404 other code is not IsNotFound", status: 404,
			body:     `{"error":{"code":"unknown_provider_config","message":"no"}}`,
			wantCode: "unknown_provider_config", wantMessage: "no",
		},
		{
			name: "long message is truncated", status: 400,
			body:        `{"error":{"code":"unknown_provider_config","message":"` + strings.Repeat("é", 400) + `"}}`,
			wantCode:    "unknown_provider_config",
			wantMessage: strings.Repeat("é", 256) + "…",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.status, tt.body)
			if tt.contentType != "" {
				f.contentType = tt.contentType
			}
			_, err := f.client().GetConnection(context.Background(), "conn-1", "github")
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v (%T), want *APIError", err, err)
			}
			if apiErr.Status != tt.status || apiErr.Code != tt.wantCode || apiErr.Message != tt.wantMessage {
				t.Errorf("got %+v, want status %d code %q message %q", *apiErr, tt.status, tt.wantCode, tt.wantMessage)
			}
			if tt.wantError != "" && err.Error() != tt.wantError {
				t.Errorf("Error() = %q, want %q", err.Error(), tt.wantError)
			}
			if got := IsNotFound(err); got != tt.wantNotFound {
				t.Errorf("IsNotFound = %v, want %v", got, tt.wantNotFound)
			}
			if got := IsNotFound(fmt.Errorf("wrapped: %w", err)); got != tt.wantNotFound {
				t.Errorf("IsNotFound(wrapped) = %v, want %v", got, tt.wantNotFound)
			}
			checkNoSecrets(t, err)
		})
	}
}

func TestIsNotFoundOther(t *testing.T) {
	for _, err := range []error{nil, errors.New("nango: not_found"), &APIError{Status: 400, Code: "not_found"}, &APIError{Status: 404, Code: "unknown_connection"}} {
		if IsNotFound(err) {
			t.Errorf("IsNotFound(%v) = true", err)
		}
	}
}
