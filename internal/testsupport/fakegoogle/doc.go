// Package fakegoogle is a fake of Google sign-in for tests: discovery,
// JWKS with key rotation, the authorization, token, UserInfo and
// revocation endpoints with the wire shapes of reference/external-apis.md,
// and forged id_tokens. Its authorization-server bookkeeping is
// internal/devidp/authserver.
package fakegoogle
