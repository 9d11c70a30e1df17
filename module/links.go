package module

import (
	"fmt"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/internal/connections"
	"github.com/gatehouse-auth/gatehouse/internal/keys"
	"github.com/gatehouse-auth/gatehouse/internal/placeholder"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// linkService builds the linked-account connections, or nil without any.
func (h *Handler) linkService(repl *caddy.Replacer, st store.Store, ring *keys.Ring, keyPrefix, secret string, ns *nangoSettings) (*connections.Service, error) {
	if len(h.Connections) == 0 {
		return nil, nil
	}
	opts := connections.Options{Store: st, Ring: ring, KeyPrefix: keyPrefix, Secret: []byte(secret), Logger: h.logger.Named("linking")}
	if ns != nil {
		opts.Nango, opts.NangoConnectURL = ns.opts.Client, ns.opts.ConnectURL
	}
	for _, c := range h.Connections {
		res := &placeholder.Resolver{Repl: repl, Where: "connection " + c.Name + ": "}
		r := res.Get
		opts.Connections = append(opts.Connections, connections.Config{
			Name: c.Name, Kind: c.Type,
			RequestTokenURL: r("request_token_url", c.RequestTokenURL), AuthorizeURL: r("authorize_url", c.AuthorizeURL),
			AccessTokenURL: r("access_token_url", c.AccessTokenURL),
			ConsumerKey:    r("consumer_key", c.ConsumerKey), ConsumerSecret: r("consumer_secret", c.ConsumerSecret),
			AuthURL: r("auth_url", c.AuthURL), TokenURL: r("token_url", c.TokenURL), RevokeURL: r("revoke_url", c.RevokeURL),
			ClientID: r("client_id", c.ClientID), ClientSecret: r("client_secret", c.ClientSecret), Scopes: c.Scopes,
			AuthStyle:   connections.AuthStyle(c.AuthStyle),
			Integration: r("integration", c.Integration),
		})
		if res.Err != nil {
			return nil, res.Err
		}
	}
	svc, err := connections.New(opts)
	if err != nil {
		return nil, fmt.Errorf("gatehouse: %w", err)
	}
	return svc, nil
}
