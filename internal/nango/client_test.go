package nango

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestBaseURLDefaults(t *testing.T) {
	tests := []struct {
		base, want string
	}{
		{"", "https://api.nango.dev/proxy"},
		{"https://nango.example.com/", "https://nango.example.com/proxy"},
		{"http://localhost:3003//", "http://localhost:3003/proxy"},
		{"https://example.com/nango", "https://example.com/nango/proxy"},
	}
	for _, tt := range tests {
		c := &Client{BaseURL: tt.base}
		if got := c.ProxyURL(); got != tt.want {
			t.Errorf("BaseURL %q: ProxyURL() = %q, want %q", tt.base, got, tt.want)
		}
	}
	if DefaultBaseURL != "https://api.nango.dev" || DefaultConnectURL != "https://connect.nango.dev" {
		t.Error("default URLs changed")
	}
}

func TestClientRefusesBeforeSending(t *testing.T) {
	f := newFake(t, 200, `{"success":true}`)
	tests := []struct {
		name   string
		client *Client
	}{
		{"no secret key", &Client{BaseURL: f.srv.URL, HTTP: f.srv.Client()}},
		{"base URL without scheme", &Client{BaseURL: strings.TrimPrefix(f.srv.URL, "http://"), SecretKey: testKey, HTTP: f.srv.Client()}},
		{"base URL with other scheme", &Client{BaseURL: "ftp://example.com", SecretKey: testKey, HTTP: f.srv.Client()}},
		{"base URL with query", &Client{BaseURL: f.srv.URL + "?x=1", SecretKey: testKey, HTTP: f.srv.Client()}},
		{"base URL with user info", &Client{BaseURL: strings.Replace(f.srv.URL, "http://", "http://u:p@", 1), SecretKey: testKey, HTTP: f.srv.Client()}},
		{"unparsable base URL", &Client{BaseURL: "http://[::1", SecretKey: testKey, HTTP: f.srv.Client()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.client.DeleteConnection(context.Background(), "conn-1", "github")
			if err == nil {
				t.Fatal("want an error")
			}
			checkNoSecrets(t, err)
		})
	}
	if n := f.count(); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}

func TestResponseSizeLimit(t *testing.T) {
	big := `{"connection_id":"` + strings.Repeat("a", maxBodySize) + `"}`
	f := newFake(t, 200, big)
	_, err := f.client().GetConnection(context.Background(), "conn-1", "github")
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v, want a size error", err)
	}
	checkNoSecrets(t, err)

	// Exactly at the limit is fine.
	pad := maxBodySize - len(`{"connection_id":"x","p":""}`)
	f = newFake(t, 200, `{"connection_id":"x","p":"`+strings.Repeat("b", pad)+`"}`)
	if _, err := f.client().GetConnection(context.Background(), "conn-1", "github"); err != nil {
		t.Fatalf("body of exactly 1 MiB: %v", err)
	}
}

func TestContextAndTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })

	t.Run("canceled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		c := &Client{BaseURL: srv.URL, SecretKey: testKey}
		err := c.DeleteConnection(ctx, "conn-1", "github")
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		checkNoSecrets(t, err)
	})
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		c := &Client{BaseURL: srv.URL, SecretKey: testKey}
		err := c.DeleteConnection(ctx, "conn-1", "github")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want context.DeadlineExceeded", err)
		}
	})
	t.Run("client timeout", func(t *testing.T) {
		c := &Client{BaseURL: srv.URL, SecretKey: testKey, HTTP: &http.Client{Timeout: 50 * time.Millisecond}}
		err := c.DeleteConnection(context.Background(), "conn-1", "github")
		if err == nil {
			t.Fatal("want a timeout error")
		}
		checkNoSecrets(t, err)
	})
}

func TestDefaultHTTPClient(t *testing.T) {
	c := &Client{}
	if c.httpClient().Timeout != 10*time.Second {
		t.Errorf("default timeout = %v, want 10s", c.httpClient().Timeout)
	}
	own := &http.Client{}
	if (&Client{HTTP: own}).httpClient() != own {
		t.Error("Client.HTTP not used")
	}
}

func TestTransportErrorHasNoKey(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // connection refused
	c := &Client{BaseURL: url, SecretKey: testKey}
	err := c.TriggerSync(context.Background(), "github", "conn-1", []string{"repos"})
	if err == nil {
		t.Fatal("want an error")
	}
	checkNoSecrets(t, err)
}

func TestResponseSizeLimitEndlessBody(t *testing.T) {
	// A body that never ends must be cut off at the limit, not read until
	// the timeout.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		chunk := []byte(strings.Repeat("a", 32<<10))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	c := &Client{BaseURL: srv.URL, SecretKey: testKey, HTTP: &http.Client{Timeout: 5 * time.Second}}
	_, err := c.GetConnection(context.Background(), "conn-1", "github")
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v, want a size error", err)
	}
}
