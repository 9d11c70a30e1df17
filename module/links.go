package module

import (
	"fmt"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/internal/keys"
	"github.com/gatehouse-auth/gatehouse/internal/linking"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// linkService builds the linked-account connections, or nil without any.
func (h *Handler) linkService(repl *caddy.Replacer, st store.Store, ring *keys.Ring, keyPrefix string, ns *nangoSettings) (*linking.Service, error) {
	if len(h.Connections) == 0 {
		if h.ConnectionsSecret != "" {
			return nil, fmt.Errorf("gatehouse: connections_secret is set but no connection is configured")
		}
		return nil, nil
	}
	opts := linking.Options{Store: st, Ring: ring, KeyPrefix: keyPrefix, Logger: h.logger.Named("linking")}
	if ns != nil {
		opts.Nango = ns.opts.Client
	}
	for _, c := range h.Connections {
		r := func(v string) string { return repl.ReplaceKnown(v, "") }
		opts.Connections = append(opts.Connections, linking.Config{
			Name: c.Name, Kind: c.Type,
			RequestTokenURL: r(c.RequestTokenURL), AuthorizeURL: r(c.AuthorizeURL), AccessTokenURL: r(c.AccessTokenURL),
			ConsumerKey: r(c.ConsumerKey), ConsumerSecret: r(c.ConsumerSecret),
			AuthURL: r(c.AuthURL), TokenURL: r(c.TokenURL), RevokeURL: r(c.RevokeURL),
			ClientID: r(c.ClientID), ClientSecret: r(c.ClientSecret), Scopes: c.Scopes,
			AuthStyle:   linking.AuthStyle(c.AuthStyle),
			Integration: r(c.Integration),
		})
	}
	svc, err := linking.New(opts)
	if err != nil {
		return nil, fmt.Errorf("gatehouse: %w", err)
	}
	return svc, nil
}
