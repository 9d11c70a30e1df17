package browsertest

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"
	"time"
)

// Browser is an HTTP client that behaves like a browser for Gatehouse's
// purposes: it keeps cookies (localhost counts as a secure origin, as in
// browsers), sends Accept: text/html, and does not follow redirects on
// its own so tests can look at each hop.
type Browser struct {
	*http.Client
	tb testing.TB
}

// NewBrowser returns a Browser with an empty cookie jar.
func NewBrowser(tb testing.TB) *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{
		tb: tb,
		Client: &http.Client{
			Jar:       jar,
			Transport: http.DefaultTransport.(*http.Transport).Clone(),
			Timeout:   10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}
}

// Get navigates to rawURL like a browser does and returns the response
// (the body is left for the caller to read or close).
func (b *Browser) Get(rawURL string) *http.Response {
	b.tb.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		b.tb.Fatal(err)
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	resp, err := b.Do(req)
	if err != nil {
		b.tb.Fatalf("GET %s: %v", rawURL, err)
	}
	return resp
}

// Hop navigates to rawURL without following a redirect and returns the
// response (its body closed) and its Location (nil when there is none).
func (b *Browser) Hop(rawURL string) (*http.Response, *url.URL) {
	b.tb.Helper()
	resp := b.Get(rawURL)
	resp.Body.Close()
	loc, _ := resp.Location()
	return resp, loc
}

// Follow navigates to rawURL and follows redirects (at most 10), returning
// the final response and the URLs visited.
func (b *Browser) Follow(rawURL string) (*http.Response, []string) {
	b.tb.Helper()
	visited := []string{rawURL}
	resp := b.Get(rawURL)
	for i := 0; i < 10 && resp.StatusCode >= 300 && resp.StatusCode < 400; i++ {
		loc, err := resp.Location()
		if err != nil {
			b.tb.Fatalf("redirect without Location from %s", visited[len(visited)-1])
		}
		resp.Body.Close()
		visited = append(visited, loc.String())
		resp = b.Get(loc.String())
	}
	return resp, visited
}

// Cookie returns the value of the named cookie the browser would send to
// rawURL, or "".
func (b *Browser) Cookie(rawURL, name string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		b.tb.Fatal(err)
	}
	for _, c := range b.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}
