package providers

import (
	"cmp"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/internal/oauth2login"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
)

func init() { caddy.RegisterModule(OAuth2{}) }

// OAuth2 signs users in with any OAuth 2.0 provider that has a userinfo
// endpoint, mapped onto the identity by Claims. PKCE is sent.
type OAuth2 struct {
	Common

	// Authorization endpoint. Required.
	AuthURL string `json:"auth_url,omitempty"`
	// Token endpoint. Required.
	TokenURL string `json:"token_url,omitempty"`
	// Userinfo endpoint, read with the access token. Required.
	UserinfoURL string `json:"userinfo_url,omitempty"`

	// Where the identity is in the userinfo response. Default: see
	// Claims.
	Claims *Claims `json:"claims,omitempty"`

	login Login
}

// Claims maps a userinfo response to the identity: each field is a
// dot-separated path into the JSON (e.g. "data.user.login").
type Claims struct {
	// Stable user id. Default: id.
	ID string `json:"id,omitempty"`
	// Login or username. Default: login.
	Login string `json:"login,omitempty"`
	// Email. Default: email.
	Email string `json:"email,omitempty"`
	// A claim that must be true for the email to be used; without it the
	// email is never sent upstream (it would be unverified). Default: none.
	EmailVerified string `json:"email_verified,omitempty"`
	// Display name. Default: name.
	Name string `json:"name,omitempty"`
	// Picture URL. Default: avatar_url.
	Avatar string `json:"avatar,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (OAuth2) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: Namespace + ".oauth2", New: func() caddy.Module { return new(OAuth2) }}
}

// Provision resolves the configuration and builds the provider.
func (p *OAuth2) Provision(caddy.Context) (err error) {
	var authURL, tokenURL, userinfoURL string
	p.login, err = p.provision("oauth2", "", func(r *resolved) {
		authURL, tokenURL = r.res.Get("auth_url", p.AuthURL), r.res.Get("token_url", p.TokenURL)
		userinfoURL = r.res.Get("userinfo_url", p.UserinfoURL)
	}, func(r *resolved) (provider.Provider, error) {
		c := Claims{}
		if p.Claims != nil {
			c = *p.Claims
		}
		return oauth2login.New(oauth2login.Config{
			Name: r.name, AuthURL: authURL, TokenURL: tokenURL, UserinfoURL: userinfoURL,
			ClientID: r.clientID, ClientSecret: r.clientSecret, Scopes: r.scopes, Timeout: r.timeout,
			Claims: oauth2login.Claims{
				ID: cmp.Or(c.ID, "id"), Login: cmp.Or(c.Login, "login"), Email: cmp.Or(c.Email, "email"),
				Name: cmp.Or(c.Name, "name"), Avatar: cmp.Or(c.Avatar, "avatar_url"),
			},
			EmailVerified: c.EmailVerified,
		})
	})
	return err
}

// Login implements Provider.
func (p *OAuth2) Login() Login { return p.login }

// Interface guards.
var (
	_ Provider          = (*OAuth2)(nil)
	_ caddy.Provisioner = (*OAuth2)(nil)
)
