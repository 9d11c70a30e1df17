// Package caddyfile parses the gatehouse Caddyfile directive into the JSON
// configuration of the http.handlers.gatehouse module (module.Handler).
//
// Importing the package registers the directive and orders it before
// basic_auth, so no global `order` option is needed.
//
// # Syntax
//
//	gatehouse [<matcher>] {
//		secret <value>
//		previous_secrets <value...>
//		assertion_key <pem-file>
//		previous_assertion_keys <pem-file...>
//		store memory
//		store redis [<url>]
//		store redis {
//			url <redis-url>
//			address <host:port...>
//			master_name <name>
//			username <user>
//			password <pass>
//			sentinel_password <pass>
//			db <n>
//			tls
//			key_prefix <prefix>
//			timeout <duration>
//		}
//		prefix <path>
//		provider oidc [<name>] {
//			issuer <url>
//			client_id <id>
//			client_secret <secret>
//			scopes <scope...>
//			redirect_url <url>
//			label <text>
//			timeout <duration>
//		}
//		provider github [<name>] {
//			client_id <id>
//			client_secret <secret>
//			scopes <scope...>
//			base_url <url>
//			api_url <url>
//			redirect_url <url>
//			label <text>
//			timeout <duration>
//		}
//		provider google [<name>] {
//			client_id <id>
//			client_secret <secret>
//			hosted_domain <domain>
//			scopes <scope...>
//			redirect_url <url>
//			label <text>
//			timeout <duration>
//		}
//		provider oauth2 <name> {
//			auth_url <url>
//			token_url <url>
//			userinfo_url <url>
//			client_id <id>
//			client_secret <secret>
//			scopes <scope...>
//			claims {
//				id|login|email|email_verified|name|avatar <path>
//			}
//			redirect_url <url>
//			label <text>
//			timeout <duration>
//		}
//		provider gitlab|microsoft|gitee|feishu|lark [<name>] {
//			client_id <id>
//			client_secret <secret>
//			tenant <tenant>
//			scopes <scope...>
//			base_url <url>
//			redirect_url <url>
//			label <text>
//			timeout <duration>
//		}
//		allow user|email|domain|org|team|repo <values...>
//		public <paths...>
//		github_app {
//			app_id <id>
//			client_id <id>
//			client_secret <secret>
//			webhook_secret <secret>
//			private_key_file <path>
//			base_url <url>
//			api_url <url>
//			recheck_interval <duration>
//		}
//		nango {
//			secret_key <key>
//			base_url <url>
//			connect_url <url>
//			webhook_secret <key>
//			previous_webhook_secret <key>
//			login_integration <id>|off
//			repo_integration <id>|off
//			syncs <names...>
//			sync_forward <url>
//			label <text>
//			github_api_url <url>
//			recheck_interval <duration>
//		}
//		connection <name> {
//			type oauth1|oauth2|nango
//			request_token_url <url>
//			authorize_url <url>
//			access_token_url <url>
//			consumer_key <key>
//			consumer_secret <secret>
//			auth_url <url>
//			token_url <url>
//			revoke_url <url>
//			client_id <id>
//			client_secret <secret>
//			scopes <scope...>
//			auth_style basic|post
//			integration <id>
//		}
//		jwt_issuer <name> {
//			issuer <url>
//			audience <aud...>
//			jwks_url <url>
//			base_url <url>
//			timeout <duration>
//			claims {
//				id|login|email|name|groups|repos <claim.path>
//			}
//		}
//		device_login [{
//			lifetime <duration>
//		}]
//		connections_secret <secret>
//		title <text>
//		logo <url>
//		session_cache <duration>|off
//		logins_per_minute <n>
//		cookie {
//			name <name>
//			domain <domain>
//			lifetime <duration>
//			idle_timeout <duration>
//			same_site lax|strict|none
//		}
//		headers {
//			user_id|user|email|name|avatar|provider|groups|repos|connections|jwt|access_token <Header-Name>|off
//		}
//		pass_access_token
//		external_url <url>
//		redirect_domains <hosts...>
//	}
//
// Every string value may be a placeholder such as {env.GATEHOUSE_SECRET};
// placeholders are kept verbatim here and resolved when the module is
// provisioned. Values that must be known when the Caddyfile is adapted
// (numbers, durations, paths, header and cookie names, same_site, the allow
// kind, provider types and names) take no placeholders and are checked
// then; use the Caddyfile's own {$VAR} or {$VAR:default} to fill them from
// the environment. Every error this adapter reports names the file and
// line. What it cannot see — the values of placeholders and the key files
// (assertion_key, previous_assertion_keys, github_app private_key_file,
// read on the machine that runs Caddy) — the module checks when it is
// provisioned; those errors start with "gatehouse:" and name the
// subdirective and, for a value a placeholder left empty, the placeholder.
//
// Secrets (secret, connections_secret, every client_secret,
// consumer_secret, webhook_secret and previous_webhook_secret, nango's
// secret_key, the store's password and sentinel_password, and a password
// in a Redis URL) belong in {env.*} or {file.*} placeholders: Caddy logs
// the adapted config at debug level, so the adapter logs a warning, naming
// the file and line, for each secret written literally, including one
// filled in by {$VAR}, which Caddy substitutes before the adapter runs.
// {file.*} drops one trailing newline (\n or \r\n) of the file.
//
// Subdirectives that take one value may appear once per block; allow,
// public, redirect_domains, provider and the store's address may repeat and
// accumulate.
//
// # Subdirectives
//
// secret: the key material from which cookie, CSRF and encryption keys are
// derived, at least 32 bytes once placeholders are resolved (a secret
// written literally is checked here). Instances that share a store must
// share it. Required.
//
// store: where sessions and login state live. `store memory` (the default)
// keeps them in this process only. `store redis` uses Redis: with no
// argument it connects to 127.0.0.1:6379; with one argument it takes a URL
// (redis://, rediss:// for TLS, or unix://), e.g.
// `store redis redis://127.0.0.1:6379/0`; with a block it takes either
// `url` or `address` (not both) and the options below. One address is a
// single server; several with master_name are Sentinels; several without
// it are a Cluster. With no url and no address the block connects to
// 127.0.0.1:6379.
//
//   - url: a Redis URL, as for the one-argument form. The URL carries the
//     user, password, database and TLS (rediss://), so username, password,
//     db, tls, master_name and sentinel_password go with address only.
//   - address: one or more host:port; may repeat and accumulate.
//   - master_name: the Sentinel master name; selects Sentinel mode and
//     needs address.
//   - username, password: Redis ACL credentials.
//   - sentinel_password: the Sentinels' password, if it differs; needs
//     master_name.
//   - db: the logical database, an integer >= 0; must be 0 for a Cluster.
//   - tls: connect over TLS.
//   - key_prefix: prefix of every key Gatehouse writes. Default: gatehouse:
//   - timeout: time allowed for one Redis command, e.g. 2s. Default: 2s.
//
// prefix: the path under which Gatehouse serves its own endpoints (login,
// callback, logout, userinfo...). A clean path starting with "/", not "/"
// itself. Default: /.gatehouse
//
// provider: an identity provider offered at login; repeat it for several.
// The type is required; supported: oidc (any OpenID Connect provider),
// github (a GitHub OAuth App, on github.com or GitHub Enterprise Server),
// google (Google accounts; hosted_domain restricts them to a Workspace
// domain, checked in the id_token), oauth2 (any OAuth 2.0 provider with a
// userinfo endpoint: auth_url, token_url, userinfo_url, and claims naming
// where id, login, email, email_verified, name and avatar are in its JSON;
// the email is used only when the email_verified claim is true), and the
// presets gitlab, microsoft (Entra ID; tenant, default common), gitee,
// feishu and lark, which need only client_id and client_secret (base_url
// for a self-managed GitLab). Each type is a module of Caddy's registry
// (http.handlers.gatehouse.providers.<type>, see package providers) that
// reads its own block; the directive looks the type up there.
// The name appears in URLs such as /.gatehouse/login/<name> and in
// X-Auth-Provider; it defaults to the type, must be unique, and is 1 to 32
// lowercase letters, digits, '-' or '_'.
//
//   - issuer: the OIDC issuer URL; discovery is read from
//     <issuer>/.well-known/openid-configuration. Required for oidc; not
//     taken by github.
//   - client_id: the OAuth client ID. Required.
//   - client_secret: the OAuth client secret. Required for github; for
//     oidc the default is none (public client with PKCE).
//   - scopes: scopes requested; for oidc they must include openid.
//     Default: openid email profile for oidc; read:user user:email
//     read:org for github (read:org lets allow org and allow team see
//     memberships).
//   - base_url: github only; the GitHub Enterprise Server web URL, e.g.
//     https://github.example.com. Default: https://github.com.
//   - api_url: github only; the REST API URL. Default:
//     https://api.github.com, or <base_url>/api/v3 when base_url is set.
//   - redirect_url: the full redirect URI registered at the provider.
//     Default: <external_url or the site>/<prefix>/callback/<name>.
//   - label: text on the provider chooser page. Default: the name.
//
// base_url and api_url are http(s) URLs without a query.
//
// pass_access_token: send the provider's current access token to the
// upstream in X-Auth-Access-Token (renamed with headers access_token), for
// apps that call the provider's API themselves. Off by default.
//
// allow: admits signed-in users by one attribute; any rule admits, and
// with no rule every signed-in user is admitted. May repeat. Kinds:
// `user` (login or user id), `email` (verified email; *@example.com
// matches a whole domain), `domain` (the verified email's domain:
// example.com exactly, .example.com any subdomain), `org` (member of a
// GitHub organization, e.g. acme), `team` (member of a GitHub team,
// written org/team-slug, e.g. acme/backend) and `repo` (a repository the
// user can access through the GitHub App, written owner/name, e.g.
// acme/app). Matching is case-insensitive; org, team and repo take no
// wildcards.
//
// public: paths served without a session, exact (/healthz) or a prefix
// ending in /* (/static/* matches /static and everything below it), in
// canonical form (no .., //, . segments or %). /* alone is refused: it
// would make the whole site public. May repeat.
//
// session_cache: how long an instance may serve a session from its own
// memory before reading the store again; logout and revocation reach every
// instance at once through Redis pub/sub, so this only bounds staleness if
// a message is missed. off disables it. Default: 5s.
//
// logins_per_minute: how many sign-ins, account links and App connects may
// start per minute over every instance sharing the store (each keeps a
// record for ten minutes); past it they get 503 too_many_logins. Default:
// 6000.
//
// github_app: a GitHub App through which signed-in users grant access to
// repositories (whatever provider they signed in with), and whose webhooks,
// received at <prefix>/webhooks/github, keep that access current. At most
// once.
//
//   - app_id: the App's numeric ID, from its settings page.
//   - client_id: the App's OAuth client ID (Iv1... or Iv23...). Required.
//   - client_secret: the App's OAuth client secret. Required.
//   - webhook_secret: the secret GitHub signs webhooks with
//     (X-Hub-Signature-256); deliveries without a valid signature are
//     refused. Required.
//   - private_key_file: PEM file of the App's private key, used to list an
//     installation's repositories when a webhook does not. Default: none.
//   - base_url, api_url: as for provider github, for GitHub Enterprise
//     Server.
//   - recheck_interval: how often a signed-in user's organizations, teams
//     and repositories are checked again with GitHub; revoked access ends
//     within this time (webhooks end it sooner). At least 1m. Default: 10m.
//
// nango: sign-in and repository access through Nango's Connect flow, as two
// connections linked by the user id: login_integration (a GitHub OAuth App:
// who the user is, at <prefix>/login/nango) and repo_integration (a GitHub
// App: which repositories, at <prefix>/github-app/connect). Nango's
// webhooks are received at <prefix>/webhooks/nango. Not with github_app.
//
//   - secret_key: the Nango environment's secret key. Required.
//   - base_url, connect_url: Nango's API and Connect UI, for a self-hosted
//     Nango. Default: https://api.nango.dev, https://connect.nango.dev.
//   - webhook_secret: the environment's webhook signing key
//     (X-Nango-Hmac-Sha256). Required.
//   - previous_webhook_secret: the key before a rotation, accepted too.
//   - login_integration, repo_integration: integration ids, or off.
//     Default: github, github-app-oauth.
//   - syncs: Nango syncs triggered when repositories are connected.
//   - sync_forward: URL that sync and forward webhooks are delivered to,
//     at least once, after being persisted. Default: none (dropped).
//   - label: chooser text of the Nango login. Default: GitHub.
//   - github_api_url: GitHub's REST API, for GitHub Enterprise Server.
//   - recheck_interval: as for github_app. Default: 10m.
//
// connection: an account signed-in users link at <prefix>/connect/<name>
// (Garmin over OAuth 1.0a, Whoop or Fitbit over OAuth 2.0, or any Nango
// integration); may repeat. type oauth1 takes request_token_url,
// authorize_url, access_token_url, consumer_key and consumer_secret (all
// required); type oauth2 takes auth_url, token_url, client_id (required),
// client_secret, scopes, revoke_url and auth_style (basic, the default, or
// post: how the client authenticates at token_url, pinned so a refresh is
// one request); type nango takes integration and
// needs the nango block. The upstream learns the linked names in
// X-Auth-Connections and fetches fresh tokens from
// <prefix>/connections/<name>/token?user_id=… with connections_secret in
// X-Gatehouse-Secret.
//
// connections_secret: the shared secret of that token endpoint; without it
// the endpoint is off.
//
// device_login: device login for CLIs and other devices without a browser
// of their own, the OAuth 2.0 Device Authorization Grant (RFC 8628). A
// device asks for a code at <prefix>/device/code, a signed-in person
// approves it at <prefix>/device, and the device, polling
// <prefix>/device/token, gets a session token to send as
// "Authorization: Bearer", listed among the person's sessions. Written
// alone, it takes the defaults. Off unless set.
//
//   - lifetime: how long a device code and its user code are valid (the
//     person must approve within it), from 1s to 30m. Default: 10m.
//
// title, logo: the name of the site, shown after each page's own title
// in the browser tab of Gatehouse's pages ("Sign out · Acme"; default:
// none), and a logo shown atop them: a path on the site, an https URL or
// a data:image/ URL (its origin is added to the pages' img-src).
//
// cookie: the session cookie.
//
//   - name: the cookie name. Default: __Host-gatehouse, or
//     __Secure-gatehouse when domain is set.
//   - domain: share the cookie with subdomains, e.g. example.com.
//     Default: host-only.
//   - lifetime: absolute session lifetime, at least 1m. Default: 168h.
//   - idle_timeout: session ends after this long without a request; at
//     least 1m and not more than lifetime. Default: 24h.
//   - same_site: lax, strict or none. Default: lax.
//
// Durations use Go syntax (90m, 12h) plus d for days (7d).
//
// headers: renames the identity headers sent upstream, or turns one off
// with `off`. Fields and defaults: user_id X-Auth-User-Id, user X-Auth-User,
// email X-Auth-Email, name X-Auth-Name, avatar X-Auth-Avatar, provider
// X-Auth-Provider, groups X-Auth-Groups, repos X-Auth-Repos, jwt
// X-Auth-Jwt (the signed assertion). Names use letters, digits and '-'
// (proxies drop names with '_' or '.'), must be distinct from each other
// (defaults included), and must not be a header the request itself needs
// (Host, Cookie, Authorization...).
//
// external_url: the public origin of the site (scheme://host[:port]) when
// it differs from what Caddy sees, e.g. behind a TLS-terminating load
// balancer. Default: the site's own address.
//
// redirect_domains: other hosts that login and logout may redirect to: a
// name matches exactly, .example.com matches any subdomain. May repeat.
// Default: same origin only.
//
// # Example
//
//	app.example.com {
//		gatehouse {
//			secret {env.GATEHOUSE_SECRET}
//			store redis redis://127.0.0.1:6379/0
//			provider oidc corp {
//				issuer https://login.example.com
//				client_id {env.OIDC_CLIENT_ID}
//				client_secret {env.OIDC_CLIENT_SECRET}
//			}
//			provider github {
//				client_id {env.GITHUB_CLIENT_ID}
//				client_secret {env.GITHUB_CLIENT_SECRET}
//			}
//			allow email *@example.com
//			public /healthz /static/*
//		}
//		reverse_proxy 127.0.0.1:3000
//	}
package caddyfile
