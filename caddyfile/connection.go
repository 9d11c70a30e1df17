package caddyfile

import (
	"slices"
	"strings"

	cf "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/gatehouse-auth/gatehouse/internal/cfparse"
	"github.com/gatehouse-auth/gatehouse/module"
	"github.com/gatehouse-auth/gatehouse/providers"
)

// connectionFields lists, per connection type, the subdirectives it
// requires and the ones it takes besides type.
var connectionFields = map[string]struct{ required, accepts []string }{
	"oauth1": {
		required: []string{"request_token_url", "authorize_url", "access_token_url", "consumer_key", "consumer_secret"},
		accepts:  []string{"request_token_url", "authorize_url", "access_token_url", "consumer_key", "consumer_secret"},
	},
	"oauth2": {
		required: []string{"auth_url", "token_url", "client_id"},
		accepts:  []string{"auth_url", "token_url", "revoke_url", "client_id", "client_secret", "scopes", "auth_style"},
	},
	"nango": {required: []string{"integration"}, accepts: []string{"integration"}},
}

// connectionExamples are sample values used in connection error messages.
var connectionExamples = map[string]string{
	"type":              "oauth2",
	"request_token_url": "https://connectapi.garmin.com/oauth-service/oauth/request_token",
	"authorize_url":     "https://connect.garmin.com/oauthConfirm",
	"access_token_url":  "https://connectapi.garmin.com/oauth-service/oauth/access_token",
	"consumer_key":      "{env.GARMIN_CONSUMER_KEY}",
	"consumer_secret":   "{env.GARMIN_CONSUMER_SECRET}",
	"auth_url":          "https://api.prod.whoop.com/oauth/oauth2/auth",
	"token_url":         "https://api.prod.whoop.com/oauth/oauth2/token",
	"revoke_url":        "https://provider.example.com/oauth/revoke",
	"client_id":         "{env.WHOOP_CLIENT_ID}",
	"client_secret":     "{env.WHOOP_CLIENT_SECRET}",
	"scopes":            "read:recovery offline",
	"integration":       "strava",
}

func parseConnection(c *cfparse.Cursor, s *state) error {
	args := c.RemainingArgs()
	if len(args) != 1 {
		return c.Errorf("connection takes one name, e.g. connection garmin { type oauth1 ... }")
	}
	name := args[0]
	if !providers.ValidName(name) {
		return c.Errorf("connection name %q must be 1 to 32 lowercase letters, digits, - or _ "+
			"(it appears in URLs such as /.gatehouse/connect/%s)", name, name)
	}
	if s.connections == nil {
		s.connections = map[string]cf.Token{}
	}
	if first, dup := s.connections[name]; dup {
		return c.Errorf("connection %q is already declared at line %d", name, first.Line)
	}
	s.connections[name] = c.Tok
	conn := module.ConnectionConfig{Name: name}
	seen, err := cfparse.ParseBlock(c.Dispenser, connectionBlock, &conn)
	if err != nil {
		return err
	}
	if conn.Type == "" {
		return c.Errorf("connection %s needs a type in its block: oauth1, oauth2 or nango, e.g. type oauth2", name)
	}
	fields := connectionFields[conn.Type]
	for field, tok := range seen {
		if field != "type" && !slices.Contains(fields.accepts, field) {
			return cfparse.ErrAt(tok, "connection %s of type %s does not take %s; it takes: %s", name, conn.Type, field, strings.Join(fields.accepts, ", "))
		}
	}
	if err := cfparse.Require(c, seen, "connection "+name+" of type "+conn.Type, fields.required,
		func(f string) string { return connectionExamples[f] }); err != nil {
		return err
	}
	s.h.Connections = append(s.h.Connections, conn)
	return nil
}

func connectionString(name string, field func(*module.ConnectionConfig) *string) cfparse.Sub[module.ConnectionConfig] {
	return cfparse.String(name, connectionExamples[name], field)
}

func connectionSecret(name string, field func(*module.ConnectionConfig) *string) cfparse.Sub[module.ConnectionConfig] {
	return cfparse.Secret(name, connectionExamples[name], field)
}

func connectionURL(name string, field func(*module.ConnectionConfig) *string) cfparse.Sub[module.ConnectionConfig] {
	return cfparse.URL(name, connectionExamples[name], field)
}

// connectionBlock is `connection <name> { ... }`.
var connectionBlock = newTable("connection",
	cfparse.Sub[module.ConnectionConfig]{Name: "type", Parse: func(c *cfparse.Cursor, conn *module.ConnectionConfig) error {
		v, err := c.OneValue("oauth2")
		if err != nil {
			return err
		}
		if _, ok := connectionFields[v]; !ok {
			return c.Errorf("connection type must be oauth1, oauth2 or nango; got %q", v)
		}
		conn.Type = v
		return nil
	}},
	connectionURL("request_token_url", func(x *module.ConnectionConfig) *string { return &x.RequestTokenURL }),
	connectionURL("authorize_url", func(x *module.ConnectionConfig) *string { return &x.AuthorizeURL }),
	connectionURL("access_token_url", func(x *module.ConnectionConfig) *string { return &x.AccessTokenURL }),
	connectionString("consumer_key", func(x *module.ConnectionConfig) *string { return &x.ConsumerKey }),
	connectionSecret("consumer_secret", func(x *module.ConnectionConfig) *string { return &x.ConsumerSecret }),
	connectionURL("auth_url", func(x *module.ConnectionConfig) *string { return &x.AuthURL }),
	connectionURL("token_url", func(x *module.ConnectionConfig) *string { return &x.TokenURL }),
	connectionURL("revoke_url", func(x *module.ConnectionConfig) *string { return &x.RevokeURL }),
	connectionString("client_id", func(x *module.ConnectionConfig) *string { return &x.ClientID }),
	connectionSecret("client_secret", func(x *module.ConnectionConfig) *string { return &x.ClientSecret }),
	cfparse.Sub[module.ConnectionConfig]{Name: "scopes", Parse: func(c *cfparse.Cursor, conn *module.ConnectionConfig) error {
		args, err := c.SomeValues("scope", connectionExamples["scopes"])
		conn.Scopes = args
		return err
	}},
	cfparse.Sub[module.ConnectionConfig]{Name: "auth_style", Parse: func(c *cfparse.Cursor, conn *module.ConnectionConfig) error {
		v, err := c.OneValue("post")
		if err != nil {
			return err
		}
		if v != "basic" && v != "post" {
			return c.Errorf("connection auth_style must be basic (client_secret_basic) or post (client_secret_post); got %q", v)
		}
		conn.AuthStyle = v
		return nil
	}},
	cfparse.Sub[module.ConnectionConfig]{Name: "integration", Parse: func(c *cfparse.Cursor, conn *module.ConnectionConfig) error {
		v, err := c.OneValue(connectionExamples["integration"])
		if err != nil {
			return err
		}
		if !cfparse.HasPlaceholder(v) && !isIntegrationID(v) {
			return c.Errorf("connection integration must be the integration's unique key from Nango's dashboard; got %q", v)
		}
		conn.Integration = v
		return nil
	}},
)
