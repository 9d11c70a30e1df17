package testsupport

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// NoFollow is an HTTP client that does not follow redirects, for tests
// that look at a fake's redirects themselves.
var NoFollow = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// Do sends req with NoFollow and returns the response and its body; any
// error fails the test.
func Do(tb testing.TB, req *http.Request) (*http.Response, string) {
	tb.Helper()
	resp, err := NoFollow.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp, string(b)
}

// Fetch sends a request with header (a non-empty body as a form) through
// Do.
func Fetch(tb testing.TB, method, rawURL string, header http.Header, body string) (*http.Response, string) {
	tb.Helper()
	req, err := http.NewRequest(method, rawURL, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return Do(tb, req)
}

// Redirected GETs rawURL with NoFollow, fails the test unless the answer
// is a 302, and returns its Location.
func Redirected(tb testing.TB, rawURL string) *url.URL {
	tb.Helper()
	resp, err := NoFollow.Get(rawURL)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		tb.Fatalf("GET %s: %d, want 302", rawURL, resp.StatusCode)
	}
	loc, err := resp.Location()
	if err != nil {
		tb.Fatal(err)
	}
	return loc
}
