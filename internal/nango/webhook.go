package nango

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Webhook is a webhook from Nango. Type is "auth", "sync" or "forward"
// (ignore other values, e.g. "async_action"); it is "" for an unattributed
// forward, whose body is the provider's raw body.
type Webhook struct {
	// Type is the webhook type: "auth", "sync", "forward", ...
	Type string `json:"type"`
	// From is "nango", or the provider for a forward.
	From string `json:"from"`
	// ConnectionID is the connection the webhook is about.
	ConnectionID string `json:"connectionId"`
	// ProviderConfigKey is the integration's unique key.
	ProviderConfigKey string `json:"providerConfigKey"`
	// Provider is the provider (auth webhooks).
	Provider string `json:"provider"`
	// Environment is the environment's name, e.g. "dev" or "prod".
	Environment string `json:"environment"`
	// Operation is "creation", "override" or "refresh" (auth webhooks).
	Operation string `json:"operation"`
	// AuthMode is e.g. "OAUTH2", or "CUSTOM" for github-app-oauth.
	AuthMode string `json:"authMode"`
	// Success is false when absent.
	Success bool `json:"success"`
	// Tags are filled from "tags", ignoring non-string values.
	Tags map[string]string `json:"-"`
	// EndUser is present only if the session was created with end_user.
	EndUser *WebhookEndUser `json:"endUser"`
	// Error describes a failure (success false).
	Error *WebhookError `json:"error"`
	// SyncName is the sync's name (sync webhooks).
	SyncName string `json:"syncName"`
	// Model is the synced model (sync webhooks).
	Model string `json:"model"`
	// Payload is the provider's body (forward webhooks).
	Payload json.RawMessage `json:"payload"`
}

// WebhookEndUser is the deprecated endUser of an auth webhook.
type WebhookEndUser struct {
	// EndUserID is the end user's ID given when creating the session.
	EndUserID string `json:"endUserId"`
	// EndUserEmail is the end user's email address.
	EndUserEmail string `json:"endUserEmail"`
	// OrganizationID is the organization's ID given when creating the
	// session.
	OrganizationID string `json:"organizationId"`
}

// WebhookError describes a failed auth or sync.
type WebhookError struct {
	// Type is the error type.
	Type string `json:"type"`
	// Description is a human-readable description.
	Description string `json:"description"`
}

// EndUserID returns tags["end_user_id"], falling back to
// EndUser.EndUserID (tags are current, endUser is deprecated).
func (w *Webhook) EndUserID() string {
	if w == nil {
		return ""
	}
	if id := w.Tags["end_user_id"]; id != "" {
		return id
	}
	if w.EndUser != nil {
		return w.EndUser.EndUserID
	}
	return ""
}

// ParseWebhook decodes a webhook body. It must be one JSON object (anything
// else is an error); unknown fields are fine; an object without "type" is
// valid (Type "") since an unattributed forward is the raw provider body.
// "success" may be absent (false). A known field of the wrong JSON type is
// an error. Verify the signature first, over the same bytes.
func ParseWebhook(body []byte) (*Webhook, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, errors.New("nango: webhook body is not a JSON object")
	}
	var w struct {
		Webhook
		Tags json.RawMessage `json:"tags"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("nango: decoding webhook: %w", err)
	}
	tags, err := stringTags(w.Tags)
	if err != nil {
		return nil, fmt.Errorf("nango: decoding webhook: tags: %w", err)
	}
	out := w.Webhook
	out.Tags = tags
	if isNull(out.Payload) {
		out.Payload = nil
	}
	return &out, nil
}
