package fakenango

import (
	"regexp"
)

// Validation patterns of Nango's API (packages/server/lib/helpers/validation.ts
// and packages/shared/lib/services/tags/schema.ts).
var (
	nangoProviderConfigKeyRE = regexp.MustCompile(`^[a-zA-Z0-9~:.@ _-]+$`)
	nangoConnectionIDRE      = regexp.MustCompile(`^[a-zA-Z0-9,.;:=+~\[\]|@${}"'\\/_ -]+$`)
	nangoSessionTokenRE      = regexp.MustCompile(`^nango_connect_session_[a-f0-9]{64}$`)
	nangoTagKeyRE            = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_\-./]*$`)
	nangoEmailRE             = regexp.MustCompile(`^[A-Za-z0-9_'+\-.]*[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$`)
	nangoRetryOnRE           = regexp.MustCompile(`^\d+(,\d+)*$`)
)

// Error messages of Nango's auth middleware (packages/shared/lib/utils/error.ts).
const (
	msgMissingAuthHeader   = "Authentication failed. The request is missing the Authorization header."
	msgMalformedAuthHeader = "Authentication failed. The Authorization header is malformed."
	msgUnknownAccount      = "Authentication failed. The provided authorization header does not match any account."
	msgBadSessionFormat    = "Authentication failed. The provided connect session token is not following correct format: nango_connect_session_RANDOM)"
	msgUnknownSession      = "Authentication failed. The provided connect session token does not match any account."
)

// proxyResponseHeaders are the upstream headers the proxy forwards on a
// successful answer (PROXY_RESPONSE_HEADER_ALLOWLIST).
var proxyResponseHeaders = []string{"content-type", "mcp-session-id", "x-request-id", "x-correlation-id"}

// hopHeaders are not copied from an upstream answer.
var hopHeaders = []string{"Connection", "Keep-Alive", "Transfer-Encoding", "Content-Length", "Upgrade", "Trailer"}
