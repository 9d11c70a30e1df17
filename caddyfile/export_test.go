package caddyfile

import (
	"strings"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/cfparse"
	"github.com/gatehouse-auth/gatehouse/providers"
)

// SetWarnLogger sends the adapter's warnings to l until the returned
// function is called.
func SetWarnLogger(l *zap.Logger) (restore func()) {
	prev := cfparse.WarnLogger
	cfparse.WarnLogger = func() *zap.Logger { return l }
	return func() { cfparse.WarnLogger = prev }
}

// ProviderTypes lists the provider types the adapter offers (in its
// errors): those of Caddy's registry.
func ProviderTypes() string { return strings.Join(providers.Types(), ", ") }
