package nango

import (
	"context"
	"errors"
	"net/http"
)

// triggerRequest is the body of POST /sync/trigger.
type triggerRequest struct {
	ProviderConfigKey string   `json:"provider_config_key"`
	ConnectionID      string   `json:"connection_id"`
	Syncs             []string `json:"syncs"`
}

// TriggerSync starts the named syncs of a connection now:
// POST /sync/trigger {"provider_config_key","connection_id","syncs":[...]},
// answered with 200 {"success":true}. A nil syncs is sent as [].
func (c *Client) TriggerSync(ctx context.Context, integration, connectionID string, syncs []string) error {
	if err := checkIDs(connectionID, integration); err != nil {
		return err
	}
	for _, s := range syncs {
		if s == "" {
			return errors.New("nango: trigger sync: empty sync name")
		}
	}
	if syncs == nil {
		syncs = []string{}
	}
	body := triggerRequest{ProviderConfigKey: integration, ConnectionID: connectionID, Syncs: syncs}
	return c.doSuccess(ctx, "trigger sync", http.MethodPost, "/sync/trigger", nil, body)
}
