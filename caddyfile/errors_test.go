package caddyfile_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
)

// inSite wraps the body of a gatehouse block in a site. The body's first
// line is line 3 of the Caddyfile.
func inSite(body string) string {
	return "app.example.com {\n\tgatehouse {\n" + body + "\n\t}\n\treverse_proxy 127.0.0.1:3000\n}\n"
}

// okProvider is a valid provider block, for cases that need one.
const okProvider = "provider oidc {\nissuer https://login.example.com\nclient_id c\n}"

// errorCases lists every error the parser produces, as the caddyfile
// adapter reports it. caddyfile is a whole Caddyfile; line is where the
// error must point.
var errorCases = []struct {
	name      string
	caddyfile string
	want      string
	line      int
}{
	// The directive itself.
	{"directive argument", "app.example.com {\n\tgatehouse login {\n\t\tsecret s\n\t}\n}\n",
		`gatehouse takes no arguments besides an optional matcher (e.g. gatehouse /app/* { ... }); unexpected "login"`, 2},
	{"directive without block", "app.example.com {\n\tgatehouse\n\treverse_proxy 127.0.0.1:3000\n}\n",
		"gatehouse needs a block, opened on the same line, with at least `secret {env.GATEHOUSE_SECRET}` and one `provider oidc { ... }`", 2},
	{"empty block", "app.example.com {\n\tgatehouse {\n\t}\n}\n",
		"gatehouse needs a block, opened on the same line", 2},
	{"missing secret", inSite(okProvider),
		"gatehouse needs a secret of at least 32 bytes, e.g. secret {env.GATEHOUSE_SECRET}", 2},
	{"missing provider", inSite("secret s\nstore memory"),
		"gatehouse needs at least one provider, e.g. provider oidc { issuer https://login.example.com ... client_id ... }", 2},
	{"unknown subdirective", inSite("secret s\nnango {\nsecret_key x\n}"),
		`unknown gatehouse subdirective "nango"; valid ones are: secret, store, prefix, provider, allow, public, cookie, headers, external_url, redirect_domains`, 4},

	// Single values.
	{"secret without value", inSite("secret"),
		"secret needs exactly one value, e.g. secret {env.GATEHOUSE_SECRET}", 3},
	{"secret with two values", inSite("secret a b"),
		"secret needs exactly one value, e.g. secret {env.GATEHOUSE_SECRET}", 3},
	{"secret empty", inSite(`secret ""`),
		"secret must not be empty, e.g. secret {env.GATEHOUSE_SECRET}", 3},
	{"secret with block", inSite("secret s {\nvalue x\n}"),
		"secret takes no block; write its value on the same line", 3},
	{"secret twice", inSite("secret a\nstore memory\nsecret b"),
		"secret is already set at line 3; set it only once", 5},
	{"prefix twice", inSite("prefix /a\nprefix /b"),
		"prefix is already set at line 3; set it only once", 4},
	{"store twice", inSite("store memory\nstore redis"),
		"store is already set at line 3; set it only once", 4},
	{"cookie twice", inSite("cookie {\nname a\n}\ncookie {\nlifetime 1h\n}"),
		"cookie is already set at line 3; set it only once", 6},
	{"headers twice", inSite("headers {\nuser U\n}\nheaders {\nemail E\n}"),
		"headers is already set at line 3; set it only once", 6},
	{"external_url twice", inSite("external_url https://a.example.com\nexternal_url https://b.example.com"),
		"external_url is already set at line 3; set it only once", 4},

	// store.
	{"store without type", inSite("store"),
		"store needs a type: store memory, store redis <url>, or store redis { ... }", 3},
	{"unknown store", inSite("store postgres"),
		`unknown store type "postgres"; use store memory or store redis`, 3},
	{"store memory argument", inSite("store memory big"),
		`store memory takes no further arguments; remove "big"`, 3},
	{"store memory block", inSite("store memory {\nsize 10\n}"),
		"store memory takes no block; for Redis options write store redis { ... }", 3},
	{"store redis url and block", inSite("store redis redis://a:6379 {\ndb 1\n}"),
		"store redis takes either a URL or a block, not both; move the URL into the block as: url redis://a:6379", 3},
	{"store redis two urls", inSite("store redis redis://a:6379 redis://b:6379"),
		"store redis takes at most one URL, e.g. store redis redis://127.0.0.1:6379/0; for several servers use a block: store redis { address <host:port...> }", 3},
	{"store redis host:port", inSite("store redis 127.0.0.1:6379"),
		`store redis: "127.0.0.1:6379" is not a Redis URL; use redis://host:6379/0, rediss:// for TLS or unix:///path; for host:port write store redis { address <host:port> }`, 3},
	{"store redis http url", inSite("\n\nstore redis http://cache:6379"),
		`store redis: "http://cache:6379" is not a Redis URL`, 5},

	// store redis { }.
	{"redis unknown", inSite("store redis {\nhost a\n}"),
		`unknown store redis subdirective "host"; valid ones are: url, address, master_name, username, password, sentinel_password, db, tls, key_prefix, timeout`, 4},
	{"redis url then address", inSite("store redis {\nurl redis://a:6379\naddress b:6379\n}"),
		"store redis takes url or address, not both; use url for one server or address for several", 5},
	{"redis address then url", inSite("store redis {\naddress b:6379\nurl redis://a:6379\n}"),
		"store redis takes url or address, not both; use url for one server or address for several", 5},
	{"redis bad url", inSite("store redis {\nurl cache.internal\n}"),
		`store redis url: "cache.internal" is not a Redis URL`, 4},
	{"redis url without value", inSite("store redis {\nurl\n}"),
		"store redis url needs exactly one value, e.g. url redis://127.0.0.1:6379/0", 4},
	{"redis url twice", inSite("store redis {\nurl redis://a\nurl redis://b\n}"),
		"store redis url is already set at line 4; set it only once", 5},
	{"redis address without value", inSite("store redis {\naddress\n}"),
		"store redis address needs at least one host:port, e.g. address 127.0.0.1:6379", 4},
	{"redis address without port", inSite("store redis {\naddress a:6379 cache.internal\n}"),
		`store redis address "cache.internal" must be host:port, e.g. 127.0.0.1:6379 (for a URL use url instead)`, 4},
	{"redis address url", inSite("store redis {\naddress redis://a:6379\n}"),
		`store redis address "redis://a:6379" must be host:port`, 4},
	{"redis address with block", inSite("store redis {\naddress a:1 {\nx\n}\n}"),
		"store redis address takes no block; write its value on the same line", 4},
	{"redis master_name twice", inSite("store redis {\naddress a:1\nmaster_name a\nmaster_name b\n}"),
		"store redis master_name is already set at line 5; set it only once", 6},
	{"redis password without value", inSite("store redis {\npassword\n}"),
		"store redis password needs exactly one value, e.g. password {env.REDIS_PASSWORD}", 4},
	{"redis db not a number", inSite("store redis {\ndb one\n}"),
		`store redis db must be a whole number >= 0 (the Redis database index), e.g. db 0; got "one"`, 4},
	{"redis db negative", inSite("store redis {\ndb -1\n}"),
		`store redis db must be a whole number >= 0 (the Redis database index), e.g. db 0; got "-1"`, 4},
	{"redis db placeholder", inSite("store redis {\ndb {env.REDIS_DB}\n}"),
		"store redis db does not take placeholders such as {env.REDIS_DB}; write the value itself, e.g. db 0, or use {$VAR} to read an environment variable when the Caddyfile is loaded", 4},
	{"redis timeout placeholder", inSite("store redis {\ntimeout {env.REDIS_TIMEOUT}\n}"),
		"store redis timeout does not take placeholders such as {env.REDIS_TIMEOUT}; write the value itself, e.g. timeout 2s, or use {$VAR} to read an environment variable when the Caddyfile is loaded", 4},
	{"redis tls value", inSite("store redis {\ntls on\n}"),
		"store redis tls takes no value; write just: tls", 4},
	{"redis tls twice", inSite("store redis {\ntls\ntls\n}"),
		"store redis tls is already set at line 4; set it only once", 5},
	{"redis timeout bad", inSite("store redis {\ntimeout 5\n}"),
		`store redis timeout: "5" is not a duration; use e.g. timeout 2s (units: ms, s, m, h, d)`, 4},
	{"redis timeout zero", inSite("store redis {\ntimeout 0s\n}"),
		"store redis timeout must be greater than zero, e.g. timeout 2s", 4},
	{"redis master_name without address", inSite("store redis {\npassword p\nmaster_name m\n}"),
		"store redis master_name needs the Sentinel addresses, e.g. address 127.0.0.1:26379 127.0.0.1:26380 127.0.0.1:26381", 5},
	{"redis url with password", inSite("store redis {\nurl redis://cache:6379\npassword p\n}"),
		"store redis password cannot be combined with url; put the user and password in the URL: redis://user:password@host:6379/0", 5},
	{"redis url with username", inSite("store redis {\nusername u\nurl redis://cache:6379\n}"),
		"store redis username cannot be combined with url; put the user and password in the URL", 4},
	{"redis url with db", inSite("store redis {\nurl redis://cache:6379\ndb 2\n}"),
		"store redis db cannot be combined with url; put the database number in the URL path: redis://host:6379/2", 5},
	{"redis url with tls", inSite("store redis {\nurl redis://cache:6379\ntls\n}"),
		"store redis tls cannot be combined with url; use the rediss:// scheme for TLS", 5},
	{"redis url with master_name", inSite("store redis {\nurl redis://cache:6379\nmaster_name m\n}"),
		"store redis master_name cannot be combined with url; Sentinels need address <host:port...> instead of url", 5},
	{"redis url with sentinel_password", inSite("store redis {\nurl redis://cache:6379\nsentinel_password p\n}"),
		"store redis sentinel_password cannot be combined with url; Sentinels need address <host:port...> instead of url", 5},
	{"redis cluster with db", inSite("store redis {\naddress a:6379 b:6379\ndb 1\n}"),
		"store redis db must be 0 with a Cluster (several addresses without master_name); remove db or add master_name for Sentinels", 5},
	{"redis sentinel_password without master_name", inSite("store redis {\naddress a:1 b:2\nsentinel_password s\n}"),
		"store redis sentinel_password only applies to Sentinels; add master_name <name> or remove sentinel_password", 5},

	// prefix.
	{"prefix relative", inSite("prefix auth"),
		`prefix must be a path starting with /, e.g. prefix /.gatehouse; got "auth"`, 3},
	{"prefix root", inSite("prefix /"),
		`prefix "/" must be a clean path below /, such as /.gatehouse or /auth (no trailing slash, wildcard, query, //, . or .. segments)`, 3},
	{"prefix trailing slash", inSite("prefix /auth/"),
		`prefix "/auth/" must be a clean path below /`, 3},
	{"prefix wildcard", inSite("prefix /auth/*"),
		`prefix "/auth/*" must be a clean path below /`, 3},
	{"prefix placeholder", inSite("prefix {env.PREFIX}"),
		"prefix does not take placeholders such as {env.PREFIX}; write the value itself, e.g. prefix /.gatehouse, or use {$VAR} to read an environment variable when the Caddyfile is loaded", 3},

	// provider.
	{"provider without type", inSite("provider {\nclient_id c\n}"),
		"provider needs a type, e.g. provider oidc corp { ... }; supported: oidc", 3},
	{"provider three arguments", inSite("provider oidc corp extra {\n}"),
		`provider takes a type and an optional name, e.g. provider oidc corp { ... }; unexpected "extra"`, 3},
	{"provider github", inSite("secret s\nprovider github {\nclient_id c\n}"),
		`provider type "github" is not supported yet; supported: oidc`, 4},
	{"provider google", inSite("provider google {\nclient_id c\nhosted_domain example.com\n}"),
		`provider type "google" is not supported yet; supported: oidc`, 3},
	{"provider oauth2", inSite("provider oauth2 custom {\n}"),
		`provider type "oauth2" is not supported yet; supported: oidc`, 3},
	{"provider unknown", inSite("provider saml {\n}"),
		`unknown provider type "saml"; supported: oidc`, 3},
	{"provider name uppercase", inSite("provider oidc Corp {\n}"),
		`provider name "Corp" must be 1 to 32 lowercase letters, digits, - or _ (it appears in URLs such as /.gatehouse/login/Corp), e.g. provider oidc corp`, 3},
	{"provider name too long", inSite("provider oidc " + strings.Repeat("a", 33) + " {\n}"),
		`provider name "` + strings.Repeat("a", 33) + `" must be 1 to 32 lowercase letters`, 3},
	{"provider duplicate name", inSite("provider oidc corp {\nissuer https://a.example.com\nclient_id a\n}\nprovider oidc corp {\nissuer https://b.example.com\nclient_id b\n}"),
		`provider name "corp" is already used at line 3; give each provider its own name: provider <type> <name>`, 7},
	{"provider duplicate default name", inSite(okProvider + "\n" + okProvider),
		`provider name "oidc" is already used at line 3; give each provider its own name: provider <type> <name>`, 7},
	{"provider without issuer", inSite("secret s\nprovider oidc corp {\nclient_id c\n}"),
		`provider oidc "corp" needs issuer in its block, e.g. issuer https://login.example.com`, 4},
	{"provider without block", inSite("provider oidc"),
		`provider oidc "oidc" needs issuer in its block, e.g. issuer https://login.example.com`, 3},
	{"provider without client_id", inSite("provider oidc {\nissuer https://login.example.com\n}"),
		`provider oidc "oidc" needs client_id in its block, e.g. client_id {env.OIDC_CLIENT_ID}`, 3},
	{"provider unknown subdirective", inSite("provider oidc {\nhosted_domain example.com\n}"),
		`unknown provider subdirective "hosted_domain"; valid ones are: issuer, client_id, client_secret, scopes, redirect_url, label`, 4},
	{"provider issuer not a URL", inSite("provider oidc {\nissuer login.example.com\n}"),
		`provider issuer must be an http(s) URL such as https://login.example.com; got "login.example.com"`, 4},
	{"provider issuer twice", inSite("provider oidc {\nissuer https://a.example.com\nissuer https://b.example.com\n}"),
		"provider issuer is already set at line 4; set it only once", 5},
	{"provider client_id without value", inSite("provider oidc {\nclient_id\n}"),
		"provider client_id needs exactly one value, e.g. client_id {env.OIDC_CLIENT_ID}", 4},
	{"provider client_secret with two values", inSite("provider oidc {\nclient_secret a b\n}"),
		"provider client_secret needs exactly one value, e.g. client_secret {env.OIDC_CLIENT_SECRET}", 4},
	{"provider scopes empty", inSite("provider oidc {\nscopes\n}"),
		"provider scopes needs at least one scope, e.g. scopes openid email profile", 4},
	{"provider scopes without openid", inSite("provider oidc {\nissuer https://login.example.com\nclient_id c\nscopes email profile\n}"),
		`provider oidc "oidc": scopes must include openid, e.g. scopes openid email profile`, 6},
	{"provider redirect_url relative", inSite("provider oidc {\nredirect_url /.gatehouse/callback/oidc\n}"),
		`provider redirect_url must be a full http(s) URL such as https://app.example.com/.gatehouse/callback/corp; got "/.gatehouse/callback/oidc"`, 4},
	{"provider label without value", inSite("provider oidc {\nlabel\n}"),
		`provider label needs exactly one value, e.g. label "Corporate login"`, 4},

	// allow.
	{"allow without arguments", inSite("allow"),
		"allow needs a kind and at least one value, e.g. allow email *@example.com; kinds: user, email, domain", 3},
	{"allow org", inSite("allow org acme"),
		`allow kind "org" is not supported yet; supported: user, email, domain`, 3},
	{"allow unknown kind", inSite("allow group admins"),
		`unknown allow kind "group"; use one of: user, email, domain, e.g. allow email *@example.com`, 3},
	{"allow kind without value", inSite("allow domain"),
		"allow domain needs at least one value, e.g. allow domain example.com", 3},
	{"allow email without @", inSite("allow email alice@example.com example.com"),
		`allow email "example.com" is not an email address; use alice@example.com, *@example.com for a whole domain, or allow domain example.com`, 3},
	{"allow email partial wildcard", inSite("allow email a*@example.com"),
		`allow email "a*@example.com": * may only stand for the whole part before the @, as in *@example.com`, 3},
	{"allow domain with @", inSite("allow domain @example.com"),
		`allow domain "@example.com" must be a bare domain such as example.com; for addresses use allow email`, 3},
	{"allow domain wildcard", inSite("allow domain *.example.com"),
		`allow domain "*.example.com": write .example.com to admit every subdomain (or example.com for that domain only)`, 3},
	{"allow domain url", inSite("allow domain https://example.com"),
		`allow domain "https://example.com" must be a bare domain such as example.com, or .example.com for its subdomains (no wildcard, scheme, port or path)`, 3},
	{"allow domain rejected by the module", inSite("allow domain example.com exa!mple.com"),
		`allow domain: value "exa!mple.com"`, 3},
	{"allow email rejected by the module", inSite("allow email *@example..com"),
		`allow email: value "*@example..com"`, 3},
	{"allow with block", inSite("allow user a {\nb\n}"),
		"allow takes no block; write its value on the same line", 3},

	// public.
	{"public without path", inSite("public"),
		"public needs at least one path, e.g. public /healthz /static/*", 3},
	{"public relative", inSite("public /healthz static/*"),
		`public path "static/*" must start with /, e.g. public /healthz /static/*`, 3},
	{"public inner wildcard", inSite("public /static/*.css"),
		`public path "/static/*.css": * is only allowed at the end, right after a /, as in /static/* (which matches /static and everything below it)`, 3},
	{"public star without slash", inSite("public /assets*"),
		`public path "/assets*": * is only allowed at the end, right after a /, as in /static/*`, 3},
	{"public dot dot", inSite("public /static/../admin"),
		`public path "/static/../admin": must not contain ".."`, 3},
	{"public placeholder", inSite("public /healthz {env.PUBLIC_PATH}"),
		"public does not take placeholders such as {env.PUBLIC_PATH}; write the value itself, e.g. public /healthz, or use {$VAR} to read an environment variable when the Caddyfile is loaded", 3},
	{"public everything", inSite("public /*"),
		"public /* would let every request through without a login; list the public paths instead, or remove gatehouse from this site", 3},

	// external_url and redirect_domains.
	{"external_url with path", inSite("external_url https://app.example.com/app"),
		`external_url must be an origin such as https://app.example.com (http or https, a host, an optional port, no path or query); got "https://app.example.com/app"`, 3},
	{"external_url without scheme", inSite("external_url app.example.com"),
		`external_url must be an origin such as https://app.example.com`, 3},
	{"external_url without value", inSite("external_url"),
		"external_url needs exactly one value, e.g. external_url https://app.example.com", 3},
	{"redirect_domains without host", inSite("redirect_domains"),
		"redirect_domains needs at least one host, e.g. redirect_domains app.example.com .example.com", 3},
	{"redirect_domains wildcard", inSite("redirect_domains *.example.com"),
		`redirect_domains "*.example.com": write .example.com to allow every subdomain`, 3},
	{"redirect_domains rejected by the module", inSite("redirect_domains docs.example.com exa!mple.com"),
		`redirect_domains "exa!mple.com": not a valid ASCII host name`, 3},
	{"redirect_domains url", inSite("redirect_domains https://docs.example.com"),
		`redirect_domains "https://docs.example.com" must be a host name such as app.example.com, or .example.com for any subdomain (no scheme, port or path)`, 3},

	// cookie.
	{"cookie argument", inSite("cookie session {\nname a\n}"),
		`cookie takes no arguments, only a block, e.g. cookie { lifetime 168h }; unexpected "session"`, 3},
	{"cookie without block", inSite("cookie"),
		"cookie needs a block, opened on the same line, with at least one of: name, domain, lifetime, idle_timeout, same_site", 3},
	{"cookie unknown", inSite("cookie {\npath /\n}"),
		`unknown cookie subdirective "path"; valid ones are: name, domain, lifetime, idle_timeout, same_site`, 4},
	{"cookie name twice", inSite("cookie {\nname a\nname b\n}"),
		"cookie name is already set at line 4; set it only once", 5},
	{"cookie name invalid", inSite("cookie {\nname \"my session\"\n}"),
		`cookie name "my session" is not a valid cookie name; use letters, digits, - and _, e.g. name __Host-gatehouse`, 4},
	{"cookie name placeholder", inSite("cookie {\nname {env.COOKIE}\n}"),
		"cookie name does not take placeholders such as {env.COOKIE}; write the value itself, e.g. name __Host-gatehouse, or use {$VAR} to read an environment variable when the Caddyfile is loaded", 4},
	{"cookie lifetime placeholder", inSite("cookie {\nlifetime {env.LIFETIME}\n}"),
		"cookie lifetime does not take placeholders such as {env.LIFETIME}; write the value itself, e.g. lifetime 168h, or use {$VAR} to read an environment variable when the Caddyfile is loaded", 4},
	{"cookie domain url", inSite("cookie {\ndomain https://example.com\n}"),
		`cookie domain "https://example.com" must be a registrable domain such as example.com (no scheme, port, path or wildcard)`, 4},
	{"cookie domain without dot", inSite("cookie {\ndomain localhost\n}"),
		`cookie domain "localhost" must be a registrable domain such as example.com`, 4},
	{"cookie __Host- with domain", inSite("cookie {\nname __Host-app\ndomain example.com\n}"),
		`cookie name "__Host-app" starts with __Host-, which browsers reject together with a domain; remove domain or use a name such as __Secure-gatehouse`, 5},
	{"cookie lifetime bad", inSite("cookie {\nlifetime 1week\n}"),
		`cookie lifetime: "1week" is not a duration; use e.g. lifetime 168h (units: ms, s, m, h, d)`, 4},
	{"cookie idle_timeout negative", inSite("cookie {\nidle_timeout -1h\n}"),
		"cookie idle_timeout must be greater than zero, e.g. idle_timeout 24h", 4},
	{"cookie lifetime too short", inSite("cookie {\nlifetime 30s\n}"),
		"cookie lifetime must be at least 1m0s, e.g. lifetime 168h", 4},
	{"cookie idle_timeout longer than lifetime", inSite("cookie {\nidle_timeout 48h\nsame_site lax\nlifetime 1d\n}"),
		"cookie idle_timeout (48h0m0s) must not exceed lifetime (24h0m0s); shorten idle_timeout or lengthen lifetime", 6},
	{"cookie idle_timeout without value", inSite("cookie {\nidle_timeout\n}"),
		"cookie idle_timeout needs exactly one value, e.g. idle_timeout 24h", 4},
	{"cookie same_site invalid", inSite("cookie {\nsame_site relaxed\n}"),
		`cookie same_site must be one of lax, strict, none; got "relaxed"`, 4},

	// headers.
	{"headers argument", inSite("headers upstream {\nuser U\n}"),
		`headers takes no arguments, only a block, e.g. headers { user X-Remote-User }; unexpected "upstream"`, 3},
	{"headers without block", inSite("headers"),
		"headers needs a block, opened on the same line, setting at least one of user_id, user, email, name, avatar, provider, groups, repos to a header name or off", 3},
	{"headers unknown", inSite("headers {\njwt off\n}"),
		`unknown headers subdirective "jwt"; valid ones are: user_id, user, email, name, avatar, provider, groups, repos`, 4},
	{"headers without value", inSite("headers {\nuser\n}"),
		"headers user needs exactly one value, e.g. user X-Remote-User (or off)", 4},
	{"headers field twice", inSite("headers {\nuser A\nuser B\n}"),
		"headers user is already set at line 4; set it only once", 5},
	{"headers invalid name", inSite("headers {\nemail X-Email:\n}"),
		`headers email: "X-Email:" is not a usable header name; use letters, digits and - (proxies drop names with _ or .), e.g. email X-Remote-User, or email off`, 4},
	{"headers underscore", inSite("headers {\nuser X_Remote_User\n}"),
		`headers user: "X_Remote_User" is not a usable header name; use letters, digits and - (proxies drop names with _ or .)`, 4},
	{"headers placeholder", inSite("headers {\nemail {env.EMAIL_HEADER}\n}"),
		"headers email does not take placeholders such as {env.EMAIL_HEADER}; write the value itself, e.g. email X-Remote-User, or use {$VAR} to read an environment variable when the Caddyfile is loaded", 4},
	{"headers reserved", inSite("headers {\nuser authorization\n}"),
		"headers user cannot be Authorization: Gatehouse replaces client copies of its headers, which would break the request; pick another name such as X-Remote-User", 4},
	{"headers jwt name", inSite("headers {\ngroups x-auth-jwt\n}"),
		"headers groups cannot be X-Auth-Jwt, which carries the signed identity assertion; pick another name", 4},
	{"headers two renamed alike", inSite("headers {\nuser Remote-User\nemail X-Other\nuser_id remote-user\n}"),
		"headers user_id and user would both be sent as Remote-User; give each its own name or turn one off", 6},
	{"headers renamed onto a default", inSite("headers {\nemail X-Auth-User\n}"),
		"headers user and email would both be sent as X-Auth-User; give each its own name or turn one off", 4},
	{"headers renamed onto a later default", inSite("headers {\nuser_id X-Auth-Repos\n}"),
		"headers user_id and repos would both be sent as X-Auth-Repos; give each its own name or turn one off", 4},
}

var errLine = regexp.MustCompile(`at Caddyfile:(\d+)`)

// TestErrors adapts each broken Caddyfile and checks the message and the
// line it names.
func TestErrors(t *testing.T) {
	adapter := caddyconfig.GetAdapter("caddyfile")
	seen := map[string]bool{}
	for _, tc := range errorCases {
		if seen[tc.name] {
			t.Errorf("duplicate case name %q", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := adapter.Adapt([]byte(tc.caddyfile), nil)
			if err == nil {
				t.Fatalf("no error for:\n%s", tc.caddyfile)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error\n  %s\ndoes not contain\n  %s", msg, tc.want)
			}
			m := errLine.FindAllStringSubmatch(msg, -1)
			if len(m) != 1 {
				t.Fatalf("error %q should name exactly one Caddyfile:<line>", msg)
			}
			if got, _ := strconv.Atoi(m[0][1]); got != tc.line {
				t.Errorf("error %q names line %d, want %d", msg, got, tc.line)
			}
		})
	}
}
