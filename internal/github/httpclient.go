package github

import (
	"github.com/gatehouse-auth/gatehouse/internal/apiclient"
)

const (
	// DefaultTimeout bounds each call made with the default HTTP client.
	DefaultTimeout = apiclient.DefaultTimeout
	// MaxResponseBytes is the largest response body read from GitHub
	// (5 MiB); a longer one is an error.
	MaxResponseBytes = 5 << 20
)
