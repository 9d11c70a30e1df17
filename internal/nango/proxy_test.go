package nango

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// callerToken is a token a caller (e.g. a GitHub client) might put in its
// own Authorization header; it must never reach Nango.
const callerToken = "gho_CallerSuppliedTokenMustBeDropped0001"

func TestProxyClientHeaders(t *testing.T) {
	var hits atomic.Int32
	nango := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		h := r.Header
		check := func(name, want string) {
			t.Helper()
			if got := h.Values(name); len(got) != 1 || got[0] != want {
				t.Errorf("%s = %q, want [%q]", name, got, want)
			}
		}
		absent := func(name string) {
			t.Helper()
			if got := h.Values(name); len(got) != 0 {
				t.Errorf("%s = %q, want absent", name, got)
			}
		}
		check("Authorization", "Bearer "+testKey)
		check("Connection-Id", "conn-1")
		check("Provider-Config-Key", "github-app-oauth")
		check("Nango-Proxy-Accept", "application/vnd.github+json")
		check("Nango-Proxy-X-Github-Api-Version", "2022-11-28")
		check("Nango-Proxy-If-None-Match", `W/"abc"`)
		check("Nango-Proxy-Base-Url-Override", "https://evil.example")
		check("Nango-Proxy-Connection-Id", "other-conn")
		check("Nango-Proxy-Nango-Proxy-Authorization", "Bearer "+callerToken)
		check("User-Agent", "go-github/v75")
		absent("Accept")
		absent("X-Github-Api-Version")
		absent("Base-Url-Override")
		absent("Nango-Proxy-Authorization")
		absent("Nango-Proxy-User-Agent")
		absent("X-Hop")
		absent("Nango-Proxy-X-Hop")
		absent("Nango-Proxy-Connection")
		absent("Nango-Proxy-Keep-Alive")
		absent("Nango-Proxy-Te")
		for name, vs := range h {
			for _, v := range vs {
				if strings.Contains(v, callerToken) && name != "Nango-Proxy-Nango-Proxy-Authorization" {
					t.Errorf("caller's token forwarded in %s", name)
				}
			}
		}
		switch r.Method {
		case "GET":
			if r.RequestURI != "/proxy/user/installations?per_page=100&page=2" {
				t.Errorf("request URI = %q", r.RequestURI)
			}
			absent("Content-Type")
		case "POST":
			if r.RequestURI != "/proxy/repos/o/r/issues" {
				t.Errorf("request URI = %q", r.RequestURI)
			}
			check("Content-Type", "application/json")
			absent("Nango-Proxy-Content-Type")
			absent("Nango-Proxy-Content-Length")
			if string(body) != `{"title":"t"}` {
				t.Errorf("body = %q", body)
			}
			if r.ContentLength != int64(len(`{"title":"t"}`)) {
				t.Errorf("Content-Length = %d", r.ContentLength)
			}
		}
		// Nango passes the upstream status and body through.
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"total_count":0,"installations":[]}`)
	}))
	t.Cleanup(nango.Close)

	c := &Client{BaseURL: nango.URL, SecretKey: testKey, HTTP: nango.Client()}
	hc := c.ProxyClient("conn-1", "github-app-oauth")
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/user/installations?per_page=100&page=2", ""},
		{"POST", "/repos/o/r/issues", `{"title":"t"}`},
	} {
		var body io.Reader
		if tc.body != "" {
			body = strings.NewReader(tc.body)
		}
		req, err := http.NewRequest(tc.method, c.ProxyURL()+tc.path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", "application/vnd.github+json")
		req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
		req.Header.Set("Authorization", "token "+callerToken)
		req.Header.Set("User-Agent", "go-github/v75")
		req.Header.Set("If-None-Match", `W/"abc"`)
		req.Header.Set("Base-Url-Override", "https://evil.example")
		req.Header.Set("Connection-Id", "other-conn")
		req.Header.Set("Nango-Proxy-Authorization", "Bearer "+callerToken)
		req.Header.Set("Connection", "X-Hop")
		req.Header.Set("X-Hop", "1")
		req.Header.Set("Keep-Alive", "timeout=5")
		req.Header.Set("Te", "trailers")
		if tc.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		before := req.Header.Clone()
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.method, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || string(got) != `{"total_count":0,"installations":[]}` {
			t.Errorf("%s: response %d %q not passed through", tc.method, resp.StatusCode, got)
		}
		if req.Header.Get("Authorization") != before.Get("Authorization") || req.Header.Get("Accept") != before.Get("Accept") || len(req.Header) != len(before) {
			t.Errorf("%s: caller's request was modified", tc.method)
		}
	}
	if hits.Load() != 2 {
		t.Errorf("Nango got %d requests, want 2", hits.Load())
	}
}

func TestProxyClientDefaultUserAgent(t *testing.T) {
	nango := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ua := r.Header.Get("User-Agent"); ua != "gatehouse" {
			t.Errorf("User-Agent = %q, want gatehouse", ua)
		}
	}))
	t.Cleanup(nango.Close)
	proxyGetUser(t, &Client{BaseURL: nango.URL, SecretKey: testKey})
}

func TestProxyClientRefuses(t *testing.T) {
	var nangoHits, evilHits atomic.Int32
	nango := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { nangoHits.Add(1) }))
	t.Cleanup(nango.Close)
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		evilHits.Add(1)
		if strings.Contains(r.Header.Get("Authorization"), testKey) {
			t.Error("the secret key reached another host")
		}
	}))
	t.Cleanup(evil.Close)

	c := &Client{BaseURL: nango.URL + "/", SecretKey: testKey}
	nangoHost := strings.TrimPrefix(nango.URL, "http://")
	tests := []struct {
		name string
		url  string
	}{
		{"other host", evil.URL + "/proxy/user"},
		{"other scheme", "https://" + nangoHost + "/proxy/user"},
		{"other port", "http://" + strings.Split(nangoHost, ":")[0] + ":1/proxy/user"},
		{"API path", nango.URL + "/connections/conn-1?provider_config_key=github"},
		{"root", nango.URL + "/"},
		{"prefix without slash", nango.URL + "/proxyx/user"},
		{"dot-dot segment", nango.URL + "/proxy/../connections/conn-1"},
		{"escaped dot-dot segment", nango.URL + "/proxy/%2e%2e/connections/conn-1"},
		{"dot segment", nango.URL + "/proxy/./user"},
		{"user info", "http://user:pass@" + nangoHost + "/proxy/user"},
	}
	hc := c.ProxyClient("conn-1", "github")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", tt.url, strings.NewReader("x"))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := hc.Do(req)
			if err == nil {
				resp.Body.Close()
				t.Fatal("want an error")
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("error %q contains the key", err)
			}
		})
	}
	if nangoHits.Load() != 0 || evilHits.Load() != 0 {
		t.Errorf("requests sent: nango %d, other host %d; want none", nangoHits.Load(), evilHits.Load())
	}

	// Exactly the proxy URL is under the proxy URL.
	resp, err := hc.Get(c.ProxyURL())
	if err != nil {
		t.Fatalf("GET ProxyURL(): %v", err)
	}
	resp.Body.Close()
	if nangoHits.Load() != 1 {
		t.Errorf("nango got %d requests, want 1", nangoHits.Load())
	}
}

func TestProxyClientDoesNotFollowRedirects(t *testing.T) {
	var evilHits atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { evilHits.Add(1) }))
	t.Cleanup(evil.Close)
	nango := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, evil.URL+"/steal", http.StatusFound)
	}))
	t.Cleanup(nango.Close)
	resp := proxyGetUser(t, &Client{BaseURL: nango.URL, SecretKey: testKey})
	if resp.StatusCode != http.StatusFound {
		t.Errorf("status = %d, want the 302 itself", resp.StatusCode)
	}
	if evilHits.Load() != 0 {
		t.Error("redirect followed to another host")
	}
}

func TestProxyClientMisconfigured(t *testing.T) {
	var hits atomic.Int32
	nango := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(nango.Close)
	tests := []struct {
		name                      string
		client                    *Client
		connectionID, integration string
	}{
		{"empty connection id", &Client{BaseURL: nango.URL, SecretKey: testKey}, "", "github"},
		{"empty integration", &Client{BaseURL: nango.URL, SecretKey: testKey}, "conn-1", ""},
		{"empty key", &Client{BaseURL: nango.URL}, "conn-1", "github"},
		{"bad base URL", &Client{BaseURL: nango.URL + "?q=1", SecretKey: testKey}, "conn-1", "github"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc := tt.client.ProxyClient(tt.connectionID, tt.integration)
			resp, err := hc.Get(nango.URL + "/proxy/user")
			if err == nil {
				resp.Body.Close()
				t.Fatal("want an error")
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("error %q contains the key", err)
			}
		})
	}
	if hits.Load() != 0 {
		t.Errorf("%d requests sent, want none", hits.Load())
	}
}

func TestProxyClientTimeout(t *testing.T) {
	if got := (&Client{}).ProxyClient("c", "i").Timeout; got != 10*time.Second {
		t.Errorf("default timeout = %v, want 10s", got)
	}
	c := &Client{HTTP: &http.Client{Timeout: 3 * time.Second}}
	if got := c.ProxyClient("c", "i").Timeout; got != 3*time.Second {
		t.Errorf("timeout = %v, want HTTP's 3s", got)
	}
}

func TestProxyClientUsesHTTPTransport(t *testing.T) {
	var used atomic.Bool
	nango := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(nango.Close)
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used.Store(true)
		return http.DefaultTransport.RoundTrip(r)
	})
	proxyGetUser(t, &Client{BaseURL: nango.URL, SecretKey: testKey, HTTP: &http.Client{Transport: rt}})
	if !used.Load() {
		t.Error("Client.HTTP's transport was not used")
	}
}

// proxyGetUser GETs /user through c's proxy client for connection conn-1
// of the github integration and closes the answer's body.
func proxyGetUser(t *testing.T, c *Client) *http.Response {
	t.Helper()
	resp, err := c.ProxyClient("conn-1", "github").Get(c.ProxyURL() + "/user")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

// RoundTrip implements http.RoundTripper.
func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
