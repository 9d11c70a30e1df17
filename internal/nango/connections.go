package nango

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Credentials are a connection's credentials, reduced to what Gatehouse
// uses. They appear only when the API key has the
// environment:connections:read_credentials scope; otherwise they are empty.
type Credentials struct {
	// Type is the credentials' type: "OAUTH2", "APP", ...
	Type string
	// AccessToken is the token. It is a credential: do not log it.
	AccessToken string
	// ExpiresAt is when AccessToken expires; zero when absent or null.
	ExpiresAt time.Time
}

// Connection is GET /connections/{id}'s answer, reduced to what Gatehouse
// uses.
type Connection struct {
	// ConnectionID is Nango's connection ID ("connection_id").
	ConnectionID string
	// ProviderConfigKey is the integration's unique key.
	ProviderConfigKey string
	// Provider is the provider, e.g. "github" or "github-app-oauth".
	Provider string
	// Tags are the connection's tags; non-string tag values are ignored.
	Tags map[string]string
	// EndUserID is end_user.id; "" when end_user is null.
	EndUserID string
	// Credentials are the connection's credentials. For github-app-oauth
	// after installation they hold the installation token (type "APP").
	Credentials Credentials

	// InstallationID is connection_config.installation_id (github-app-oauth),
	// sent as a JSON number or a numeric string; 0 when absent.
	InstallationID int64
	// Pending is connection_config.pending: the GitHub App installation
	// awaits an org owner's approval.
	Pending bool
	// Handle is connection_config.handle: the GitHub login.
	Handle string
	// UserCredentials is connection_config.userCredentials: the GitHub App
	// user token (github-app-oauth); nil when absent.
	UserCredentials *Credentials
}

// UserToken returns the GitHub *user* token of the connection:
// connection_config.userCredentials.access_token when present; otherwise
// credentials.access_token when credentials.type is "OAUTH2"; otherwise "".
// It never returns a github-app-oauth installation token (type "APP").
func (c *Connection) UserToken() string {
	if c == nil {
		return ""
	}
	if c.UserCredentials != nil && c.UserCredentials.AccessToken != "" {
		return c.UserCredentials.AccessToken
	}
	if c.Credentials.Type == "OAUTH2" {
		return c.Credentials.AccessToken
	}
	return ""
}

// credentialsJSON is the wire form of credentials and of
// connection_config.userCredentials.
type credentialsJSON struct {
	Type        string          `json:"type"`
	AccessToken string          `json:"access_token"`
	ExpiresAt   json.RawMessage `json:"expires_at"`
}

// decodeCredentials decodes a credentials object; absent and null give
// the zero Credentials and ok false.
func decodeCredentials(raw json.RawMessage) (creds Credentials, ok bool, err error) {
	if isNull(raw) {
		return Credentials{}, false, nil
	}
	var j credentialsJSON
	if err := json.Unmarshal(raw, &j); err != nil {
		return Credentials{}, false, errUnexpectedShape
	}
	exp, err := parseTime(j.ExpiresAt)
	if err != nil {
		return Credentials{}, false, fmt.Errorf("expires_at: %w", err)
	}
	return Credentials{Type: j.Type, AccessToken: j.AccessToken, ExpiresAt: exp}, true, nil
}

// errUnexpectedShape is a JSON value of the wrong type. It names no value,
// so it cannot leak a token.
var errUnexpectedShape = errors.New("unexpected JSON shape")

// connectionJSON is the wire form of GET /connections/{id}.
type connectionJSON struct {
	ConnectionID      string          `json:"connection_id"`
	ProviderConfigKey string          `json:"provider_config_key"`
	Provider          string          `json:"provider"`
	Tags              json.RawMessage `json:"tags"`
	EndUser           *struct {
		ID string `json:"id"`
	} `json:"end_user"`
	Credentials      json.RawMessage            `json:"credentials"`
	ConnectionConfig map[string]json.RawMessage `json:"connection_config"`
}

// decodeConnection decodes GET /connections/{id}'s answer. Errors name the
// offending field, never its value.
func decodeConnection(data []byte) (*Connection, error) {
	var j connectionJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("decoding response: %w", err)
	}
	conn := &Connection{
		ConnectionID:      j.ConnectionID,
		ProviderConfigKey: j.ProviderConfigKey,
		Provider:          j.Provider,
	}
	var err error
	if conn.Tags, err = stringTags(j.Tags); err != nil {
		return nil, fmt.Errorf("tags: %w", err)
	}
	if j.EndUser != nil {
		conn.EndUserID = j.EndUser.ID
	}
	if conn.Credentials, _, err = decodeCredentials(j.Credentials); err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	cfg := j.ConnectionConfig
	if conn.InstallationID, err = parseID(cfg["installation_id"]); err != nil {
		return nil, fmt.Errorf("connection_config.installation_id: %w", err)
	}
	if conn.Pending, err = parseBool(cfg["pending"]); err != nil {
		return nil, fmt.Errorf("connection_config.pending: %w", err)
	}
	if conn.Handle, err = parseString(cfg["handle"]); err != nil {
		return nil, fmt.Errorf("connection_config.handle: %w", err)
	}
	userCreds, ok, err := decodeCredentials(cfg["userCredentials"])
	if err != nil {
		return nil, fmt.Errorf("connection_config.userCredentials: %w", err)
	}
	if ok {
		conn.UserCredentials = &userCreds
	}
	return conn, nil
}

// connectionPath is the escaped path of a connection.
func connectionPath(connectionID string) string {
	return "/connections/" + url.PathEscape(connectionID)
}

// integrationQuery is the provider_config_key query.
func integrationQuery(integration string) url.Values {
	return url.Values{"provider_config_key": {integration}}
}

// GetConnection fetches a connection with its credentials:
// GET /connections/{id}?provider_config_key=…. Nango refreshes the access
// token first when it expires within 15 minutes.
func (c *Client) GetConnection(ctx context.Context, connectionID, integration string) (*Connection, error) {
	const op = "get connection"
	if err := checkIDs(connectionID, integration); err != nil {
		return nil, err
	}
	var raw json.RawMessage
	if err := c.do(ctx, op, http.MethodGet, connectionPath(connectionID), integrationQuery(integration), nil, &raw); err != nil {
		return nil, err
	}
	conn, err := decodeConnection(raw)
	if err != nil {
		return nil, fmt.Errorf("nango: %s: %w", op, err)
	}
	return conn, nil
}

// Patch is the body of PATCH /connections/{id}.
type Patch struct {
	// Tags replace the connection's tags (Nango merges in the tags derived
	// from EndUser).
	Tags map[string]string `json:"tags,omitempty"`
	// EndUser is the deprecated end user.
	EndUser *EndUser `json:"end_user,omitempty"`
}

// PatchConnection updates a connection's tags or end user:
// PATCH /connections/{id}?provider_config_key=…, answered with 200
// {"success":true}.
func (c *Client) PatchConnection(ctx context.Context, connectionID, integration string, p Patch) error {
	if err := checkIDs(connectionID, integration); err != nil {
		return err
	}
	return c.doSuccess(ctx, "patch connection", http.MethodPatch, connectionPath(connectionID), integrationQuery(integration), p)
}

// DeleteConnection deletes a connection:
// DELETE /connections/{id}?provider_config_key=…, answered with 200
// {"success":true}. An unknown connection (400 unknown_connection, or 404
// not_found) returns an error for which IsNotFound is true. Nango sends no
// webhook for a deletion.
func (c *Client) DeleteConnection(ctx context.Context, connectionID, integration string) error {
	if err := checkIDs(connectionID, integration); err != nil {
		return err
	}
	return c.doSuccess(ctx, "delete connection", http.MethodDelete, connectionPath(connectionID), integrationQuery(integration), nil)
}

// ValidConnectionID accepts the connection ids Nango hands out (UUIDs, or
// ids chosen by the application): short, printable, no separators.
func ValidConnectionID(id string) bool {
	if id == "" || len(id) > 255 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
