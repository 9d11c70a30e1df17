package providers

import (
	"cmp"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/gatehouse-auth/gatehouse/internal/cfparse"

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
func (p *OAuth2) Provision(caddy.Context) error {
	var authURL, tokenURL, userinfoURL string
	return p.provision(oauth2Block.spec, "", func(r *resolved) {
		authURL, tokenURL = r.get("auth_url", p.AuthURL), r.get("token_url", p.TokenURL)
		userinfoURL = r.get("userinfo_url", p.UserinfoURL)
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
}

// UnmarshalCaddyfile reads `oauth2 <name> { auth_url ... token_url ...
// userinfo_url ... client_id ... claims { ... } }`.
func (p *OAuth2) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	return unmarshalBlock(d, p, oauth2Block)
}

var oauth2Block = newBlock(spec{
	typ: "oauth2",
	takes: []string{"auth_url", "token_url", "userinfo_url", "client_id", "client_secret", "scopes", "claims",
		"redirect_url", "label", "timeout"},
	required: []string{"auth_url", "token_url", "userinfo_url", "client_id"},
	named:    true,
	examples: map[string]string{
		"client_id":     "{env.OAUTH_CLIENT_ID}",
		"client_secret": "{env.OAUTH_CLIENT_SECRET}",
		"scopes":        "read:user",
	},
},
	cfparse.URL("auth_url", examples["auth_url"], func(p *OAuth2) *string { return &p.AuthURL }),
	cfparse.URL("token_url", examples["token_url"], func(p *OAuth2) *string { return &p.TokenURL }),
	cfparse.URL("userinfo_url", examples["userinfo_url"], func(p *OAuth2) *string { return &p.UserinfoURL }),
	cfparse.Sub[OAuth2]{Name: "claims", Parse: func(c *cfparse.Cursor, p *OAuth2) error {
		cl := new(Claims)
		if _, err := cfparse.BlockOnly(c, claimsBlock, cl, "claims { id id login login }",
			"naming at least one of "+strings.Join(claimsBlock.Names(), ", ")); err != nil {
			return err
		}
		p.Claims = cl
		return nil
	}},
)

// claimsBlock is `claims { ... }` of provider oauth2: paths into the
// userinfo response.
var claimsBlock = cfparse.NewTable("claims",
	claimPath("id", func(c *Claims) *string { return &c.ID }),
	claimPath("login", func(c *Claims) *string { return &c.Login }),
	claimPath("email", func(c *Claims) *string { return &c.Email }),
	claimPath("email_verified", func(c *Claims) *string { return &c.EmailVerified }),
	claimPath("name", func(c *Claims) *string { return &c.Name }),
	claimPath("avatar", func(c *Claims) *string { return &c.Avatar }),
)

// claimPath takes a dot-separated path into a JSON object.
func claimPath(name string, field func(*Claims) *string) cfparse.Sub[Claims] {
	return cfparse.Sub[Claims]{Name: name, Parse: func(c *cfparse.Cursor, cl *Claims) error {
		v, err := c.OneValue("data.user." + name)
		if err != nil {
			return err
		}
		for _, part := range strings.Split(v, ".") {
			if part == "" || strings.ContainsAny(part, " {}[]\"") {
				return c.Errorf("claims %s must be a dot-separated path into the userinfo JSON such as data.user.%s; got %q", name, name, v)
			}
		}
		if v == "id_token" || strings.HasPrefix(v, "id_token.") {
			return c.Errorf("claims %s: %q would read an id_token, which provider oauth2 does not use; "+
				"give a path into the userinfo JSON such as data.user.%s (for an id_token use provider oidc)", name, v, name)
		}
		*field(cl) = v
		return nil
	}}
}

// Interface guards.
var (
	_ Provider              = (*OAuth2)(nil)
	_ caddy.Provisioner     = (*OAuth2)(nil)
	_ caddyfile.Unmarshaler = (*OAuth2)(nil)
)
