package caddyfile

import (
	"cmp"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/internal/cfparse"
	"github.com/gatehouse-auth/gatehouse/module"
)

// nangoExamples are sample values used in nango error messages.
var nangoExamples = map[string]string{
	"secret_key":              "{env.NANGO_SECRET_KEY}",
	"base_url":                "https://api.nango.dev",
	"connect_url":             "https://connect.nango.dev",
	"webhook_secret":          "{env.NANGO_WEBHOOK_SECRET}",
	"previous_webhook_secret": "{env.NANGO_PREVIOUS_WEBHOOK_SECRET}",
	"login_integration":       "github",
	"repo_integration":        "github-app-oauth",
	"syncs":                   "repos",
	"sync_forward":            "http://localhost:3000/nango-webhooks",
	"label":                   "GitHub",
	"github_api_url":          "https://github.example.com/api/v3",
	"recheck_interval":        "10m",
}

func parseNango(c *cfparse.Cursor, s *state) error {
	s.nango = c.Tok
	n := new(module.NangoConfig)
	seen, err := cfparse.BlockOnly(c, nangoBlock, n, "nango { secret_key {env.NANGO_SECRET_KEY} ... }",
		"with at least secret_key and webhook_secret")
	if err != nil {
		return err
	}
	if err := cfparse.Require(c, seen, "nango", []string{"secret_key", "webhook_secret"},
		func(f string) string { return nangoExamples[f] }); err != nil {
		return err
	}
	if n.LoginIntegration == "off" && n.RepoIntegration == "off" {
		s.nangoBothOff = seen["repo_integration"]
	}
	login, repo := cmp.Or(n.LoginIntegration, "github"), cmp.Or(n.RepoIntegration, "github-app-oauth")
	if login == repo && login != "off" {
		tok := seen["login_integration"]
		if _, ok := seen["repo_integration"]; ok {
			tok = seen["repo_integration"]
		}
		return cfparse.ErrAt(tok, "nango: login_integration and repo_integration must be two integrations "+
			"(a GitHub OAuth App for sign-in, a GitHub App for repositories); both are %q", login)
	}
	s.h.Nango = n
	return nil
}

// integrationField takes a Nango integration id (unique key), or off.
func integrationField(name string, field func(*module.NangoConfig) *string) cfparse.Sub[module.NangoConfig] {
	return cfparse.Sub[module.NangoConfig]{Name: name, Parse: func(c *cfparse.Cursor, n *module.NangoConfig) error {
		v, err := c.OneValue(nangoExamples[name])
		if err != nil {
			return err
		}
		if !cfparse.HasPlaceholder(v) && !isIntegrationID(v) {
			return c.Errorf("%s must be the integration's unique key from Nango's dashboard (letters, digits, - and _), "+
				"or off; e.g. %s %s; got %q", c.What(), name, nangoExamples[name], v)
		}
		*field(n) = v
		return nil
	}}
}

func isIntegrationID(v string) bool {
	if v == "" || len(v) > 255 {
		return false
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// nangoBlock is `nango { ... }`.
var nangoBlock = newTable("nango",
	cfparse.Secret("secret_key", nangoExamples["secret_key"], func(n *module.NangoConfig) *string { return &n.SecretKey }),
	cfparse.URL("base_url", nangoExamples["base_url"], func(n *module.NangoConfig) *string { return &n.BaseURL }),
	cfparse.URL("connect_url", nangoExamples["connect_url"], func(n *module.NangoConfig) *string { return &n.ConnectURL }),
	cfparse.Secret("webhook_secret", nangoExamples["webhook_secret"], func(n *module.NangoConfig) *string { return &n.WebhookSecret }),
	cfparse.Secret("previous_webhook_secret", nangoExamples["previous_webhook_secret"], func(n *module.NangoConfig) *string { return &n.PreviousWebhookSecret }),
	integrationField("login_integration", func(n *module.NangoConfig) *string { return &n.LoginIntegration }),
	integrationField("repo_integration", func(n *module.NangoConfig) *string { return &n.RepoIntegration }),
	cfparse.Sub[module.NangoConfig]{Name: "syncs", Parse: func(c *cfparse.Cursor, n *module.NangoConfig) error {
		args, err := c.SomeValues("sync name", "repos")
		if err != nil {
			return err
		}
		for _, a := range args {
			if !cfparse.HasPlaceholder(a) && !isIntegrationID(a) {
				return c.Errorf("syncs: %q is not a sync name (letters, digits, - and _), e.g. syncs repos", a)
			}
		}
		n.Syncs = append(n.Syncs, args...)
		return nil
	}},
	cfparse.URL("sync_forward", nangoExamples["sync_forward"], func(n *module.NangoConfig) *string { return &n.SyncForward }),
	cfparse.String("label", nangoExamples["label"], func(n *module.NangoConfig) *string { return &n.Label }),
	cfparse.URL("github_api_url", nangoExamples["github_api_url"], func(n *module.NangoConfig) *string { return &n.GitHubAPIURL }),
	cfparse.Duration("recheck_interval", nangoExamples["recheck_interval"], time.Second,
		func(n *module.NangoConfig) *caddy.Duration { return &n.RecheckInterval }),
)
