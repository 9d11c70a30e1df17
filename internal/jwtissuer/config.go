// Package jwtissuer lets machines and scripts call a protected app with a
// JWT from an issuer the operator trusts (a CI system, a workload
// identity provider, another OIDC provider's access tokens): the token's
// signature is verified against the issuer's keys, its audience, expiry
// and algorithm are checked, and its claims become an identity. No
// session or cookie is created. GitHub Actions' OIDC tokens have a preset.
package jwtissuer

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Config is one trusted issuer.
type Config struct {
	// Name names the issuer: X-Auth-Provider, and the start of user ids
	// ("<name>:<id>").
	Name string
	// Issuer is the iss the tokens carry, exactly.
	Issuer string
	// Audiences: a token must name at least one of them in aud.
	Audiences []string
	// JWKSURL is where the issuer's keys are; "" finds them by OpenID
	// Connect discovery at Issuer.
	JWKSURL string
	// Claims maps identity fields (id, login, email, name, groups, repos)
	// to claim paths ("sub", "realm_access.roles"). id defaults to sub.
	Claims map[string]string
	// Extra are claims passed on as they are (in X-Auth-Jwt and as
	// {http.auth.user.claim.<name>}).
	Extra []string
	// Algorithms the issuer signs with; default RS256 and ES256. Only
	// asymmetric algorithms are accepted.
	Algorithms []string
	// HTTPClient fetches the keys; Timeout bounds each fetch (default 10s).
	HTTPClient *http.Client
	Timeout    time.Duration
}

// Fields are the identity fields a claim can be mapped to.
var Fields = []string{"id", "login", "email", "name", "groups", "repos"}

// asymmetric are the algorithms a trusted issuer may sign with.
var asymmetric = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// GitHubActionsIssuer is the issuer of GitHub Actions' OIDC tokens on
// github.com.
const GitHubActionsIssuer = "https://token.actions.githubusercontent.com"

// GitHubActions is the preset of GitHub Actions' OIDC tokens: the
// workflow's repository is its repos (so allow repo acme/app admits the
// workflows of acme/app), its owner its groups, the actor its login, sub
// its id, and ref, workflow, environment and the rest of the job's claims
// pass on. baseURL is GitHub Enterprise Server's address ("" for
// github.com), whose issuer is <base_url>/_services/token.
func GitHubActions(name, baseURL string, audiences []string) Config {
	issuer := GitHubActionsIssuer
	if baseURL != "" {
		issuer = strings.TrimSuffix(baseURL, "/") + "/_services/token"
	}
	return Config{
		Name: name, Issuer: issuer, Audiences: audiences,
		Claims: map[string]string{"id": "sub", "login": "actor", "groups": "repository_owner", "repos": "repository"},
		Extra: []string{"ref", "ref_type", "sha", "workflow", "workflow_ref", "job_workflow_ref", "environment",
			"event_name", "run_id", "run_attempt", "repository_id", "repository_owner_id", "actor_id", "repository_visibility", "runner_environment"},
		Algorithms: []string{"RS256"},
	}
}

// check validates c and fills its defaults.
func (c *Config) check() error {
	switch {
	case c.Name == "":
		return errors.New("a trusted issuer needs a name")
	case !strings.HasPrefix(c.Issuer, "https://") && !strings.HasPrefix(c.Issuer, "http://"):
		return fmt.Errorf("jwt_issuer %s: issuer must be an http(s) URL, got %q", c.Name, c.Issuer)
	case len(c.Audiences) == 0:
		return fmt.Errorf("jwt_issuer %s: audience is required (the aud your tokens carry): without it any token of the issuer would do", c.Name)
	case c.JWKSURL != "" && !strings.HasPrefix(c.JWKSURL, "https://") && !strings.HasPrefix(c.JWKSURL, "http://"):
		return fmt.Errorf("jwt_issuer %s: jwks_url must be an http(s) URL, got %q", c.Name, c.JWKSURL)
	}
	for f, path := range c.Claims {
		if !slices.Contains(Fields, f) {
			return fmt.Errorf("jwt_issuer %s: claims: unknown field %q; fields are %s", c.Name, f, strings.Join(Fields, ", "))
		}
		if path == "" || strings.HasPrefix(path, ".") || strings.HasSuffix(path, ".") || strings.Contains(path, "..") {
			return fmt.Errorf("jwt_issuer %s: claims %s: %q is not a claim path (e.g. sub, or realm_access.roles)", c.Name, f, path)
		}
	}
	if c.Claims["id"] == "" {
		if c.Claims == nil {
			c.Claims = map[string]string{}
		}
		c.Claims["id"] = "sub"
	}
	if len(c.Algorithms) == 0 {
		c.Algorithms = []string{"RS256", "ES256"}
	}
	for _, a := range c.Algorithms {
		if !slices.Contains(asymmetric, a) {
			return fmt.Errorf("jwt_issuer %s: algorithm %q is not accepted; use one of %s", c.Name, a, strings.Join(asymmetric, ", "))
		}
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: c.Timeout}
	}
	return nil
}
