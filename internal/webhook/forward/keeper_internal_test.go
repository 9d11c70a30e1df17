package forward

import (
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 8, 21, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"5", 5 * time.Second},
		{" 2 ", 2 * time.Second},
		{"0", 0},
		{"-3", 0},
		{"soon", 0},
		{"99999999999", 24 * time.Hour},
		{"Fri, 21 Aug 2026 10:00:30 GMT", 30 * time.Second},
		{"Fri, 21 Aug 2026 09:00:00 GMT", 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

func TestRetryable(t *testing.T) {
	for status, want := range map[int]bool{
		500: true, 502: true, 503: true, 504: true, 408: true, 425: true, 429: true, 302: true,
		400: false, 401: false, 403: false, 404: false, 410: false, 413: false, 422: false,
	} {
		if got := retryable(status); got != want {
			t.Errorf("retryable(%d) = %v; want %v", status, got, want)
		}
	}
}
