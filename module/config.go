package module

import "github.com/caddyserver/caddy/v2"

// StoreConfig selects where sessions and login state are kept.
type StoreConfig struct {
	// Type of store: "memory" (one instance only) or "redis". Default: memory.
	Type string `json:"type,omitempty"`

	// Redis URL, e.g. redis://user:pass@127.0.0.1:6379/0 or rediss:// for
	// TLS. Mutually exclusive with Addresses. Default: none.
	URL string `json:"url,omitempty"`

	// Redis addresses (host:port). One address is a single server; several
	// with MasterName are Sentinels; several without it are a Cluster.
	// Default: none.
	Addresses []string `json:"addresses,omitempty"`

	// Sentinel master name; setting it selects Sentinel mode. Default: none.
	MasterName string `json:"master_name,omitempty"`

	// Redis ACL user name. Default: none.
	Username string `json:"username,omitempty"`

	// Redis password. Placeholders such as {env.REDIS_PASSWORD} are
	// resolved at provision time. Default: none.
	Password string `json:"password,omitempty"`

	// Password of the Sentinels, when it differs from Password. Default: none.
	SentinelPassword string `json:"sentinel_password,omitempty"`

	// Redis logical database (ignored by Cluster). Default: 0.
	DB int `json:"db,omitempty"`

	// Connect to Redis over TLS. Default: false (true for rediss:// URLs).
	TLS bool `json:"tls,omitempty"`

	// Prefix of every key Gatehouse writes. Default: "gatehouse:".
	KeyPrefix string `json:"key_prefix,omitempty"`

	// Time allowed for one Redis command, connection included. Default: 2s.
	Timeout caddy.Duration `json:"timeout,omitempty"`
}

// ProviderConfig configures one identity provider.
type ProviderConfig struct {
	// Provider type: "oidc" (any OpenID Connect provider) or "github"
	// (a GitHub OAuth App). Required.
	Type string `json:"type"`

	// Name used in URLs ({prefix}/login/{name}) and X-Auth-Provider.
	// Lowercase letters, digits, '-' and '_'. Default: the type.
	Name string `json:"name,omitempty"`

	// Label shown on the chooser page. Default: the name.
	Label string `json:"label,omitempty"`

	// OIDC issuer URL; discovery is read from
	// {issuer}/.well-known/openid-configuration. Required for oidc.
	Issuer string `json:"issuer,omitempty"`

	// GitHub web URL, for GitHub Enterprise Server (e.g.
	// https://github.example.com). github only. Default: https://github.com.
	BaseURL string `json:"base_url,omitempty"`

	// GitHub REST API URL. github only. Default: https://api.github.com,
	// or {base_url}/api/v3 when base_url is set.
	APIURL string `json:"api_url,omitempty"`

	// OAuth client ID. Required.
	ClientID string `json:"client_id,omitempty"`

	// OAuth client secret. Placeholders are resolved at provision time and
	// the value is never logged. Default: none (public client with PKCE).
	ClientSecret string `json:"client_secret,omitempty"`

	// Scopes requested. Default: openid email profile for oidc;
	// read:user user:email read:org for github.
	Scopes []string `json:"scopes,omitempty"`

	// Full redirect URI registered at the provider. Default:
	// {external_url or the site's address}{prefix}/callback/{name}.
	RedirectURL string `json:"redirect_url,omitempty"`
}

// AllowRule admits users by one attribute. A user passes the allow list
// when any rule matches; with no rules every signed-in user passes.
type AllowRule struct {
	// What to match: "user" (login or user id), "email" (verified email;
	// "*@example.com" matches a whole domain), "domain" (the verified
	// email's domain), "org" (GitHub organization membership), "team"
	// (GitHub team, as org/team) or "repo" (a repository, owner/name,
	// the user can access through the GitHub App). Required.
	Kind string `json:"kind"`

	// Values that admit a user; matching is case-insensitive. Required.
	Values []string `json:"values"`
}

// CookieConfig shapes the session cookie.
type CookieConfig struct {
	// Cookie name. Default: "__Host-gatehouse", or "__Secure-gatehouse"
	// when Domain is set.
	Name string `json:"name,omitempty"`

	// Domain to share the cookie with subdomains (e.g. example.com).
	// Default: none (host-only).
	Domain string `json:"domain,omitempty"`

	// Absolute session lifetime, counted from login. Default: 168h.
	Lifetime caddy.Duration `json:"lifetime,omitempty"`

	// Session ends after this long without a request. Default: 24h.
	IdleTimeout caddy.Duration `json:"idle_timeout,omitempty"`

	// SameSite attribute: "lax", "strict" or "none". Default: lax.
	SameSite string `json:"same_site,omitempty"`
}

// HeadersConfig renames or turns off the identity headers sent upstream.
// Each field holds the header name, or "off" to send none.
type HeadersConfig struct {
	// Stable user id. Default: X-Auth-User-Id.
	UserID string `json:"user_id,omitempty"`
	// Login or preferred username. Default: X-Auth-User.
	User string `json:"user,omitempty"`
	// Verified email. Default: X-Auth-Email.
	Email string `json:"email,omitempty"`
	// Display name. Default: X-Auth-Name.
	Name string `json:"name,omitempty"`
	// Avatar URL. Default: X-Auth-Avatar.
	Avatar string `json:"avatar,omitempty"`
	// Provider name. Default: X-Auth-Provider.
	Provider string `json:"provider,omitempty"`
	// Groups, comma-separated. Default: X-Auth-Groups.
	Groups string `json:"groups,omitempty"`
	// Repositories, comma-separated owner/name. Default: X-Auth-Repos.
	Repos string `json:"repos,omitempty"`
	// The signed identity assertion (ES256 JWT, keys at
	// {prefix}/jwks.json). Default: X-Auth-Jwt.
	JWT string `json:"jwt,omitempty"`
}

// GitHubAppConfig connects a GitHub App, through which signed-in users
// grant Gatehouse access to repositories, and whose webhooks keep that
// access current.
type GitHubAppConfig struct {
	// The App's numeric ID (from its settings page). Required.
	AppID string `json:"app_id,omitempty"`

	// The App's OAuth client ID (Iv1... or Iv23...). Required.
	ClientID string `json:"client_id,omitempty"`

	// The App's OAuth client secret. Required.
	ClientSecret string `json:"client_secret,omitempty"`

	// The secret GitHub signs webhooks with (X-Hub-Signature-256).
	// Required: unsigned or wrongly signed deliveries are refused.
	WebhookSecret string `json:"webhook_secret,omitempty"`

	// PEM file of the App's private key, used to read an installation's
	// repositories when a webhook does not list them. Default: none.
	PrivateKeyFile string `json:"private_key_file,omitempty"`

	// GitHub web URL for GitHub Enterprise Server. Default:
	// https://github.com.
	BaseURL string `json:"base_url,omitempty"`

	// GitHub REST API URL. Default: https://api.github.com, or
	// {base_url}/api/v3 when base_url is set.
	APIURL string `json:"api_url,omitempty"`

	// How often a signed-in user's organizations, teams and repositories
	// are checked again with GitHub; revoked access ends within this time
	// (webhooks end it sooner). Default: 10m.
	RecheckInterval caddy.Duration `json:"recheck_interval,omitempty"`
}
