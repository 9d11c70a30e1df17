package github

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestNewAPIError(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name        string
		status      int
		header      map[string]string
		body        string
		wantMessage string
		wantReset   time.Time
		unauth      bool
		forbidden   bool
		notFound    bool
		rateLimited bool
	}{
		{name: "bad credentials", status: 401, body: `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`,
			wantMessage: "Bad credentials", unauth: true},
		{name: "not accessible", status: 403, header: map[string]string{"X-Ratelimit-Remaining": "4999"},
			body: `{"message":"Resource not accessible by integration"}`, wantMessage: "Resource not accessible by integration", forbidden: true},
		{name: "not found", status: 404, body: `{"message":"Not Found"}`, wantMessage: "Not Found", notFound: true},
		{name: "primary rate limit 403", status: 403,
			header:      map[string]string{"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "1700000600"},
			body:        `{"message":"API rate limit exceeded for user ID 1."}`,
			wantMessage: "API rate limit exceeded for user ID 1.", wantReset: time.Unix(1700000600, 0), rateLimited: true},
		{name: "primary rate limit 429", status: 429,
			header:      map[string]string{"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "1700000900"},
			body:        `{"message":"API rate limit exceeded"}`,
			wantMessage: "API rate limit exceeded", wantReset: time.Unix(1700000900, 0), rateLimited: true},
		{name: "secondary with retry-after", status: 403, header: map[string]string{"Retry-After": "30", "X-Ratelimit-Remaining": "4000"},
			body: `{"message":"You have exceeded a secondary rate limit."}`, wantMessage: "You have exceeded a secondary rate limit.",
			wantReset: now.Add(30 * time.Second), rateLimited: true},
		{name: "secondary message only", status: 403, body: `{"message":"You have exceeded a secondary rate limit."}`,
			wantMessage: "You have exceeded a secondary rate limit.", wantReset: now.Add(time.Minute), rateLimited: true},
		{name: "429 without headers", status: 429, body: ``, wantMessage: "Too Many Requests", wantReset: now.Add(time.Minute), rateLimited: true},
		{name: "html 502", status: 502, body: `<html>Unicorn!</html>`, wantMessage: "Bad Gateway"},
		{name: "oauth-style body", status: 400, body: `{"error":"x","error_description":"bad thing"}`, wantMessage: "bad thing"},
		{name: "retry-after on 404 ignored", status: 404, header: map[string]string{"Retry-After": "5"}, body: `{}`, wantMessage: "Not Found", notFound: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: tt.status, Header: http.Header{}}
			for k, v := range tt.header {
				resp.Header.Set(k, v)
			}
			e := newAPIError(resp, []byte(tt.body), now)
			if e.Status != tt.status || e.Message != tt.wantMessage || !e.RateLimitReset.Equal(tt.wantReset) {
				t.Errorf("got %+v, want status %d message %q reset %v", e, tt.status, tt.wantMessage, tt.wantReset)
			}
			wrapped := fmt.Errorf("context: %w", e)
			checks := []struct {
				name string
				got  bool
				want bool
			}{
				{"IsUnauthorized", IsUnauthorized(wrapped), tt.unauth},
				{"IsForbidden", IsForbidden(wrapped), tt.forbidden},
				{"IsNotFound", IsNotFound(wrapped), tt.notFound},
				{"IsRateLimited", IsRateLimited(wrapped), tt.rateLimited},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
				}
			}
		})
	}
}

func TestErrorHelpersOnOtherErrors(t *testing.T) {
	for _, err := range []error{nil, errors.New("x"), &OAuthError{Code: "bad_verification_code"}} {
		if IsUnauthorized(err) || IsForbidden(err) || IsNotFound(err) || IsRateLimited(err) {
			t.Errorf("a helper matched %v", err)
		}
	}
}

func TestIsInvalidGrant(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&OAuthError{Code: "bad_verification_code"}, true},
		{fmt.Errorf("wrapped: %w", &OAuthError{Code: "bad_refresh_token"}), true},
		{&OAuthError{Code: "incorrect_client_credentials"}, false},
		{&OAuthError{Code: "redirect_uri_mismatch"}, false},
		{&APIError{Status: 401}, false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := IsInvalidGrant(tt.err); got != tt.want {
			t.Errorf("IsInvalidGrant(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
