package module

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/internal/gate"
	"github.com/gatehouse-auth/gatehouse/internal/github"
	"github.com/gatehouse-auth/gatehouse/internal/githubaccess"
	"github.com/gatehouse-auth/gatehouse/internal/oauth2login"
	"github.com/gatehouse-auth/gatehouse/internal/oidc"
	"github.com/gatehouse-auth/gatehouse/internal/placeholder"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
)

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
		res := &placeholder.Resolver{Repl: repl, Where: "provider " + name + ": "}
		clientID, clientSecret := res.Get("client_id", pc.ClientID), res.Get("client_secret", pc.ClientSecret)
		issuer, baseURL, apiURL := res.Get("issuer", pc.Issuer), res.Get("base_url", pc.BaseURL), res.Get("api_url", pc.APIURL)
		authURL, tokenURL, userinfoURL := res.Get("auth_url", pc.AuthURL), res.Get("token_url", pc.TokenURL), res.Get("userinfo_url", pc.UserinfoURL)
		hostedDomain, tenant := res.Get("hosted_domain", pc.HostedDomain), res.Get("tenant", pc.Tenant)
		redirectURL := res.Get("redirect_url", pc.RedirectURL)
		if res.Err != nil {
			return nil, nil, res.Err
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
				return nil, nil, fmt.Errorf("gatehouse: provider %s: redirect_url%s %q must be an absolute http(s) URL", name, placeholder.From(pc.RedirectURL), redirectURL)
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
