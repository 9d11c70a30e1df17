package caddyfile

import (
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/internal/cfparse"
	"github.com/gatehouse-auth/gatehouse/module"
)

// gitHubAppExamples are sample values used in github_app error messages.
var gitHubAppExamples = map[string]string{
	"app_id":           "123456",
	"client_id":        "{env.GITHUB_APP_CLIENT_ID}",
	"client_secret":    "{env.GITHUB_APP_CLIENT_SECRET}",
	"webhook_secret":   "{env.GITHUB_WEBHOOK_SECRET}",
	"private_key_file": "/etc/gatehouse/github-app.pem",
	"base_url":         "https://github.example.com",
	"api_url":          "https://github.example.com/api/v3",
	"recheck_interval": "10m",
}

func parseGitHubApp(c *cfparse.Cursor, s *state) error {
	app := new(module.GitHubAppConfig)
	seen, err := cfparse.BlockOnly(c, gitHubAppBlock, app, "github_app { app_id 123456 ... }",
		"with at least client_id, client_secret and webhook_secret")
	if err != nil {
		return err
	}
	if err := cfparse.Require(c, seen, "github_app", []string{"client_id", "client_secret", "webhook_secret"},
		func(f string) string { return gitHubAppExamples[f] }); err != nil {
		return err
	}
	if tok, ok := seen["private_key_file"]; ok && app.AppID == "" {
		return cfparse.ErrAt(tok, "github_app private_key_file needs app_id, the App's numeric ID from its settings page, "+
			"e.g. app_id %s", gitHubAppExamples["app_id"])
	}
	s.h.GitHubApp = app
	return nil
}

// gitHubAppBlock is `github_app { ... }`.
var gitHubAppBlock = newTable("github_app",
	cfparse.Sub[module.GitHubAppConfig]{Name: "app_id", Parse: func(c *cfparse.Cursor, app *module.GitHubAppConfig) error {
		v, err := c.OneValue(gitHubAppExamples["app_id"])
		if err != nil {
			return err
		}
		if !cfparse.HasPlaceholder(v) && strings.Trim(v, "0123456789") != "" {
			hint := ""
			if strings.HasPrefix(v, "Iv") {
				hint = " (that looks like the client ID, which goes in client_id)"
			}
			return c.Errorf("github_app app_id must be the App's numeric ID from its settings page, "+
				"e.g. app_id 123456; got %q%s", v, hint)
		}
		app.AppID = v
		return nil
	}},
	cfparse.String("client_id", gitHubAppExamples["client_id"], func(app *module.GitHubAppConfig) *string { return &app.ClientID }),
	cfparse.Secret("client_secret", gitHubAppExamples["client_secret"], func(app *module.GitHubAppConfig) *string { return &app.ClientSecret }),
	cfparse.Secret("webhook_secret", gitHubAppExamples["webhook_secret"], func(app *module.GitHubAppConfig) *string { return &app.WebhookSecret }),
	cfparse.String("private_key_file", gitHubAppExamples["private_key_file"], func(app *module.GitHubAppConfig) *string { return &app.PrivateKeyFile }),
	cfparse.URL("base_url", gitHubAppExamples["base_url"], func(app *module.GitHubAppConfig) *string { return &app.BaseURL }),
	cfparse.URL("api_url", gitHubAppExamples["api_url"], func(app *module.GitHubAppConfig) *string { return &app.APIURL }),
	cfparse.Duration("recheck_interval", gitHubAppExamples["recheck_interval"], time.Second,
		func(app *module.GitHubAppConfig) *caddy.Duration { return &app.RecheckInterval }),
)
