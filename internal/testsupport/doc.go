// Package testsupport holds what Gatehouse's tests share: a real
// redis-server, an in-process Caddy, a recording upstream, and a browser-
// like HTTP client. Fakes of external services live here once, not per
// package.
package testsupport
