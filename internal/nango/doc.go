// Package nango is the small client Gatehouse uses to talk to Nango
// (https://nango.dev): its REST API (connect sessions, connections, sync
// triggers and the proxy) and the webhooks Nango sends (signature
// verification and parsing).
//
// Only the standard library is used. Every call is context-aware, reads at
// most 1 MiB of response body and identifies itself as "gatehouse". Errors
// start with "nango: " and never contain the secret key, a token or a
// signature; a non-2xx answer from Nango is an [*APIError].
//
// For github-app-oauth connections the user's GitHub token is not
// credentials.access_token (that is the installation token once the app is
// installed) but connection_config.userCredentials.access_token; use
// [Connection.UserToken] to get the right one.
//
// Webhooks are verified with [VerifySignature] over the raw body against the
// current and the previous webhook signing key (Nango keeps using the old key
// for a few minutes after a rotation). The legacy X-Nango-Signature header,
// a plain SHA-256 over key||body that is open to length extension, is never
// accepted.
package nango
