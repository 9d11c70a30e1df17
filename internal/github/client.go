package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/apiclient"
)

const (
	// apiVersion is the REST API version Gatehouse is written against.
	apiVersion = "2022-11-28"
	// perPage is the page size requested from list endpoints (GitHub's
	// maximum).
	perPage = 100
	// MaxPages bounds how many pages one list call follows (100 pages of
	// 100 items); a list that is longer is an error.
	MaxPages = 100
)

// Client calls the REST API with a caller-supplied token. Its methods are
// safe for concurrent use.
type Client struct {
	// Endpoints locate GitHub. Zero value: github.com.
	Endpoints Endpoints
	// HTTP makes the calls. Default: a client with a 10 s timeout.
	HTTP *http.Client
}

// apiResponse is a successful response: its body and headers.
type apiResponse struct {
	body   []byte
	header http.Header
}

// do sends one request to GitHub's API and returns the 2xx response or an
// error (an *APIError for non-2xx answers). rawURL is absolute. The token
// goes only into the Authorization header, never into an error.
func (c *Client) do(ctx context.Context, method, rawURL, token string, body io.Reader) (*apiResponse, error) {
	req, err := http.NewRequestWithContext(ctx, method, rawURL, body)
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", apiVersion)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	// *url.Error quotes the URL, which never holds the token.
	resp, data, err := apiclient.Do(c.HTTP, req, MaxResponseBytes)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, newAPIError(resp, data, time.Now())
	}
	return &apiResponse{body: data, header: resp.Header}, nil
}

// apiURL is the absolute URL of path (which starts with "/") on the API.
func (c *Client) apiURL(path string) string {
	return c.Endpoints.WithDefaults().APIURL + path
}

// getJSON GETs path and decodes the JSON answer into v.
func (c *Client) getJSON(ctx context.Context, path, token string, v any) error {
	resp, err := c.do(ctx, http.MethodGet, c.apiURL(path), token, nil)
	if err != nil {
		return fmt.Errorf("github: GET %s: %w", path, err)
	}
	if err := json.Unmarshal(resp.body, v); err != nil {
		return fmt.Errorf("github: GET %s: decoding response: %w", path, err)
	}
	return nil
}

// paginate GETs path page by page (per_page=100), following Link
// rel="next" until it is absent — or, when a response has no Link header
// at all (Nango's proxy drops it), asking for the next page number while
// pages come back full — and returns the items decode extracts
// from every page. It stops with an error after MaxPages pages, and
// refuses a next link that leaves the API's origin (the token must not
// travel elsewhere).
func paginate[T any](ctx context.Context, c *Client, path, token string, decode func([]byte) ([]T, error)) ([]T, error) {
	base, err := url.Parse(c.apiURL(""))
	if err != nil {
		return nil, fmt.Errorf("github: API URL: %w", err)
	}
	next := c.apiURL(path)
	if strings.Contains(path, "?") {
		next += "&per_page=" + fmt.Sprint(perPage)
	} else {
		next += "?per_page=" + fmt.Sprint(perPage)
	}
	first := next
	var all []T
	for page := 1; next != ""; page++ {
		if page > MaxPages {
			return nil, fmt.Errorf("github: GET %s: more than %d pages", path, MaxPages)
		}
		resp, err := c.do(ctx, http.MethodGet, next, token, nil)
		if err != nil {
			return nil, fmt.Errorf("github: GET %s (page %d): %w", path, page, err)
		}
		items, err := decode(resp.body)
		if err != nil {
			return nil, fmt.Errorf("github: GET %s (page %d): decoding response: %w", path, page, err)
		}
		all = append(all, items...)
		if len(resp.header.Values("Link")) == 0 {
			// No Link header at all: a proxy that drops it (Nango's does)
			// or the last page. A full page may have a successor.
			next = ""
			if len(items) == perPage {
				next = first + "&page=" + fmt.Sprint(page+1)
			}
			continue
		}
		next, err = nextLink(resp.header, base)
		if err != nil {
			return nil, fmt.Errorf("github: GET %s (page %d): %w", path, page, err)
		}
	}
	return all, nil
}

// decodeList decodes a page that is a JSON array.
func decodeList[T any](body []byte) ([]T, error) {
	var items []T
	if err := json.Unmarshal(body, &items); err != nil {
		return nil, err
	}
	return items, nil
}

// nextLink returns the rel="next" URL of a Link header ("" when there is
// none). The URL must be on base's scheme and host.
func nextLink(h http.Header, base *url.URL) (string, error) {
	for _, header := range h.Values("Link") {
		for _, part := range strings.Split(header, ",") {
			target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
			target = strings.TrimSpace(target)
			if !ok || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			if !hasRel(params, "next") {
				continue
			}
			u, err := base.Parse(target[1 : len(target)-1])
			if err != nil {
				return "", fmt.Errorf("bad Link next URL: %w", err)
			}
			if u.Scheme != base.Scheme || u.Host != base.Host {
				return "", errors.New("next-page Link URL points outside the API origin")
			}
			return u.String(), nil
		}
	}
	return "", nil
}

// hasRel reports whether the Link parameters (`; rel="next"; …`) include
// rel value want.
func hasRel(params, want string) bool {
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
			continue
		}
		for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(v), `"`)) {
			if strings.EqualFold(rel, want) {
				return true
			}
		}
	}
	return false
}

// errorf makes an error prefixed with "github: ".
func errorf(format string, args ...any) error {
	return fmt.Errorf("github: "+format, args...)
}
