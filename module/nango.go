package module

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/internal/github/directory"
	"github.com/gatehouse-auth/gatehouse/internal/keys"
	"github.com/gatehouse-auth/gatehouse/internal/placeholder"
	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/webhook/forward"

	"github.com/gatehouse-auth/gatehouse/internal/nango"
	"github.com/gatehouse-auth/gatehouse/internal/nangoaccess"
)

// nangoSettings is the resolved nango block.
type nangoSettings struct {
	opts        nangoaccess.Options
	syncForward string
	githubAPI   string
}

// nangoConfig resolves the nango block, or returns nil without one.
func (h *Handler) nangoConfig(repl *caddy.Replacer) (*nangoSettings, error) {
	cfg := h.Nango
	if cfg == nil {
		return nil, nil
	}
	ns := &nangoSettings{}
	// previous_webhook_secret and label may resolve to nothing (no
	// rotation under way; the default label); every other value set must
	// not.
	res := &placeholder.Resolver{Repl: repl, Where: "nango "}
	client := &nango.Client{
		BaseURL:   strings.TrimRight(res.Get("base_url", cfg.BaseURL), "/"),
		SecretKey: res.Get("secret_key", cfg.SecretKey),
	}
	current := res.Get("webhook_secret", cfg.WebhookSecret)
	ns.opts.ConnectURL = strings.TrimRight(res.Get("connect_url", cfg.ConnectURL), "/")
	loginIntegration := res.Get("login_integration", cfg.LoginIntegration)
	repoIntegration := res.Get("repo_integration", cfg.RepoIntegration)
	ns.opts.Syncs = res.All("syncs", cfg.Syncs)
	ns.syncForward = res.Get("sync_forward", cfg.SyncForward)
	ns.githubAPI = strings.TrimRight(res.Get("github_api_url", cfg.GitHubAPIURL), "/")
	if res.Err != nil {
		return nil, res.Err
	}
	if client.SecretKey == "" {
		return nil, errors.New("gatehouse: nango: secret_key is required (the environment's secret key)")
	}
	if current == "" {
		return nil, errors.New("gatehouse: nango: webhook_secret is required (the environment's webhook signing key)")
	}
	ns.opts.WebhookKeys = [][]byte{[]byte(current)}
	if prev := res.Optional(cfg.PreviousWebhookSecret); prev != "" {
		ns.opts.WebhookKeys = append(ns.opts.WebhookKeys, []byte(prev))
	}
	for name, v := range map[string]string{"base_url": client.BaseURL, "connect_url": ns.opts.ConnectURL} {
		if v == "" {
			continue
		}
		if err := checkHTTPURL(v); err != nil {
			return nil, fmt.Errorf("gatehouse: nango: %s: %w", name, err)
		}
	}
	ns.opts.Client = client
	ns.opts.LoginIntegration = nangoIntegration(loginIntegration, nangoaccess.DefaultLoginIntegration)
	ns.opts.RepoIntegration = nangoIntegration(repoIntegration, nangoaccess.DefaultRepoIntegration)
	if ns.opts.LoginIntegration != "" && ns.opts.LoginIntegration == ns.opts.RepoIntegration {
		return nil, fmt.Errorf("gatehouse: nango: login_integration and repo_integration must be two integrations "+
			"(a GitHub OAuth App for sign-in, a GitHub App for repositories); both are %q", ns.opts.LoginIntegration)
	}
	ns.opts.Label = res.Optional(cfg.Label)
	if ns.syncForward != "" {
		if err := checkHTTPURL(ns.syncForward); err != nil {
			return nil, fmt.Errorf("gatehouse: nango: sync_forward: %w", err)
		}
	}
	if ns.githubAPI != "" {
		if err := checkHTTPURL(ns.githubAPI); err != nil {
			return nil, fmt.Errorf("gatehouse: nango: github_api_url: %w", err)
		}
	}
	return ns, nil
}

// nangoIntegration resolves an integration setting: "" is the default, "off"
// none.
func nangoIntegration(v, def string) string {
	switch v {
	case "":
		return def
	case "off":
		return ""
	}
	return v
}

func checkHTTPURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q must be an absolute http(s) URL", v)
	}
	return nil
}

// nangoOptions completes the Nango feature's options and, with
// sync_forward, starts the forwarder that delivers sync and forward
// webhooks to the application.
func (h *Handler) nangoOptions(ns *nangoSettings, st store.Store, ring *keys.Ring, dir *directory.Directory, keyPrefix string) (nangoaccess.Options, error) {
	opts := ns.opts
	opts.Directory, opts.Store, opts.Ring, opts.KeyPrefix, opts.Logger = dir, st, ring, keyPrefix, h.logger
	if ns.syncForward != "" {
		q, ok := st.(store.Queue)
		if !ok {
			return opts, errors.New("gatehouse: nango: sync_forward needs a store that can queue (memory or redis)")
		}
		f, err := forward.New(forward.Options{
			Queue: q, Stream: keyPrefix + "forward:nango", URL: ns.syncForward, Logger: h.logger.Named("forward"),
		})
		if err != nil {
			return opts, fmt.Errorf("gatehouse: nango: sync_forward: %w", err)
		}
		f.Start()
		h.stopForward = f.Stop
		opts.Forward = f
	}
	return opts, nil
}
