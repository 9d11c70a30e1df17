package nango

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/apiclient"
)

const (
	// DefaultBaseURL is Nango Cloud's API.
	DefaultBaseURL = "https://api.nango.dev"
	// DefaultConnectURL is Nango Cloud's hosted Connect UI.
	DefaultConnectURL = "https://connect.nango.dev"
)

// maxBodySize bounds how much of a response body is read.
const maxBodySize = 1 << 20

// Client calls Nango's REST API. Safe for concurrent use.
type Client struct {
	// BaseURL is the API's root URL. Default DefaultBaseURL; a trailing
	// slash is trimmed.
	BaseURL string
	// SecretKey is the environment's API key, sent as
	// "Authorization: Bearer <SecretKey>". It never appears in an error.
	SecretKey string
	// HTTP makes the calls. Default: a client with a 10 s timeout.
	HTTP *http.Client
}

// baseURL is BaseURL with its default applied and trailing slashes trimmed.
func (c *Client) baseURL() string {
	b := strings.TrimRight(c.BaseURL, "/")
	if b == "" {
		return DefaultBaseURL
	}
	return b
}

// checkBaseURL reports whether the base URL is an absolute http(s) URL
// without query, fragment or user info.
func (c *Client) checkBaseURL() (*url.URL, error) {
	u, err := url.Parse(c.baseURL())
	if err != nil {
		return nil, errors.New("nango: invalid base URL")
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "" {
		return nil, errors.New("nango: base URL must be an absolute http(s) URL without query, fragment or user info")
	}
	return u, nil
}

// httpClient is the client calls go through: HTTP, or a shared one with
// a 10 s timeout.
func (c *Client) httpClient() *http.Client {
	return apiclient.HTTP(c.HTTP)
}

// checkIDs rejects an empty connection ID or integration before any request.
func checkIDs(connectionID, integration string) error {
	if connectionID == "" {
		return errors.New("nango: empty connection ID")
	}
	if integration == "" {
		return errors.New("nango: empty integration (provider config key)")
	}
	return nil
}

// do sends one request to Nango's API. path starts with "/" and is already
// escaped; query may be nil. in, when non-nil, is sent as the JSON body.
// A 2xx answer is decoded into out when out is non-nil; any other answer is
// an *APIError. op names the operation in errors.
func (c *Client) do(ctx context.Context, op, method, path string, query url.Values, in, out any) error {
	if c.SecretKey == "" {
		return fmt.Errorf("nango: %s: no secret key configured", op)
	}
	if _, err := c.checkBaseURL(); err != nil {
		return fmt.Errorf("nango: %s: %w", op, err)
	}
	target := c.baseURL() + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("nango: %s: encoding request: %w", op, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return fmt.Errorf("nango: %s: building request: %w", op, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.SecretKey)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	// *url.Error quotes the method and URL, which never hold the key.
	resp, data, err := apiclient.Do(c.HTTP, req, maxBodySize)
	if err != nil {
		return fmt.Errorf("nango: %s: %w", op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newAPIError(resp.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("nango: %s: decoding response: %w", op, err)
	}
	return nil
}

// successResponse is the {"success":true} answer of PATCH, DELETE and
// POST /sync/trigger.
type successResponse struct {
	Success bool `json:"success"`
}

// doSuccess is do for endpoints answering {"success":true}; an answer with
// success false (or without it) is an error.
func (c *Client) doSuccess(ctx context.Context, op, method, path string, query url.Values, in any) error {
	var out successResponse
	if err := c.do(ctx, op, method, path, query, in, &out); err != nil {
		return err
	}
	if !out.Success {
		return fmt.Errorf("nango: %s: response did not report success", op)
	}
	return nil
}
