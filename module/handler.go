// Package module holds the Caddy modules of Gatehouse: the
// http.handlers.gatehouse handler and its configuration.
package module

import (
	"encoding/json"
	"fmt"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/gate"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Handler puts a login in front of the routes that follow it. Requests
// without a session are sent through an OAuth/OIDC login; requests with one
// reach the next handler with the identity in X-Auth-* headers and in the
// placeholders {http.auth.user.id}, {http.auth.user.login},
// {http.auth.user.email}, {http.auth.user.name}, {http.auth.user.avatar},
// {http.auth.user.provider}, {http.auth.user.groups},
// {http.auth.user.repos} and {http.auth.user.connections}. Gatehouse's
// own endpoints are served under Prefix.
type Handler struct {
	// Secret from which cookie, CSRF and encryption keys are derived; at
	// least 32 bytes. Instances sharing a store must share it. Required.
	Secret string `json:"secret,omitempty"`

	// Secrets used before the last rotation of Secret: session tokens,
	// flows in progress, stored records and CSRF tokens made under them
	// keep working (records are sealed again under Secret when next
	// written), and, without assertion_key, their X-Auth-Jwt keys stay in
	// /jwks.json. Drop them once the sessions made before the rotation may
	// end. Default: none.
	PreviousSecrets []string `json:"previous_secrets,omitempty"`

	// PEM file with the ECDSA P-256 private key that signs X-Auth-Jwt
	// (PKCS #8 or SEC 1); instances behind one site must be given the
	// same file. Default: a key derived from Secret.
	AssertionKey string `json:"assertion_key,omitempty"`

	// PEM files of keys that signed X-Auth-Jwt before the last rotation
	// (public keys, or the retired private keys); they stay in
	// /jwks.json so assertions already sent upstream keep verifying until
	// they expire. Default: none.
	PreviousAssertionKeys []string `json:"previous_assertion_keys,omitempty"`

	// Where sessions and login state are kept. Default: memory.
	Store *StoreConfig `json:"store,omitempty"`

	// Path under which Gatehouse serves its endpoints. Default: /.gatehouse.
	Prefix string `json:"prefix,omitempty"`

	// Identity providers offered at login, each a module of the
	// http.handlers.gatehouse.providers namespace named by its "type"
	// (oidc, google, github, oauth2, gitlab, microsoft, gitee, feishu,
	// lark). At least one is required, unless the Nango login is on.
	ProvidersRaw []json.RawMessage `json:"providers,omitempty" caddy:"namespace=http.handlers.gatehouse.providers inline_key=type"`

	// Rules a signed-in user must pass; any one rule admits. Default: none
	// (every signed-in user is admitted).
	Allow []AllowRule `json:"allow,omitempty"`

	// Paths served without a session: exact ("/healthz") or prefixes
	// ending in "*" ("/static/*"). Matched case-sensitively against the
	// request path, which must already be in canonical form. Default: none.
	Public []string `json:"public,omitempty"`

	// GitHub App through which users connect repositories. Default: none.
	GitHubApp *GitHubAppConfig `json:"github_app,omitempty"`

	// Nango signs users in and connects repositories through Nango's
	// Connect flow. Default: none.
	Nango *NangoConfig `json:"nango,omitempty"`

	// How long an instance may serve a session from its own memory
	// before reading it from the store again. Logout and revocation
	// reach every instance's cache at once through Redis pub/sub; this is
	// the bound on staleness should a message be missed. Only used with
	// the Redis store; "off" (-1 in JSON) disables it. Default: 5s.
	SessionCache caddy.Duration `json:"session_cache,omitempty"`

	// How many flows (sign-ins, account links, GitHub App connects) may
	// start per minute over every instance sharing the store. Each keeps
	// a record for ten minutes, so this bounds what a flood of sign-ins
	// from many addresses can make the store hold (about eleven times
	// this many records). Default: 6000.
	LoginsPerMinute int `json:"logins_per_minute,omitempty"`

	// Device login for CLIs (OAuth 2.0 Device Authorization Grant) at
	// {prefix}/device/code, {prefix}/device and {prefix}/device/token.
	// Default: none (off).
	DeviceLogin *DeviceLoginConfig `json:"device_login,omitempty"`

	// Accounts signed-in users can link. Default: none.
	Connections []ConnectionConfig `json:"connections,omitempty"`

	// Issuers whose JWTs, sent as "Authorization: Bearer", identify
	// machines and scripts (CI jobs, GitHub Actions) without a session.
	// Default: none.
	JWTIssuers []JWTIssuerConfig `json:"jwt_issuers,omitempty"`

	// Shared secret the upstream sends in X-Gatehouse-Secret to fetch
	// linked-account tokens from {prefix}/connections/{name}/token.
	// Default: none (that endpoint is off).
	ConnectionsSecret string `json:"connections_secret,omitempty"`

	// Send the provider's current access token (refreshed before it
	// expires) to the upstream, for apps that call the provider's API
	// themselves. Default: false (no token ever reaches the upstream).
	PassAccessToken bool `json:"pass_access_token,omitempty"`

	// Name of the site, shown after each page's own title in the browser
	// tab of Gatehouse's pages (chooser, errors, sign-out, connect), as in
	// "Sign out · Acme". Default: none (the page's own title alone).
	Title string `json:"title,omitempty"`

	// Logo shown atop Gatehouse's pages: a path on the site, an https URL
	// or a data: URL. Default: a plain mark.
	Logo string `json:"logo,omitempty"`

	// Session cookie settings. Default: see CookieConfig.
	Cookie *CookieConfig `json:"cookie,omitempty"`

	// Names of the identity headers sent upstream. Default: X-Auth-*.
	Headers HeadersConfig `json:"headers,omitempty"`

	// Public origin of the site (scheme://host[:port]) when it differs from
	// what Caddy sees, e.g. behind a TLS-terminating load balancer. Used
	// for redirect URIs and same-origin checks. Default: the host names of
	// the site's own address, with the scheme of the connection.
	ExternalURL string `json:"external_url,omitempty"`

	// Other hosts the rd parameter may point to after login or logout: a
	// name matches exactly, ".example.com" matches any subdomain.
	// Default: none (same origin only).
	RedirectDomains []string `json:"redirect_domains,omitempty"`

	logger        *zap.Logger
	gate          *gate.Gate
	releaseStore  func() error
	closeSessions func()
	// unregister removes the handler from the admin API's registry.
	unregister  func()
	stopForward func()
	sites       *siteHosts
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.gatehouse",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Validate checks what concerns several fields at once: the headers'
// names (with pass_access_token), and the providers as a set (at least
// one unless the Nango login is on, a name each, none taken twice or by
// the Nango login). It needs no provisioning: the Caddyfile adapter calls
// it on the handler it builds. Its errors are *ConfigError.
func (h *Handler) Validate() error {
	if _, err := h.headerNames(); err != nil {
		return err
	}
	names, err := h.providerNames()
	if err != nil {
		return err
	}
	if err := h.checkJWTIssuers(names); err != nil {
		return err
	}
	return h.checkFeatures()
}

// ConfigError is a configuration the handler refuses, as Validate reports
// it; the Caddyfile adapter places it on the line of Block and Keys.
type ConfigError struct {
	// Block is the setting it is about: "headers", "providers",
	// "connections", "connections_secret", "nango", or "" for the handler
	// as a whole.
	Block string
	// Keys are the entries of Block it is about (header keys, provider
	// names), the one to fix last; none for Block as a whole.
	Keys []string
	// Reason says what is wrong, without the "gatehouse: " of Error.
	Reason string
}

func (e *ConfigError) Error() string { return "gatehouse: " + e.Reason }

func configErrorf(block string, keys []string, format string, args ...any) *ConfigError {
	return &ConfigError{Block: block, Keys: keys, Reason: fmt.Sprintf(format, args...)}
}

// Interface guards.
var (
	_ caddy.Module                = (*Handler)(nil)
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
