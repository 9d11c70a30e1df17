// Package apiclient holds what Gatehouse's clients of external JSON APIs
// (GitHub's and Nango's) share: the default HTTP client, the User-Agent
// and a call that reads a bounded answer.
package apiclient

import (
	"fmt"
	"io"
	"net/http"
	"time"
)

const (
	// UserAgent is sent with every request; GitHub rejects requests
	// without one.
	UserAgent = "gatehouse"
	// DefaultTimeout bounds each call made with the default client.
	DefaultTimeout = 10 * time.Second
)

// defaultClient is used when a caller has no client of its own.
var defaultClient = &http.Client{Timeout: DefaultTimeout}

// HTTP returns c, or the default client (DefaultTimeout) when c is nil.
func HTTP(c *http.Client) *http.Client {
	if c == nil {
		return defaultClient
	}
	return c
}

// Do sets the User-Agent of req, sends it through c (the default client
// when nil) and reads the answer's body, refusing one longer than limit
// bytes. The returned response's body is closed. A transport error is
// returned as it is: *url.Error quotes the method and URL, never a header.
func Do(c *http.Client, req *http.Request, limit int) (*http.Response, []byte, error) {
	req.Header.Set("User-Agent", UserAgent)
	resp, err := HTTP(c).Do(req)
	if err != nil {
		return nil, nil, err
	}
	body, err := readBody(resp, limit)
	if err != nil {
		return nil, nil, err
	}
	return resp, body, nil
}

// readBody reads and closes resp's body, refusing one longer than limit
// bytes.
func readBody(resp *http.Response, limit int) ([]byte, error) {
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("reading response body: %w", err)
	}
	if len(body) > limit {
		return nil, fmt.Errorf("response body exceeds the limit: it is larger than %d bytes", limit)
	}
	return body, nil
}
