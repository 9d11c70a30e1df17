package provider

import (
	"fmt"
	"net/http"
	"time"
)

// Timeout returns the time allowed each call to a provider for a
// configured value: DefaultTimeout for zero, an error for a negative one.
func Timeout(configured time.Duration) (time.Duration, error) {
	switch {
	case configured < 0:
		return 0, fmt.Errorf("timeout %v must not be negative; use e.g. 10s (the default)", configured)
	case configured == 0:
		return DefaultTimeout, nil
	}
	return configured, nil
}

// HTTPClient returns c, or when c is nil a client that bounds each call by
// timeout.
func HTTPClient(c *http.Client, timeout time.Duration) *http.Client {
	if c != nil {
		return c
	}
	return &http.Client{Timeout: timeout}
}
