package module

import (
	"fmt"
	"slices"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/internal/jwtissuer"
	"github.com/gatehouse-auth/gatehouse/internal/nangoaccess"
	"github.com/gatehouse-auth/gatehouse/internal/placeholder"
	"github.com/gatehouse-auth/gatehouse/providers"
)

// GitHubActionsIssuer is the name of the trusted issuer preset for GitHub
// Actions' OIDC tokens.
const GitHubActionsIssuer = "github_actions"

// JWTIssuerConfig is an issuer whose JWTs, sent as "Authorization:
// Bearer", identify machines and scripts without a session.
type JWTIssuerConfig struct {
	// Name appears in X-Auth-Provider and starts the user ids
	// ("<name>:<id>"); github_actions is the preset for GitHub Actions.
	// Required.
	Name string `json:"name"`
	// Issuer is the tokens' iss. Required, except for github_actions
	// (https://token.actions.githubusercontent.com, or base_url's).
	Issuer string `json:"issuer,omitempty"`
	// Audiences: a token must carry one of them in aud. Required.
	Audiences []string `json:"audiences,omitempty"`
	// JWKSURL is where the issuer publishes its keys. Default: found by
	// OpenID Connect discovery at Issuer.
	JWKSURL string `json:"jwks_url,omitempty"`
	// BaseURL is GitHub Enterprise Server's address, for github_actions
	// only. Default: github.com.
	BaseURL string `json:"base_url,omitempty"`
	// Claims maps identity fields (id, login, email, name, groups, repos)
	// to claim paths such as sub or realm_access.roles. Default: id from
	// sub (github_actions: repository, repository_owner, actor and sub).
	Claims map[string]string `json:"claims,omitempty"`
	// Timeout bounds each fetch of the issuer's keys. Default: 10s.
	Timeout caddy.Duration `json:"timeout,omitempty"`
}

// checkJWTIssuers checks what the trusted issuers require of the rest of
// the configuration (part of Validate): their own names, none a
// provider's (the user ids of both would share a namespace, and a token
// could name a signed-in user).
func (h *Handler) checkJWTIssuers(providerNames []string) error {
	seen := map[string]bool{}
	for _, j := range h.JWTIssuers {
		switch {
		case !providers.ValidName(j.Name):
			return configErrorf("jwt_issuers", []string{j.Name}, "jwt_issuer name %q must be lowercase letters, digits, - or _", j.Name)
		case seen[j.Name]:
			return configErrorf("jwt_issuers", []string{j.Name}, "jwt_issuer %q is declared twice", j.Name)
		case slices.Contains(providerNames, j.Name) || j.Name == nangoaccess.Provider:
			return configErrorf("jwt_issuers", []string{j.Name}, "jwt_issuer %q has the name of a provider; give it its own "+
				"(user ids are <name>:<id>, and a token must never pass for a signed-in user)", j.Name)
		case j.BaseURL != "" && j.Name != GitHubActionsIssuer:
			return configErrorf("jwt_issuers", []string{j.Name}, "jwt_issuer %s: base_url is for the github_actions preset only; set issuer", j.Name)
		case j.Name == GitHubActionsIssuer && len(h.Allow) == 0:
			return configErrorf("jwt_issuers", []string{j.Name}, "jwt_issuer github_actions needs allow rules: any workflow "+
				"on GitHub can get a token with your audience, so say whose are let in, e.g. allow repo acme/app or allow org acme")
		}
		seen[j.Name] = true
	}
	return nil
}

// jwtIssuers builds the trusted issuers, nil when there are none.
func (h *Handler) jwtIssuers(res *placeholder.Resolver) (*jwtissuer.Set, error) {
	if len(h.JWTIssuers) == 0 {
		return nil, nil
	}
	var issuers []*jwtissuer.Issuer
	for _, j := range h.JWTIssuers {
		what := "jwt_issuer " + j.Name + " "
		audiences := res.All(what+"audience", j.Audiences)
		var cfg jwtissuer.Config
		if j.Name == GitHubActionsIssuer {
			cfg = jwtissuer.GitHubActions(j.Name, res.Get(what+"base_url", j.BaseURL), audiences)
		} else {
			cfg = jwtissuer.Config{Name: j.Name, Audiences: audiences}
		}
		if j.Issuer != "" {
			cfg.Issuer = res.Get(what+"issuer", j.Issuer)
		}
		cfg.JWKSURL = res.Get(what+"jwks_url", j.JWKSURL)
		for f, path := range j.Claims {
			if cfg.Claims == nil {
				cfg.Claims = map[string]string{}
			}
			cfg.Claims[f] = path
		}
		cfg.Timeout = time.Duration(j.Timeout)
		if res.Err != nil {
			return nil, res.Err
		}
		iss, err := jwtissuer.New(cfg)
		if err != nil {
			return nil, fmt.Errorf("gatehouse: %w", err)
		}
		issuers = append(issuers, iss)
	}
	set, err := jwtissuer.NewSet(issuers)
	if err != nil {
		return nil, fmt.Errorf("gatehouse: %w", err)
	}
	return set, nil
}
