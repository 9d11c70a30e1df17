package module

import (
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/internal/backchannel"
	"github.com/gatehouse-auth/gatehouse/internal/devicelogin"
	"github.com/gatehouse-auth/gatehouse/internal/gate"
	"github.com/gatehouse-auth/gatehouse/internal/github"
	"github.com/gatehouse-auth/gatehouse/internal/github/directory"
	"github.com/gatehouse-auth/gatehouse/internal/githubaccess"
	"github.com/gatehouse-auth/gatehouse/internal/keys"
	"github.com/gatehouse-auth/gatehouse/internal/kit"
	"github.com/gatehouse-auth/gatehouse/internal/nangoaccess"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
	"github.com/gatehouse-auth/gatehouse/internal/session"
	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/usersessions"
)

// featureDeps is what every feature is built on.
type featureDeps struct {
	store             store.Store
	ring              *keys.Ring
	keyPrefix         string
	connectionsSecret string
	dir               *directory.Directory
	sessions          *session.Manager
	providers         []gate.Provider
}

// features builds the parts of Gatehouse that serve endpoints of their
// own and hook into sessions, each once and complete: the user's own
// sessions (always on), linked accounts, then Nango's broker, GitHub
// (which uses the broker), then Nango (which uses GitHub and the linked
// accounts), the back-channel logout of the OpenID Connect providers, and
// device login when it is configured.
func (h *Handler) features(repl *caddy.Replacer, githubLogins map[string]*githubaccess.Login, app *githubaccess.AppConfig,
	nangoCfg *nangoSettings, d featureDeps) ([]kit.Feature, error) {
	features := []kit.Feature{usersessions.New(usersessions.Options{Sessions: d.sessions})}
	links, err := h.linkService(repl, d.store, d.ring, d.keyPrefix, d.connectionsSecret, nangoCfg)
	if err != nil {
		return nil, err
	}
	var nangoOpts nangoaccess.Options
	if nangoCfg != nil {
		if nangoOpts, err = h.nangoOptions(nangoCfg, d.store, d.ring, d.dir, d.keyPrefix); err != nil {
			return nil, err
		}
		if links != nil {
			nangoOpts.Links = links
		}
	}
	var gh *githubaccess.Service
	if len(githubLogins) > 0 || app != nil || nangoCfg != nil {
		interval := githubaccess.DefaultRecheckInterval
		if h.GitHubApp != nil && h.GitHubApp.RecheckInterval > 0 {
			interval = time.Duration(h.GitHubApp.RecheckInterval)
		}
		if h.Nango != nil && h.Nango.RecheckInterval > 0 {
			interval = time.Duration(h.Nango.RecheckInterval)
		}
		opts := githubaccess.Options{
			Logins: githubLogins, App: app, RecheckInterval: interval,
			Directory: d.dir, Sessions: d.sessions,
			Store: d.store, KeyPrefix: d.keyPrefix, Logger: h.logger,
		}
		if nangoCfg != nil {
			opts.Broker = nangoaccess.NewBroker(nangoOpts)
			opts.BrokerRepos = nangoOpts.RepoIntegration != ""
			opts.BrokerEndpoints = github.Endpoints{APIURL: nangoCfg.githubAPI}
		}
		gh = githubaccess.New(opts)
		features = append(features, gh)
	}
	if nangoCfg != nil {
		features = append(features, nangoaccess.New(nangoOpts, gh))
	}
	if links != nil {
		features = append(features, links)
	}
	if bc := backchannelLogout(d); bc != nil {
		features = append(features, bc)
	}
	if h.DeviceLogin != nil {
		features = append(features, devicelogin.New(devicelogin.Options{
			Sessions: d.sessions, Store: d.store, Ring: d.ring, KeyPrefix: d.keyPrefix,
			Lifetime: time.Duration(h.DeviceLogin.Lifetime),
		}))
	}
	return features, nil
}

// backchannelLogout is the back-channel logout endpoint of the providers
// that can verify logout tokens (OpenID Connect's), nil without one.
func backchannelLogout(d featureDeps) *backchannel.Service {
	verifiers := map[string]provider.LogoutVerifier{}
	for _, p := range d.providers {
		if v, ok := p.Auth.(provider.LogoutVerifier); ok {
			verifiers[p.Name] = v
		}
	}
	if len(verifiers) == 0 {
		return nil
	}
	return backchannel.New(backchannel.Options{
		Verifiers: verifiers, Sessions: d.sessions, Store: d.store, KeyPrefix: d.keyPrefix,
	})
}

// checkFeatures checks what the features' settings require of each other
// (part of Validate).
func (h *Handler) checkFeatures() error {
	nangoLinks := false
	for _, c := range h.Connections {
		if c.Type != "nango" {
			continue
		}
		nangoLinks = true
		if h.Nango == nil {
			return configErrorf("connections", []string{c.Name}, "connection %s is of type nango, which needs the nango block "+
				"(its secret_key and webhook_secret)", c.Name)
		}
	}
	switch {
	case h.Nango != nil && h.Nango.LoginIntegration == "off" && h.Nango.RepoIntegration == "off" && !nangoLinks:
		return configErrorf("nango", []string{"integrations"}, "nango: login_integration and repo_integration are both off; "+
			"turn one on, add a connection of type nango, or remove the nango block")
	case h.ConnectionsSecret != "" && len(h.Connections) == 0:
		return configErrorf("connections_secret", nil, "connections_secret is only used by connections; add a connection block or remove it")
	case h.DeviceLogin != nil && !validDeviceLifetime(time.Duration(h.DeviceLogin.Lifetime)):
		return configErrorf("device_login", []string{"lifetime"}, "device_login lifetime must be between %v and %v "+
			"(how long a device's code is valid); got %v", devicelogin.MinLifetime, devicelogin.MaxLifetime, time.Duration(h.DeviceLogin.Lifetime))
	case h.Nango != nil && h.GitHubApp != nil:
		return configErrorf("nango", nil, "nango and github_app both connect repositories; keep one of them "+
			"(with Nango, the GitHub App is Nango's github-app-oauth integration)")
	}
	return nil
}

// validDeviceLifetime reports whether d may be device_login's lifetime:
// 0 (the default) or from devicelogin.MinLifetime to MaxLifetime.
func validDeviceLifetime(d time.Duration) bool {
	return d == 0 || d >= devicelogin.MinLifetime && d <= devicelogin.MaxLifetime
}
