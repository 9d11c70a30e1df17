// Package fakenango is a fake of Nango Cloud for tests: its REST API with
// Nango's validation errors, the Connect UI, connections whose tokens the
// fake GitHub (package fakegithub) mints, the proxy, and signed webhooks
// with retries, with the wire shapes of reference/external-apis.md.
package fakenango
