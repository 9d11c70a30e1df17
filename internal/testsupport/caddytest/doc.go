// Package caddytest runs Gatehouse inside an in-process Caddy for tests:
// isolated storage and admin endpoint (IsolateCaddy, GlobalOptions),
// loading Caddyfiles on free ports (LoadFresh, TryLoadCaddyfile) and
// waiting for a listener (WaitHTTP).
package caddytest
