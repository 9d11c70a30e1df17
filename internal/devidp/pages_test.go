package devidp

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var styleElement = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

// TestPagesAreSelfContained checks every page against its own strict CSP:
// the one stylesheet is allowed by hash, and there are no scripts and no
// external resources.
func TestPagesAreSelfContained(t *testing.T) {
	t.Parallel()
	srv := startIdP(t, func(o *Options) {
		o.Clients = append(o.Clients, Client{ID: "xss", Name: `<script>alert("client")</script>`, RedirectURIs: []string{"http://127.0.0.1:1/x"}})
		o.Users = append(DefaultUsers(), User{Username: "xss", Name: `<img src=x onerror=alert(1)>`, Email: `"><script>@example.com`})
	})
	signIn := validAuthorize()
	signIn.Set("client_id", "xss")
	signIn.Set("redirect_uri", "http://127.0.0.1:1/x")
	bad := validAuthorize()
	bad.Set("redirect_uri", `http://evil.example/"><script>alert(1)</script>`)
	pages := map[string]struct {
		url        string
		wantStatus int
	}{
		"sign-in":    {srv.URL + "/authorize?" + signIn.Encode(), 200},
		"error":      {srv.URL + "/authorize?" + bad.Encode(), 400},
		"signed out": {srv.URL + "/logout", 200},
		"index":      {srv.URL + "/", 200},
	}
	for name, pg := range pages {
		t.Run(name, func(t *testing.T) {
			resp := get(t, pg.url)
			html := body(t, resp)
			if resp.StatusCode != pg.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, pg.wantStatus)
			}
			csp := resp.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
				t.Errorf("CSP = %q", csp)
			}
			m := styleElement.FindAllStringSubmatch(html, -1)
			if len(m) != 1 {
				t.Fatalf("%d <style> elements", len(m))
			}
			sum := sha256.Sum256([]byte(m[0][1]))
			if hash := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, "style-src "+hash) {
				t.Errorf("CSP %q does not allow the page's stylesheet (%s)", csp, hash)
			}
			for _, banned := range []string{"<script", "<img", "<iframe", "<link", "href=", "@import", "url(", ` style="`} {
				if strings.Contains(html, banned) {
					t.Errorf("page contains %q", banned)
				}
			}
			for _, h := range []string{"X-Frame-Options", "Referrer-Policy", "Cache-Control", "X-Content-Type-Options"} {
				if resp.Header.Get(h) == "" {
					t.Errorf("no %s header", h)
				}
			}
			if !strings.HasPrefix(html, "<!doctype html>") {
				t.Errorf("page starts with %.30q", html)
			}
		})
	}
}

func TestSignInPageContent(t *testing.T) {
	t.Parallel()
	srv := startIdP(t, nil)
	resp := get(t, srv.URL+"/authorize?"+validAuthorize().Encode())
	html := body(t, resp)
	for _, want := range []string{
		"Sign in to Test App",
		`aria-label="Sign in as Alice (alice@example.com)"`,
		`aria-label="Sign in as Bob (bob@example.com)"`,
		`name="user" value="eve"`,
		"email unverified",
		`name="username"`,
		`value="deny"`,
		"Returns to <b>127.0.0.1:1</b>",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("sign-in page lacks %q", want)
		}
	}
	if n := strings.Count(html, "email unverified"); n != 1 {
		t.Errorf("%d unverified badges, want 1 (eve)", n)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' http://127.0.0.1:1;") {
		t.Errorf("form-action does not allow the redirect origin: %q", csp)
	}
}

// TestIndexPage checks the page at the issuer URL: a person who opens the
// address the demo prints learns what it is, the discovery URL, the users
// (Eve's email marked unverified, with what that means) and the
// registered applications, instead of a bare 404. Only GET and HEAD are
// served; under an issuer path the page is at the path, and the root
// stays 404.
func TestIndexPage(t *testing.T) {
	t.Parallel()
	srv := startIdP(t, nil)
	resp := get(t, srv.URL+"/")
	html := body(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		"Development identity provider",
		srv.URL + "/.well-known/openid-configuration",
		"Issuer: " + srv.URL,
		"Alice", "alice@example.com", "Bob", "bob@example.com", "Eve", "eve@example.com",
		"email unverified", "<b>email_verified</b> false",
		"Any other username",
		"Test App", appRedirect, spaID, spaRedirect,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("index page lacks %q", want)
		}
	}
	if n := strings.Count(html, `<span class="pill">email unverified</span>`); n != 1 {
		t.Errorf("%d unverified badges, want 1 (eve)", n)
	}
	if resp := postForm(t, srv.URL+"/", url.Values{}, nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d, want 405", resp.StatusCode)
	}

	// No users, and an issuer with a path.
	var p *Provider
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.ServeHTTP(w, r) }))
	t.Cleanup(ts.Close)
	var err error
	p, err = New(Options{Issuer: ts.URL + "/idp", Users: []User{}, Key: testKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/idp", "/idp/"} {
		resp := get(t, ts.URL+path)
		html := body(t, resp)
		if resp.StatusCode != http.StatusOK || !strings.Contains(html, ts.URL+"/idp/.well-known/openid-configuration") || !strings.Contains(html, "No users are listed") {
			t.Errorf("GET %s = %d:\n%s", path, resp.StatusCode, html)
		}
		if strings.Contains(html, "<h2>Applications</h2>") {
			t.Errorf("GET %s lists applications, none registered", path)
		}
	}
	if resp := get(t, ts.URL+"/"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET / outside the issuer path = %d, want 404", resp.StatusCode)
	}
}

func TestCSPSource(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"http://127.0.0.1:8080/cb":     "http://127.0.0.1:8080",
		"https://app.example/cb?x=1":   "https://app.example",
		"com.example.app:/oauth2redir": "com.example.app:",
		"":                             "",
		"/relative":                    "",
	}
	for in, want := range tests {
		if got := cspSource(in); got != want {
			t.Errorf("cspSource(%q) = %q, want %q", in, got, want)
		}
	}
	if got := contentSecurityPolicy(""); !strings.Contains(got, "form-action 'self';") {
		t.Errorf("policy without target = %q", got)
	}
}
