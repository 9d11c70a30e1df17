package github

import (
	"fmt"
	"io"
	"net/http"
	"time"
)

const (
	// DefaultTimeout bounds each call made with the default HTTP client.
	DefaultTimeout = 10 * time.Second
	// MaxResponseBytes is the largest response body read from GitHub
	// (5 MiB); a longer one is an error.
	MaxResponseBytes = 5 << 20
	// userAgent is sent with every request; GitHub rejects requests
	// without one.
	userAgent = "gatehouse"
)

// defaultHTTPClient is used when a caller leaves HTTP nil.
var defaultHTTPClient = &http.Client{Timeout: DefaultTimeout}

// httpClient returns c, or the default client (10 s timeout) when c is nil.
func httpClient(c *http.Client) *http.Client {
	if c == nil {
		return defaultHTTPClient
	}
	return c
}

// readBody reads at most MaxResponseBytes of resp's body and closes it.
func readBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading response body: %w", err)
	}
	if len(body) > MaxResponseBytes {
		return nil, fmt.Errorf("response body exceeds %d bytes", MaxResponseBytes)
	}
	return body, nil
}
