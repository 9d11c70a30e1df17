package nango

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// EndUser identifies the end user of a connect session or connection.
// Nango deprecates it in favour of tags; prefer SessionRequest.Tags.
type EndUser struct {
	// ID is the end user's ID in Gatehouse (1-255 characters).
	ID string `json:"id"`
	// Email is the end user's email address, optional.
	Email string `json:"email,omitempty"`
	// DisplayName is the end user's display name, optional.
	DisplayName string `json:"display_name,omitempty"`
}

// SessionRequest is the body of POST /connect/sessions. Nango requires
// EndUser unless Tags is given.
type SessionRequest struct {
	// Tags are copied onto the connection and into auth webhooks, e.g.
	// {"end_user_id": "u_1"}. At most 10 lower-case keys.
	Tags map[string]string `json:"tags,omitempty"`
	// EndUser is the deprecated end user; optional when Tags is given.
	EndUser *EndUser `json:"end_user,omitempty"`
	// AllowedIntegrations limits which integrations the Connect UI offers.
	AllowedIntegrations []string `json:"allowed_integrations,omitempty"`
}

// ConnectSession is a created connect session.
type ConnectSession struct {
	// Token is the session token handed to the Connect UI. It is a
	// credential: do not log it.
	Token string `json:"token"`
	// ConnectLink is the hosted Connect UI URL carrying the token.
	ConnectLink string `json:"connect_link"`
	// ExpiresAt is when the session expires (30 minutes after creation).
	ExpiresAt time.Time `json:"expires_at"`
}

// CreateConnectSession creates a connect session: POST /connect/sessions
// (no query string; Nango refuses one), answered with 201 {"data":{...}}.
func (c *Client) CreateConnectSession(ctx context.Context, req SessionRequest) (*ConnectSession, error) {
	const op = "create connect session"
	var out struct {
		Data *struct {
			Token       string          `json:"token"`
			ConnectLink string          `json:"connect_link"`
			ExpiresAt   json.RawMessage `json:"expires_at"`
		} `json:"data"`
	}
	if err := c.do(ctx, op, http.MethodPost, "/connect/sessions", nil, req, &out); err != nil {
		return nil, err
	}
	if out.Data == nil || out.Data.Token == "" {
		return nil, errors.New("nango: create connect session: response has no session token")
	}
	exp, err := parseTime(out.Data.ExpiresAt)
	if err != nil {
		return nil, fmt.Errorf("nango: %s: expires_at: %w", op, err)
	}
	return &ConnectSession{Token: out.Data.Token, ConnectLink: out.Data.ConnectLink, ExpiresAt: exp}, nil
}
