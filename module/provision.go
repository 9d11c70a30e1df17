package module

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/internal/allow"
	"github.com/gatehouse-auth/gatehouse/internal/assertion"
	"github.com/gatehouse-auth/gatehouse/internal/gate"
	"github.com/gatehouse-auth/gatehouse/internal/github"
	"github.com/gatehouse-auth/gatehouse/internal/github/directory"
	"github.com/gatehouse-auth/gatehouse/internal/githubaccess"
	"github.com/gatehouse-auth/gatehouse/internal/headers"
	"github.com/gatehouse-auth/gatehouse/internal/keys"
	"github.com/gatehouse-auth/gatehouse/internal/loginstate"
	"github.com/gatehouse-auth/gatehouse/internal/metrics"
	"github.com/gatehouse-auth/gatehouse/internal/pages"
	"github.com/gatehouse-auth/gatehouse/internal/placeholder"
	"github.com/gatehouse-auth/gatehouse/internal/publicpath"
	"github.com/gatehouse-auth/gatehouse/internal/redirect"
	"github.com/gatehouse-auth/gatehouse/internal/registry"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// DefaultPrefix is where Gatehouse serves its endpoints unless configured.
const DefaultPrefix = "/.gatehouse"

// Provision sets the handler up: it resolves placeholders, derives the
// keys, opens the store and builds the providers. It makes no call to an
// identity provider, so Caddy starts even when one is down.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	h.sites = new(siteHosts)
	// What spans several settings first (Caddy validates after
	// provisioning, which would build what the checks refuse).
	if err := h.Validate(); err != nil {
		return err
	}
	if err := metrics.Register(ctx.GetMetricsRegistry()); err != nil {
		return fmt.Errorf("gatehouse: registering metrics: %w", err)
	}
	repl := caddy.NewReplacer()

	secret := repl.ReplaceKnown(h.Secret, "")
	if err := checkSecret("secret", h.Secret, secret); err != nil {
		return err
	}
	previousSecrets, err := h.previousSecrets(repl, secret)
	if err != nil {
		return err
	}
	ring, err := keys.Derive(secret, previousSecrets...)
	if err != nil {
		return fmt.Errorf("gatehouse: secret: %w", err)
	}
	signer, err := h.assertionSigner(secret, previousSecrets, repl)
	if err != nil {
		return err
	}

	prefix := h.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if !strings.HasPrefix(prefix, "/") || strings.HasSuffix(prefix, "/") || strings.ContainsAny(prefix, "*?#% ") {
		return fmt.Errorf("gatehouse: prefix %q must start with / and not end with one, e.g. /.gatehouse", prefix)
	}

	cookie, lifetime, idle, err := h.cookieSettings()
	if err != nil {
		return err
	}

	res := &placeholder.Resolver{Repl: repl}
	var external *url.URL
	if v := res.Get("external_url", h.ExternalURL); v != "" {
		external, err = parseOrigin(v)
		if err != nil {
			return fmt.Errorf("gatehouse: external_url%s: %w", placeholder.From(h.ExternalURL), err)
		}
	}

	rules := make([]allow.Rule, 0, len(h.Allow))
	for _, a := range h.Allow {
		rules = append(rules, allow.Rule{Kind: a.Kind, Values: res.All("allow "+a.Kind, a.Values)})
	}
	redirectDomains := res.All("redirect_domains", h.RedirectDomains)
	connectionsSecret := res.Get("connections_secret", h.ConnectionsSecret)
	keyPrefix := "gatehouse:"
	if h.Store != nil && h.Store.KeyPrefix != "" {
		keyPrefix = res.Get("store redis key_prefix", h.Store.KeyPrefix)
	}
	if res.Err != nil {
		return res.Err
	}
	machines := make([]string, 0, len(h.JWTIssuers))
	for _, j := range h.JWTIssuers {
		machines = append(machines, j.Name)
	}
	policy, err := allow.New(rules, machines...)
	if err != nil {
		return fmt.Errorf("gatehouse: allow: %w", err)
	}
	pub, err := publicpath.New(h.Public)
	if err != nil {
		return fmt.Errorf("gatehouse: public: %w", err)
	}
	redirects, err := redirect.New(redirectDomains)
	if err != nil {
		return fmt.Errorf("gatehouse: redirect_domains: %w", err)
	}
	names, err := h.headerNames()
	if err != nil {
		return err
	}
	providers, githubLogins, err := h.buildProviders(ctx)
	if err != nil {
		return err
	}
	app, err := h.githubApp(repl)
	if err != nil {
		return err
	}
	nangoCfg, err := h.nangoConfig(repl)
	if err != nil {
		return err
	}

	st, release, err := h.openStore(repl)
	if err != nil {
		return err
	}
	h.releaseStore = release

	cacheTTL := session.DefaultCacheTTL
	if h.SessionCache != 0 {
		cacheTTL = time.Duration(h.SessionCache) // negative: off
	}
	sessions := session.NewManager(session.Options{
		Store: st, Ring: ring, KeyPrefix: keyPrefix, Lifetime: lifetime, IdleTimeout: idle,
		CacheTTL: cacheTTL,
	})
	h.closeSessions = sessions.Close
	dir := directory.New(st, ring, keyPrefix)
	features, err := h.features(repl, githubLogins, app, nangoCfg, featureDeps{
		store: st, ring: ring, keyPrefix: keyPrefix, connectionsSecret: connectionsSecret, dir: dir, sessions: sessions,
		providers: providers,
	})
	if err != nil {
		return err
	}
	issuers, err := h.jwtIssuers(res)
	if err != nil {
		return err
	}
	var bearer gate.BearerAuthenticator
	if issuers != nil {
		bearer = issuers
	}
	h.gate, err = gate.New(gate.Options{
		Prefix:         prefix,
		KeyPrefix:      keyPrefix,
		Store:          st,
		Sessions:       sessions,
		Brand:          pages.Brand{Title: repl.ReplaceKnown(h.Title, ""), Logo: repl.ReplaceKnown(h.Logo, "")},
		Features:       features,
		Assertion:      signer,
		States:         loginstate.New(st, ring, keyPrefix),
		Providers:      providers,
		Policy:         policy,
		Public:         pub,
		Redirects:      redirects,
		Headers:        headers.New(names),
		Cookie:         cookie,
		ExternalURL:    external,
		SiteHosts:      func(r *http.Request) []string { return h.sites.lookup(h, r) },
		Logger:         h.logger,
		FlowsPerMinute: h.LoginsPerMinute,
		Bearer:         bearer,
	})
	if err != nil {
		return fmt.Errorf("gatehouse: %w", err)
	}
	h.unregister = registry.Add(h.gate)
	return nil
}

// checkSecret checks the secret, configured as raw and resolved to
// secret, without ever showing it; what names it in errors ("secret", or
// one of previous_secrets).
func checkSecret(what, raw, secret string) error {
	const gen = "openssl rand -base64 48"
	switch {
	case raw == "":
		return fmt.Errorf("gatehouse: %s is required: at least %d bytes, e.g. secret {env.GATEHOUSE_SECRET} "+
			"with GATEHOUSE_SECRET set to the output of %s", what, keys.MinSecretLen, gen)
	case len(secret) >= keys.MinSecretLen:
		return nil
	case len(placeholder.List(raw)) == 0:
		return fmt.Errorf("gatehouse: %s is %d bytes; it must be at least %d (generate one with %s "+
			"and pass it as secret {env.GATEHOUSE_SECRET})", what, len(secret), keys.MinSecretLen, gen)
	}
	var fix []string
	for _, p := range placeholder.List(raw) {
		if name, ok := strings.CutPrefix(p, "{env."); ok {
			fix = append(fix, "set "+strings.TrimSuffix(name, "}"))
		} else if path, ok := strings.CutPrefix(p, "{file."); ok {
			fix = append(fix, "write it to "+strings.TrimSuffix(path, "}"))
		} else {
			fix = append(fix, "check "+p)
		}
	}
	if secret == "" {
		return fmt.Errorf("gatehouse: %w; it must be at least %d bytes (%s, e.g. %s)",
			placeholder.ErrEmpty(what, raw), keys.MinSecretLen, strings.Join(fix, ", "), gen)
	}
	return fmt.Errorf("gatehouse: %s is %d bytes after placeholders are resolved; it must be at least %d (%s, e.g. %s)",
		what, len(secret), keys.MinSecretLen, strings.Join(fix, ", "), gen)
}

// parseOrigin accepts scheme://host[:port] with nothing after it.
func parseOrigin(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSuffix(s, "/"))
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL", s)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("%q must be an origin like https://app.example.com (scheme and host, no path)", s)
	}
	u.Host = strings.ToLower(u.Host)
	return u, nil
}

func (h *Handler) cookieSettings() (gate.Cookie, time.Duration, time.Duration, error) {
	c := gate.Cookie{Name: "__Host-gatehouse", SameSite: http.SameSiteLaxMode}
	lifetime, idle := session.DefaultLifetime, session.DefaultIdleTimeout
	cfg := h.Cookie
	if cfg == nil {
		return c, lifetime, idle, nil
	}
	c.Domain = strings.TrimPrefix(strings.ToLower(cfg.Domain), ".")
	if c.Domain != "" {
		c.Name = "__Secure-gatehouse"
		if !strings.Contains(c.Domain, ".") {
			return c, 0, 0, fmt.Errorf("gatehouse: cookie domain %q must be a registrable domain such as example.com", cfg.Domain)
		}
	}
	if cfg.Name != "" {
		c.Name = cfg.Name
		if strings.HasPrefix(c.Name, "__Host-") && c.Domain != "" {
			return c, 0, 0, errors.New("gatehouse: a cookie named __Host-... cannot have a domain; remove the domain or rename the cookie")
		}
		if !validToken(c.Name) {
			return c, 0, 0, fmt.Errorf("gatehouse: cookie name %q is not a valid cookie name", c.Name)
		}
	}
	switch strings.ToLower(cfg.SameSite) {
	case "", "lax":
	case "strict":
		c.SameSite = http.SameSiteStrictMode
	case "none":
		c.SameSite = http.SameSiteNoneMode
	default:
		return c, 0, 0, fmt.Errorf("gatehouse: cookie same_site %q must be lax, strict or none", cfg.SameSite)
	}
	if cfg.Lifetime > 0 {
		lifetime = time.Duration(cfg.Lifetime)
	}
	if cfg.IdleTimeout > 0 {
		idle = time.Duration(cfg.IdleTimeout)
	} else if idle > lifetime {
		idle = lifetime // a short lifetime caps the default idle timeout
	}
	if lifetime < time.Minute || idle < time.Minute {
		return c, 0, 0, errors.New("gatehouse: cookie lifetime and idle_timeout must be at least 1m")
	}
	if idle > lifetime {
		return c, 0, 0, fmt.Errorf("gatehouse: cookie idle_timeout (%s) must not exceed lifetime (%s)", idle, lifetime)
	}
	return c, lifetime, idle, nil
}

// githubApp builds the GitHub App configuration, or nil without one.
func (h *Handler) githubApp(repl *caddy.Replacer) (*githubaccess.AppConfig, error) {
	cfg := h.GitHubApp
	if cfg == nil {
		return nil, nil
	}
	res := &placeholder.Resolver{Repl: repl, Where: "github_app "}
	app := &githubaccess.AppConfig{
		ClientID:      res.Get("client_id", cfg.ClientID),
		ClientSecret:  res.Get("client_secret", cfg.ClientSecret),
		WebhookSecret: []byte(res.Get("webhook_secret", cfg.WebhookSecret)),
	}
	appID := res.Get("app_id", cfg.AppID)
	base, api := res.Get("base_url", cfg.BaseURL), res.Get("api_url", cfg.APIURL)
	if res.Err != nil {
		return nil, res.Err
	}
	if app.ClientID == "" || app.ClientSecret == "" {
		return nil, errors.New("gatehouse: github_app: client_id and client_secret are required")
	}
	if len(app.WebhookSecret) == 0 {
		return nil, errors.New("gatehouse: github_app: webhook_secret is required (the secret set in the App's webhook settings)")
	}
	var err error
	if app.Endpoints, err = github.ParseEndpoints(base, api); err != nil {
		return nil, fmt.Errorf("gatehouse: github_app: %w", err)
	}
	if cfg.PrivateKeyFile != "" {
		if appID == "" {
			return nil, errors.New("gatehouse: github_app app_id is required with private_key_file " +
				"(the App's numeric ID, from its settings page)")
		}
		path, pem, err := placeholder.ReadFile(repl, "private_key_file", cfg.PrivateKeyFile,
			"download a private key from the App's settings page")
		if err != nil {
			return nil, fmt.Errorf("gatehouse: github_app %w", err)
		}
		if app.App, err = github.ParseApp(appID, pem); err != nil {
			return nil, fmt.Errorf("gatehouse: github_app private_key_file %s%s: %w", path, placeholder.From(cfg.PrivateKeyFile), err)
		}
	}
	return app, nil
}

// Cleanup releases the store.
func (h *Handler) Cleanup() error {
	if h.unregister != nil {
		h.unregister()
	}
	if h.gate != nil {
		h.gate.Wait() // revocations in flight (each bounded by a timeout)
	}
	if h.stopForward != nil {
		h.stopForward()
	}
	if h.closeSessions != nil {
		h.closeSessions()
	}
	if h.releaseStore != nil {
		return h.releaseStore()
	}
	return nil
}

// previousSecrets resolves previous_secrets, each held to what secret is.
func (h *Handler) previousSecrets(repl *caddy.Replacer, secret string) ([]string, error) {
	out := make([]string, 0, len(h.PreviousSecrets))
	for i, raw := range h.PreviousSecrets {
		v := repl.ReplaceKnown(raw, "")
		if err := checkSecret(fmt.Sprintf("previous_secrets (value %d)", i+1), raw, v); err != nil {
			return nil, err
		}
		if v == secret {
			return nil, fmt.Errorf("gatehouse: previous_secrets (value %d) is the current secret; "+
				"after a rotation, secret is the new value and previous_secrets the old one", i+1)
		}
		out = append(out, v)
	}
	return out, nil
}

// assertionSigner signs X-Auth-Jwt with the configured key, or one
// derived from secret, and publishes the previous keys besides it: those
// configured, and without assertion_key those derived from the previous
// secrets.
func (h *Handler) assertionSigner(secret string, previousSecrets []string, repl *caddy.Replacer) (*assertion.Signer, error) {
	const genKey = "create one with openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out assertion.pem"
	key, err := assertion.DeriveKey(secret)
	if h.AssertionKey != "" {
		key, err = readPEM(repl, "assertion_key", h.AssertionKey, genKey, assertion.ParsePrivateKey)
		if err == nil && key.Curve != elliptic.P256() {
			err = fmt.Errorf("assertion_key%s: the key is on %s; it must be on P-256 (%s)", placeholder.From(h.AssertionKey), key.Curve.Params().Name, genKey)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("gatehouse: %w", err)
	}
	var previous []*ecdsa.PublicKey
	if h.AssertionKey == "" {
		for _, ps := range previousSecrets {
			k, err := assertion.DeriveKey(ps)
			if err != nil {
				return nil, fmt.Errorf("gatehouse: previous_secrets: %w", err)
			}
			previous = append(previous, &k.PublicKey)
		}
	}
	for _, p := range h.PreviousAssertionKeys {
		pub, err := readPEM(repl, "previous_assertion_keys", p, "", assertion.ParsePublicKey)
		if err == nil && pub.Curve != elliptic.P256() {
			err = fmt.Errorf("previous_assertion_keys%s: the key is on %s; it must be on P-256", placeholder.From(p), pub.Curve.Params().Name)
		}
		if err != nil {
			return nil, fmt.Errorf("gatehouse: %w", err)
		}
		previous = append(previous, pub)
	}
	s, err := assertion.NewWithKeys(key, previous)
	if err != nil {
		return nil, fmt.Errorf("gatehouse: assertion_key: %w", err)
	}
	return s, nil
}

// readPEM reads the key file configured as raw for field with parse; fix
// says what to do when the file does not exist.
func readPEM[K any](repl *caddy.Replacer, field, raw, fix string, parse func([]byte) (K, error)) (K, error) {
	var zero K
	path, data, err := placeholder.ReadFile(repl, field, raw, fix)
	if err != nil {
		return zero, err
	}
	k, err := parse(data)
	if err != nil {
		return zero, fmt.Errorf("%s %s%s: %w", field, path, placeholder.From(raw), err)
	}
	return k, nil
}
