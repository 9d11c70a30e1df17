package module

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
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
	"github.com/gatehouse-auth/gatehouse/internal/nangoaccess"
	"github.com/gatehouse-auth/gatehouse/internal/oauth2login"
	"github.com/gatehouse-auth/gatehouse/internal/oidc"
	"github.com/gatehouse-auth/gatehouse/internal/pages"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
	"github.com/gatehouse-auth/gatehouse/internal/publicpath"
	"github.com/gatehouse-auth/gatehouse/internal/redirect"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// DefaultPrefix is where Gatehouse serves its endpoints unless configured.
const DefaultPrefix = "/.gatehouse"

var providerName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// Provision sets the handler up: it resolves placeholders, derives the
// keys, opens the store and builds the providers. It makes no call to an
// identity provider, so Caddy starts even when one is down.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	h.sites = new(siteHosts)
	if err := metrics.Register(ctx.GetMetricsRegistry()); err != nil {
		return fmt.Errorf("gatehouse: registering metrics: %w", err)
	}
	repl := caddy.NewReplacer()

	secret := repl.ReplaceKnown(h.Secret, "")
	if err := checkSecret(h.Secret, secret); err != nil {
		return err
	}
	ring, err := keys.Derive(secret)
	if err != nil {
		return fmt.Errorf("gatehouse: secret: %w", err)
	}
	signer, err := h.assertionSigner(secret, repl)
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

	res := &resolver{repl: repl}
	var external *url.URL
	if v := res.get("external_url", h.ExternalURL); v != "" {
		external, err = parseOrigin(v)
		if err != nil {
			return fmt.Errorf("gatehouse: external_url%s: %w", from(h.ExternalURL), err)
		}
	}

	rules := make([]allow.Rule, 0, len(h.Allow))
	for _, a := range h.Allow {
		rules = append(rules, allow.Rule{Kind: a.Kind, Values: res.all("allow "+a.Kind, a.Values)})
	}
	redirectDomains := res.all("redirect_domains", h.RedirectDomains)
	connectionsSecret := res.get("connections_secret", h.ConnectionsSecret)
	keyPrefix := "gatehouse:"
	if h.Store != nil && h.Store.KeyPrefix != "" {
		keyPrefix = res.get("store redis key_prefix", h.Store.KeyPrefix)
	}
	if res.err != nil {
		return res.err
	}
	policy, err := allow.New(rules)
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
	providers, githubLogins, err := h.buildProviders(repl)
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
	var nangoSvc *nangoaccess.Service
	if nangoCfg != nil {
		if nangoSvc, err = h.startNango(nangoCfg, st, ring, dir, keyPrefix); err != nil {
			return err
		}
	}
	var gh gate.GitHub
	if len(githubLogins) > 0 || app != nil || nangoSvc != nil {
		interval := githubaccess.DefaultRecheckInterval
		if h.GitHubApp != nil && h.GitHubApp.RecheckInterval > 0 {
			interval = time.Duration(h.GitHubApp.RecheckInterval)
		}
		if h.Nango != nil && h.Nango.RecheckInterval > 0 {
			interval = time.Duration(h.Nango.RecheckInterval)
		}
		opts := githubaccess.Options{
			Logins: githubLogins, App: app, RecheckInterval: interval,
			Directory: dir, Sessions: sessions,
			Store: st, KeyPrefix: keyPrefix, Logger: h.logger,
		}
		if nangoSvc != nil {
			opts.Broker = nangoSvc
			opts.BrokerEndpoints = github.Endpoints{APIURL: nangoCfg.githubAPI}
		}
		svc := githubaccess.New(opts)
		if nangoSvc != nil {
			nangoSvc.Attach(svc)
		}
		gh = svc
	}
	var nangoGate gate.Nango
	if nangoSvc != nil {
		nangoGate = nangoSvc
	}
	links, err := h.linkService(repl, st, ring, keyPrefix, nangoCfg)
	if err != nil {
		return err
	}
	if links != nil && nangoSvc != nil {
		nangoSvc.SetLinks(links)
	}
	h.gate, err = gate.New(gate.Options{
		Prefix:            prefix,
		KeyPrefix:         keyPrefix,
		Store:             st,
		Sessions:          sessions,
		GitHub:            gh,
		Nango:             nangoGate,
		Brand:             pages.Brand{Title: repl.ReplaceKnown(h.Title, ""), Logo: repl.ReplaceKnown(h.Logo, "")},
		Links:             links,
		ConnectionsSecret: []byte(connectionsSecret),
		Assertion:         signer,
		States:            loginstate.New(st, ring, keyPrefix),
		Providers:         providers,
		Policy:            policy,
		Public:            pub,
		Redirects:         redirects,
		Headers:           headers.New(names),
		Cookie:            cookie,
		ExternalURL:       external,
		SiteHosts:         func(r *http.Request) []string { return h.sites.lookup(h, r) },
		Logger:            h.logger,
		FlowsPerMinute:    h.LoginsPerMinute,
	})
	if err != nil {
		return fmt.Errorf("gatehouse: %w", err)
	}
	return nil
}

// checkSecret checks the secret, configured as raw and resolved to
// secret, without ever showing it.
func checkSecret(raw, secret string) error {
	const gen = "openssl rand -base64 48"
	switch {
	case raw == "":
		return fmt.Errorf("gatehouse: secret is required: at least %d bytes, e.g. secret {env.GATEHOUSE_SECRET} "+
			"with GATEHOUSE_SECRET set to the output of %s", keys.MinSecretLen, gen)
	case len(secret) >= keys.MinSecretLen:
		return nil
	case len(placeholders(raw)) == 0:
		return fmt.Errorf("gatehouse: secret is %d bytes; it must be at least %d (generate one with %s "+
			"and pass it as secret {env.GATEHOUSE_SECRET})", len(secret), keys.MinSecretLen, gen)
	}
	var fix []string
	for _, p := range placeholders(raw) {
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
			errEmpty("secret", raw), keys.MinSecretLen, strings.Join(fix, ", "), gen)
	}
	return fmt.Errorf("gatehouse: secret is %d bytes after placeholders are resolved; it must be at least %d (%s, e.g. %s)",
		len(secret), keys.MinSecretLen, strings.Join(fix, ", "), gen)
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

func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}

func (h *Handler) headerNames() (headers.Names, error) {
	n := headers.Defaults()
	if h.PassAccessToken {
		n.AccessToken = headers.DefaultAccessToken
	}
	cfg := h.Headers
	for k := range cfg {
		if !slices.ContainsFunc(headers.Renamables(), func(r headers.Renamable) bool { return r.Key == k }) {
			return n, fmt.Errorf("gatehouse: headers %s: unknown header; the headers are %s", k, strings.Join(renamableKeys(), ", "))
		}
	}
	if v := cfg["access_token"]; v != "" && v != "off" && !h.PassAccessToken {
		return n, errors.New("gatehouse: headers access_token names the access token header, which is only sent with pass_access_token; add pass_access_token or remove it")
	}
	used := map[string]string{} // lower-case header -> key
	for _, r := range headers.Renamables() {
		v := cfg[r.Key]
		switch {
		case v == "":
		case v == "off":
			n.Rename(r.Key, "")
		case validToken(v) && !strings.ContainsAny(v, "_."):
			n.Rename(r.Key, http.CanonicalHeaderKey(v))
		default:
			return n, fmt.Errorf("gatehouse: headers %s: %q is not a usable header name (letters, digits and '-'; or off)", r.Key, v)
		}
		if v == "off" || (r.Key == "access_token" && !h.PassAccessToken) {
			continue
		}
		name := r.Default
		if v != "" {
			name = v
		}
		if prev, clash := used[strings.ToLower(name)]; clash {
			return n, fmt.Errorf("gatehouse: headers %s and %s would both be sent as %s; give each its own name or turn one off", prev, r.Key, name)
		}
		used[strings.ToLower(name)] = r.Key
	}
	return n, nil
}

func renamableKeys() []string {
	var keys []string
	for _, r := range headers.Renamables() {
		keys = append(keys, r.Key)
	}
	return keys
}

func (h *Handler) buildProviders(repl *caddy.Replacer) ([]gate.Provider, map[string]*githubaccess.Login, error) {
	nangoLogin := h.Nango != nil && h.Nango.LoginIntegration != "off"
	if len(h.Providers) == 0 && !nangoLogin {
		return nil, nil, errors.New("gatehouse: no provider configured; add e.g. provider oidc { issuer ... client_id ... client_secret ... }")
	}
	seen := map[string]bool{}
	if nangoLogin {
		seen[gate.NangoProvider] = true // {prefix}/login/nango
	}
	out := make([]gate.Provider, 0, len(h.Providers))
	logins := map[string]*githubaccess.Login{}
	for _, pc := range h.Providers {
		name := pc.Name
		if name == "" {
			name = pc.Type
		}
		if !providerName.MatchString(name) {
			return nil, nil, fmt.Errorf("gatehouse: provider name %q must be lowercase letters, digits, - or _", name)
		}
		if seen[name] {
			if name == gate.NangoProvider {
				return nil, nil, fmt.Errorf("gatehouse: provider name %q is taken by the Nango login; give the provider another name", name)
			}
			return nil, nil, fmt.Errorf("gatehouse: provider name %q is used twice; give each provider its own name", name)
		}
		seen[name] = true
		// Every value the provider block sets must resolve to something:
		// an empty hosted_domain or tenant would admit any account, an
		// empty client_secret make a public client.
		res := &resolver{repl: repl, where: "provider " + name + ": "}
		clientID, clientSecret := res.get("client_id", pc.ClientID), res.get("client_secret", pc.ClientSecret)
		issuer, baseURL, apiURL := res.get("issuer", pc.Issuer), res.get("base_url", pc.BaseURL), res.get("api_url", pc.APIURL)
		authURL, tokenURL, userinfoURL := res.get("auth_url", pc.AuthURL), res.get("token_url", pc.TokenURL), res.get("userinfo_url", pc.UserinfoURL)
		hostedDomain, tenant := res.get("hosted_domain", pc.HostedDomain), res.get("tenant", pc.Tenant)
		redirectURL := res.get("redirect_url", pc.RedirectURL)
		if res.err != nil {
			return nil, nil, res.err
		}
		timeout, err := provider.Timeout(time.Duration(pc.Timeout))
		if err != nil {
			return nil, nil, fmt.Errorf("gatehouse: provider %s: %w", name, err)
		}
		var auth provider.Provider
		switch pc.Type {
		case "oidc":
			p, err := oidc.New(oidc.Config{
				Name:         name,
				Issuer:       issuer,
				ClientID:     clientID,
				ClientSecret: clientSecret,
				Scopes:       pc.Scopes,
				Timeout:      timeout,
			})
			if err != nil {
				return nil, nil, fmt.Errorf("gatehouse: provider %s: %w", name, err)
			}
			auth = p
		case "github":
			if clientID == "" || clientSecret == "" {
				return nil, nil, fmt.Errorf("gatehouse: provider %s: client_id and client_secret are required", name)
			}
			endpoints, err := githubEndpoints(baseURL, apiURL)
			if err != nil {
				return nil, nil, fmt.Errorf("gatehouse: provider %s: %w", name, err)
			}
			l := githubaccess.NewLogin(clientID, clientSecret, endpoints, pc.Scopes, timeout)
			logins[name] = l
			auth = l
		case "google":
			if clientID == "" || clientSecret == "" {
				return nil, nil, fmt.Errorf("gatehouse: provider %s: client_id and client_secret are required", name)
			}
			cfg := oidc.Google(name, clientID, clientSecret, hostedDomain, pc.Scopes)
			if issuer != "" {
				// A Google-compatible issuer (a test double): its short
				// form is accepted as Google's accounts.google.com is.
				cfg.Issuer = issuer
				cfg.IssuerAliases = []string{strings.TrimPrefix(strings.TrimPrefix(issuer, "https://"), "http://")}
			}
			cfg.Timeout = timeout
			p, err := oidc.New(cfg)
			if err != nil {
				return nil, nil, fmt.Errorf("gatehouse: provider %s: %w", name, err)
			}
			auth = p
		case "oauth2":
			cfg := oauth2login.Config{
				Name: name, AuthURL: authURL, TokenURL: tokenURL,
				UserinfoURL: userinfoURL, ClientID: clientID, ClientSecret: clientSecret,
				Scopes: pc.Scopes, Timeout: timeout,
			}
			if c := pc.Claims; c != nil {
				cfg.Claims = oauth2login.Claims{ID: c.ID, Login: c.Login, Email: c.Email, Name: c.Name, Avatar: c.Avatar}
				cfg.EmailVerified = c.EmailVerified
			}
			p, err := oauth2login.New(cfg)
			if err != nil {
				return nil, nil, fmt.Errorf("gatehouse: provider %s: %w", name, err)
			}
			auth = p
		case "gitlab", "microsoft", "gitee", "feishu", "lark":
			cfg, err := oauth2login.Preset(pc.Type, name, oauth2login.PresetParams{
				ClientID: clientID, ClientSecret: clientSecret, Tenant: tenant,
				BaseURL: baseURL, Scopes: pc.Scopes,
			})
			if err != nil {
				return nil, nil, fmt.Errorf("gatehouse: provider %s: %w", name, err)
			}
			cfg.Timeout = timeout
			p, err := oauth2login.New(cfg)
			if err != nil {
				return nil, nil, fmt.Errorf("gatehouse: provider %s: %w", name, err)
			}
			auth = p
		default:
			return nil, nil, fmt.Errorf("gatehouse: provider %s: type %q is not supported; supported: oidc, github, google, oauth2, gitlab, microsoft, gitee, feishu, lark", name, pc.Type)
		}
		label := pc.Label
		if label == "" {
			label = name
			if l, ok := defaultLabels[pc.Type]; ok && name == pc.Type {
				label = l
			}
		}
		if redirectURL != "" {
			if u, err := url.Parse(redirectURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return nil, nil, fmt.Errorf("gatehouse: provider %s: redirect_url%s %q must be an absolute http(s) URL", name, from(pc.RedirectURL), redirectURL)
			}
		}
		out = append(out, gate.Provider{Name: name, Label: label, RedirectURL: redirectURL, Auth: auth, Timeout: timeout})
	}
	return out, logins, nil
}

// defaultLabels are the chooser labels of providers named after their
// type.
var defaultLabels = map[string]string{
	"github": "GitHub", "google": "Google", "gitlab": "GitLab", "microsoft": "Microsoft",
	"gitee": "Gitee", "feishu": "Feishu", "lark": "Lark",
}

// githubEndpoints checks the (resolved) base_url and api_url of GitHub.
func githubEndpoints(base, api string) (github.Endpoints, error) {
	e := github.Endpoints{WebURL: base, APIURL: api}
	for _, u := range []string{e.WebURL, e.APIURL} {
		if u == "" {
			continue
		}
		if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return e, fmt.Errorf("%q must be an absolute http(s) URL", u)
		}
	}
	return e.WithDefaults(), nil
}

// githubApp builds the GitHub App configuration, or nil without one.
func (h *Handler) githubApp(repl *caddy.Replacer) (*githubaccess.AppConfig, error) {
	cfg := h.GitHubApp
	if cfg == nil {
		return nil, nil
	}
	res := &resolver{repl: repl, where: "github_app "}
	app := &githubaccess.AppConfig{
		ClientID:      res.get("client_id", cfg.ClientID),
		ClientSecret:  res.get("client_secret", cfg.ClientSecret),
		WebhookSecret: []byte(res.get("webhook_secret", cfg.WebhookSecret)),
	}
	appID := res.get("app_id", cfg.AppID)
	base, api := res.get("base_url", cfg.BaseURL), res.get("api_url", cfg.APIURL)
	if res.err != nil {
		return nil, res.err
	}
	if app.ClientID == "" || app.ClientSecret == "" {
		return nil, errors.New("gatehouse: github_app: client_id and client_secret are required")
	}
	if len(app.WebhookSecret) == 0 {
		return nil, errors.New("gatehouse: github_app: webhook_secret is required (the secret set in the App's webhook settings)")
	}
	var err error
	if app.Endpoints, err = githubEndpoints(base, api); err != nil {
		return nil, fmt.Errorf("gatehouse: github_app: %w", err)
	}
	if cfg.PrivateKeyFile != "" {
		if appID == "" {
			return nil, errors.New("gatehouse: github_app app_id is required with private_key_file " +
				"(the App's numeric ID, from its settings page)")
		}
		path, pem, err := readFile(repl, "private_key_file", cfg.PrivateKeyFile,
			"download a private key from the App's settings page")
		if err != nil {
			return nil, fmt.Errorf("gatehouse: github_app %w", err)
		}
		if app.App, err = github.ParseApp(appID, pem); err != nil {
			return nil, fmt.Errorf("gatehouse: github_app private_key_file %s%s: %w", path, from(cfg.PrivateKeyFile), err)
		}
	}
	return app, nil
}

// Validate is called after Provision; all checks happen there, where the
// placeholders are resolved.
func (h *Handler) Validate() error {
	if h.gate == nil {
		return errors.New("gatehouse: handler was not provisioned")
	}
	return nil
}

// Cleanup releases the store.
func (h *Handler) Cleanup() error {
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

// assertionSigner signs X-Auth-Jwt with the configured key, or one
// derived from secret, and publishes the previous keys besides it.
func (h *Handler) assertionSigner(secret string, repl *caddy.Replacer) (*assertion.Signer, error) {
	const genKey = "create one with openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out assertion.pem"
	key, err := assertion.DeriveKey(secret)
	if h.AssertionKey != "" {
		key, err = readPEM(repl, "assertion_key", h.AssertionKey, genKey, assertion.ParsePrivateKey)
		if err == nil && key.Curve != elliptic.P256() {
			err = fmt.Errorf("assertion_key%s: the key is on %s; it must be on P-256 (%s)", from(h.AssertionKey), key.Curve.Params().Name, genKey)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("gatehouse: %w", err)
	}
	var previous []*ecdsa.PublicKey
	for _, p := range h.PreviousAssertionKeys {
		pub, err := readPEM(repl, "previous_assertion_keys", p, "", assertion.ParsePublicKey)
		if err == nil && pub.Curve != elliptic.P256() {
			err = fmt.Errorf("previous_assertion_keys%s: the key is on %s; it must be on P-256", from(p), pub.Curve.Params().Name)
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
	path, data, err := readFile(repl, field, raw, fix)
	if err != nil {
		return zero, err
	}
	k, err := parse(data)
	if err != nil {
		return zero, fmt.Errorf("%s %s%s: %w", field, path, from(raw), err)
	}
	return k, nil
}
