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

// HeadersConfig renames or turns off the headers sent upstream: each key
// names one, each value is its new name or "off" to send none. The keys
// and their defaults: user_id X-Auth-User-Id, user X-Auth-User, email
// X-Auth-Email, name X-Auth-Name, avatar X-Auth-Avatar, provider
// X-Auth-Provider, groups X-Auth-Groups, repos X-Auth-Repos, connections
// X-Auth-Connections, jwt X-Auth-Jwt (the signed identity assertion,
// keys at {prefix}/jwks.json), access_token X-Auth-Access-Token (sent
// only with pass_access_token). Default: every header under its default
// name.
type HeadersConfig map[string]string

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

// NangoConfig signs users in and connects their repositories through
// Nango (https://nango.dev): the login integration (a GitHub OAuth App)
// says who the user is, the repository integration (a GitHub App) which
// repositories they can access; Nango's webhooks arrive at
// {prefix}/webhooks/nango.
type NangoConfig struct {
	// The environment's secret (API) key, sent as a bearer token.
	// Required.
	SecretKey string `json:"secret_key,omitempty"`

	// Nango API URL, for a self-hosted Nango. Default:
	// https://api.nango.dev.
	BaseURL string `json:"base_url,omitempty"`

	// Nango Connect UI URL, for a self-hosted Nango. Default:
	// https://connect.nango.dev.
	ConnectURL string `json:"connect_url,omitempty"`

	// The environment's webhook signing key (X-Nango-Hmac-Sha256).
	// Required: unsigned or wrongly signed webhooks are refused.
	WebhookSecret string `json:"webhook_secret,omitempty"`

	// The signing key before the last rotation, accepted as well while
	// Nango still uses it (up to 5 minutes). Default: none.
	PreviousWebhookSecret string `json:"previous_webhook_secret,omitempty"`

	// Integration (unique key) users sign in with; "off" turns the Nango
	// login off. Default: github.
	LoginIntegration string `json:"login_integration,omitempty"`

	// Integration through which users connect repositories (a GitHub App
	// integration); "off" turns it off. Default: github-app-oauth.
	RepoIntegration string `json:"repo_integration,omitempty"`

	// Nango syncs triggered when a user connects repositories. Default:
	// none.
	Syncs []string `json:"syncs,omitempty"`

	// URL that sync and forward webhooks are delivered to, at least once,
	// with retries; they are persisted in the store first. Default: none
	// (they are acknowledged and dropped).
	SyncForward string `json:"sync_forward,omitempty"`

	// Label of the Nango login on the chooser page. Default: GitHub.
	Label string `json:"label,omitempty"`

	// GitHub REST API URL used with the users' GitHub App tokens to list
	// their installations and repositories (GitHub Enterprise Server).
	// Default: https://api.github.com.
	GitHubAPIURL string `json:"github_api_url,omitempty"`

	// How often a signed-in user's organizations, teams and repositories
	// are checked again. Default: 10m.
	RecheckInterval caddy.Duration `json:"recheck_interval,omitempty"`
}

// ConnectionConfig is an account signed-in users can link (Garmin, Whoop,
// Fitbit, any Nango integration), whose fresh tokens the upstream fetches
// from {prefix}/connections/{name}/token.
type ConnectionConfig struct {
	// Name in URLs ({prefix}/connect/{name}) and X-Auth-Connections.
	// Required.
	Name string `json:"name"`
	// "oauth1" (OAuth 1.0a, HMAC-SHA1), "oauth2" or "nango". Required.
	Type string `json:"type"`

	// OAuth 1.0a endpoints and consumer credentials. Required for oauth1.
	RequestTokenURL string `json:"request_token_url,omitempty"`
	AuthorizeURL    string `json:"authorize_url,omitempty"`
	AccessTokenURL  string `json:"access_token_url,omitempty"`
	ConsumerKey     string `json:"consumer_key,omitempty"`
	ConsumerSecret  string `json:"consumer_secret,omitempty"`

	// OAuth 2.0 endpoints and client credentials (auth_url, token_url and
	// client_id required for oauth2); revoke_url is called at unlink.
	// Default: no revocation.
	AuthURL      string   `json:"auth_url,omitempty"`
	TokenURL     string   `json:"token_url,omitempty"`
	RevokeURL    string   `json:"revoke_url,omitempty"`
	ClientID     string   `json:"client_id,omitempty"`
	ClientSecret string   `json:"client_secret,omitempty"`
	Scopes       []string `json:"scopes,omitempty"`
	// AuthStyle is how the client authenticates at token_url: "basic"
	// (client_secret_basic, the method RFC 6749 requires every server to
	// support) or "post" (client_secret_post, credentials in the form).
	// Pinned, so a refresh is one request: a provider that rotates
	// refresh tokens never sees one redeemed twice. Default: basic.
	AuthStyle string `json:"auth_style,omitempty"`

	// Nango integration (unique key). Required for nango, which also
	// needs the nango block.
	Integration string `json:"integration,omitempty"`
}

// DeviceLoginConfig turns on device login for CLIs and other devices
// without a browser of their own (OAuth 2.0 Device Authorization Grant,
// RFC 8628): a device asks for a code at {prefix}/device/code, a
// signed-in person approves it at {prefix}/device, and the device, which
// polls {prefix}/device/token, gets a session token to send as
// "Authorization: Bearer".
type DeviceLoginConfig struct {
	// How long a device code and its user code are valid: the person
	// must approve within it. At least 1s, at most 30m. Default: 10m.
	Lifetime caddy.Duration `json:"lifetime,omitempty"`
}
