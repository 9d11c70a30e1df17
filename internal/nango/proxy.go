package nango

import (
	"errors"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/apiclient"
)

// proxyHeaderPrefix makes Nango forward a header to the provider:
// Nango-Proxy-Accept is sent upstream as Accept.
const proxyHeaderPrefix = "Nango-Proxy-"

// hopByHop are the headers that belong to one connection and are never
// forwarded (RFC 9110 §7.6.1, plus the non-standard Proxy-Connection).
var hopByHop = map[string]bool{
	"Connection":          true,
	"Keep-Alive":          true,
	"Proxy-Authenticate":  true,
	"Proxy-Authorization": true,
	"Proxy-Connection":    true,
	"Te":                  true,
	"Trailer":             true,
	"Transfer-Encoding":   true,
	"Upgrade":             true,
}

// ProxyURL is BaseURL + "/proxy": used as the API base of a GitHub client
// so that GET ProxyURL()+"/user" goes through Nango's proxy.
func (c *Client) ProxyURL() string {
	return c.baseURL() + "/proxy"
}

// ProxyClient returns an *http.Client (timeout like HTTP's, default 10 s)
// for calling the provider through Nango's proxy on behalf of one
// connection. For every request its transport sets
// "Authorization: Bearer <SecretKey>", Connection-Id and
// Provider-Config-Key, and moves the caller's Accept and
// X-GitHub-Api-Version headers (and any other non-hop-by-hop header except
// Authorization, Content-Type, Content-Length and User-Agent) to
// Nango-Proxy-<Header> so that Nango forwards them. Moving them also means
// a caller cannot set Nango's own proxy options (Base-Url-Override, ...).
// A caller-supplied Authorization header is dropped, never forwarded.
//
// The transport refuses (with an error) a request whose URL is not under
// ProxyURL(), or whose path has "." or ".." segments, so the key never
// leaves for another host or another Nango endpoint. Redirects are not
// followed: the 3xx answer is returned as is. An empty connectionID,
// integration or SecretKey makes every request fail.
func (c *Client) ProxyClient(connectionID, integration string) *http.Client {
	t := &proxyTransport{
		base:         http.DefaultTransport,
		key:          c.SecretKey,
		connectionID: connectionID,
		integration:  integration,
	}
	timeout := apiclient.DefaultTimeout
	if c.HTTP != nil {
		timeout = c.HTTP.Timeout
		if c.HTTP.Transport != nil {
			t.base = c.HTTP.Transport
		}
	}
	t.err = checkIDs(connectionID, integration)
	if t.err == nil && c.SecretKey == "" {
		t.err = errors.New("nango: no secret key configured")
	}
	if t.err == nil {
		if _, err := c.checkBaseURL(); err != nil {
			t.err = err
		}
	}
	if t.err == nil {
		// checkBaseURL succeeded, so this parses.
		t.prefix, _ = url.Parse(c.ProxyURL())
	}
	return &http.Client{
		Transport: t,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// proxyTransport adds Nango's proxy headers to requests under prefix.
type proxyTransport struct {
	base         http.RoundTripper
	prefix       *url.URL
	key          string
	connectionID string
	integration  string
	// err, when set, fails every request (bad configuration).
	err error
}

// RoundTrip implements http.RoundTripper.
func (t *proxyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.check(req); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	out := req.Clone(req.Context())
	out.Host = ""
	out.Header = proxyHeaders(req.Header)
	out.Header.Set("Authorization", "Bearer "+t.key)
	out.Header.Set("Connection-Id", t.connectionID)
	out.Header.Set("Provider-Config-Key", t.integration)
	if out.Header.Get("User-Agent") == "" {
		out.Header.Set("User-Agent", apiclient.UserAgent)
	}
	return t.base.RoundTrip(out)
}

// check refuses a request the key must not go with.
func (t *proxyTransport) check(req *http.Request) error {
	if t.err != nil {
		return t.err
	}
	u := req.URL
	if u == nil {
		return errors.New("nango: proxy: request has no URL")
	}
	p := t.prefix
	if !strings.EqualFold(u.Scheme, p.Scheme) || !strings.EqualFold(u.Host, p.Host) ||
		u.User != nil || u.Opaque != "" ||
		(u.Path != p.Path && !strings.HasPrefix(u.Path, p.Path+"/")) {
		return errors.New("nango: proxy: refusing a request whose URL is not under the proxy URL")
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return errors.New("nango: proxy: refusing a path with dot segments")
		}
	}
	return nil
}

// proxyHeaders builds the headers sent to Nango from the caller's: hop-by-hop
// headers (and those the Connection header names), Host and Authorization
// are dropped; Content-Type, Content-Length and User-Agent are kept;
// everything else is renamed Nango-Proxy-<Header>.
func proxyHeaders(in http.Header) http.Header {
	drop := map[string]bool{"Authorization": true, "Host": true}
	for _, v := range in.Values("Connection") {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				drop[textproto.CanonicalMIMEHeaderKey(name)] = true
			}
		}
	}
	out := make(http.Header, len(in)+4)
	for k, vs := range in {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		switch {
		case hopByHop[ck] || drop[ck]:
		case ck == "Content-Type" || ck == "Content-Length" || ck == "User-Agent":
			out[ck] = append([]string(nil), vs...)
		default:
			nk := proxyHeaderPrefix + ck
			out[nk] = append(out[nk], vs...)
		}
	}
	return out
}
