// Package testsupport holds the little that all of Gatehouse's tests
// share: Main for a TestMain (temporary root, watchdog), a recording
// upstream, a stalling handler, an EC key writer and HTTP helpers that do
// not follow redirects. Each system tests need has its own package below:
// redistest, caddytest, browsertest, and the fakes fakegithub, fakegoogle,
// fakenango and fakeoauth.
package testsupport
