// Package fakegithub is a fake of GitHub for tests: OAuth Apps and
// GitHub Apps (authorization, token endpoint, installation tokens), the
// REST API Gatehouse calls, rate-limit headers and webhooks, with the wire
// shapes of reference/external-apis.md. Its authorization-server
// bookkeeping is internal/devidp/authserver.
package fakegithub
