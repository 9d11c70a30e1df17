package provider

import (
	"net/http"
	"testing"
	"time"
)

func TestTimeout(t *testing.T) {
	for _, tc := range []struct {
		in, want time.Duration
		wantErr  bool
	}{
		{0, DefaultTimeout, false},
		{3 * time.Second, 3 * time.Second, false},
		{-time.Second, 0, true},
	} {
		got, err := Timeout(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("Timeout(%v) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestHTTPClient(t *testing.T) {
	own := &http.Client{}
	if HTTPClient(own, time.Second) != own {
		t.Error("a configured client was replaced")
	}
	if c := HTTPClient(nil, 7*time.Second); c.Timeout != 7*time.Second {
		t.Errorf("default client timeout %v, want 7s", c.Timeout)
	}
}
