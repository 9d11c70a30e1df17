package caddyfile

import "go.uber.org/zap"

// SetWarnLogger sends the adapter's warnings to l until the returned
// function is called.
func SetWarnLogger(l *zap.Logger) (restore func()) {
	prev := warnLogger
	warnLogger = func() *zap.Logger { return l }
	return func() { warnLogger = prev }
}

// ProviderTypes lists the provider types the adapter knows.
func ProviderTypes() string { return supportedProviderTypes() }
