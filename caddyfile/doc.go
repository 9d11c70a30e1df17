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
//		provider <type> [<name>] {
//			issuer <url>
//			client_id <id>
//			client_secret <secret>
//			scopes <scope...>
//			redirect_url <url>
//			label <text>
//		}
//		allow user|email|domain <values...>
//		public <paths...>
//		cookie {
//			name <name>
//			domain <domain>
//			lifetime <duration>
//			idle_timeout <duration>
//			same_site lax|strict|none
//		}
//		headers {
//			user_id|user|email|name|avatar|provider|groups|repos <Header-Name>|off
//		}
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
// the environment. Every error names the file and line.
//
// Subdirectives that take one value may appear once per block; allow,
// public, redirect_domains, provider and the store's address may repeat and
// accumulate.
//
// # Subdirectives
//
// secret: the key material from which cookie, CSRF and encryption keys are
// derived, at least 32 bytes once placeholders are resolved. Instances that
// share a store must share it. Required.
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
// The type is required; supported: oidc. The name appears in URLs such as
// /.gatehouse/login/<name> and in X-Auth-Provider; it defaults to the type,
// must be unique, and is 1 to 32 lowercase letters, digits, '-' or '_'.
//
//   - issuer: the OIDC issuer URL; discovery is read from
//     <issuer>/.well-known/openid-configuration. Required for oidc.
//   - client_id: the OAuth client ID. Required.
//   - client_secret: the OAuth client secret. Default: none (public client
//     with PKCE).
//   - scopes: scopes requested; for oidc they must include openid.
//     Default: openid email profile.
//   - redirect_url: the full redirect URI registered at the provider.
//     Default: <external_url or the site>/<prefix>/callback/<name>.
//   - label: text on the provider chooser page. Default: the name.
//
// allow: admits signed-in users by one attribute; any rule admits, and
// with no rule every signed-in user is admitted. May repeat. Kinds:
// `user` (login or user id), `email` (verified email; *@example.com
// matches a whole domain) and `domain` (the verified email's domain:
// example.com exactly, .example.com any subdomain). Matching is
// case-insensitive.
//
// public: paths served without a session, exact (/healthz) or a prefix
// ending in /* (/static/* matches /static and everything below it), in
// canonical form (no .., //, . segments or %). /* alone is refused: it
// would make the whole site public. May repeat.
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
// X-Auth-Provider, groups X-Auth-Groups, repos X-Auth-Repos. Names use
// letters, digits and '-' (proxies drop names with '_' or '.'), must be
// distinct from each other (defaults included) and from X-Auth-Jwt, and
// must not be a header the request itself needs (Host, Cookie,
// Authorization...).
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
//			allow email *@example.com
//			public /healthz /static/*
//		}
//		reverse_proxy 127.0.0.1:3000
//	}
package caddyfile
