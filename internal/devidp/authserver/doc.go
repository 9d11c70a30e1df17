// Package authserver holds what every authorization server of Gatehouse's
// development and test tooling does the same way: the development OpenID
// provider (package devidp) and the fakes of GitHub, Google and generic
// OAuth 2.0 / OAuth 1.0a providers (internal/testsupport/…) build on it.
//
// It has the algorithms, not the wire shapes: single-use authorization
// codes with PKCE verification ([Codes], [VerifyPKCE]), refresh token
// bookkeeping ([Refresh]), fault injection ([Failures]), a clock tests can
// move ([Clock]), token-endpoint client authentication
// ([ClientCredentials]) and RFC 6749 §5.2 JSON errors ([Error]). Each
// server maps the outcomes to the answers of the system it stands for.
//
// It imports nothing test-only: devidp runs in the demo, not only in tests.
package authserver
