package pages_test

import (
	"encoding/json"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/pages"
)

// The connect page's script runs under its own policy only if the policy's
// hash is the hash of the script exactly as written into the page, and its
// configuration must survive values that try to break out of the script.
func TestConnectPageScriptAllowedByItsPolicy(t *testing.T) {
	rec := httptest.NewRecorder()
	cfg := pages.ConnectConfig{
		Kind: "login", Session: "/.gatehouse/nango/session", Status: "/.gatehouse/nango/status",
		Connect: "https://connect.example", API: "https://api.example",
		Redirect: `/x?</script><script>alert(1)</script>&"'`,
	}
	if err := pages.RenderConnect(rec, pages.Connect{Brand: pages.Brand{Title: "T"}, Heading: "Sign in with GitHub", Retry: "/again", Config: cfg}); err != nil {
		t.Fatal(err)
	}
	body := rec.Body.String()
	csp := rec.Header().Get("Content-Security-Policy")

	pageScript(t, body, csp, "frame-src https://connect.example", "connect-src 'self'", "default-src 'none'", "frame-ancestors 'none'")

	data := regexp.MustCompile(`(?s)<script type="application/json" id="gatehouse-config">(.*?)</script>`).FindStringSubmatch(body)
	if data == nil {
		t.Fatal("no configuration block")
	}
	var got pages.ConnectConfig
	if err := json.Unmarshal([]byte(data[1]), &got); err != nil {
		t.Fatalf("configuration is not JSON: %v\n%s", err, data[1])
	}
	if got != cfg {
		t.Errorf("configuration = %+v, want %+v", got, cfg)
	}
	if strings.Count(body, "<script") != 2 {
		t.Errorf("the redirect value broke out of its block:\n%s", body)
	}
}

// Other pages run no script at all (the signed-out page's one is tested in
// TestSignedOutPageCleansItsAddress).
func TestOtherPagesRunNoScript(t *testing.T) {
	rec := httptest.NewRecorder()
	pages.RenderChooser(rec, pages.Chooser{Providers: []pages.Provider{{Label: "X", URL: "/x"}}})
	if strings.Contains(rec.Body.String(), "<script") || strings.Contains(rec.Header().Get("Content-Security-Policy"), "script-src") {
		t.Error("the chooser page carries a script or allows one")
	}
}

// The operator's title (after the page's own) and logo appear on every
// page, and the logo's origin is allowed by the page's policy (nothing
// else is).
func TestBrand(t *testing.T) {
	for _, c := range []struct {
		logo, imgSrc string
	}{
		{"", "img-src 'self' data:;"},
		{"/static/logo.svg", "img-src 'self' data:;"},
		{"https://cdn.example.com/acme/logo.png", "img-src 'self' data: https://cdn.example.com;"},
	} {
		rec := httptest.NewRecorder()
		pages.RenderError(rec, pages.Error{Brand: pages.Brand{Title: "Acme <Portal>", Logo: c.logo}, Status: 403, Heading: "No"})
		body, csp := rec.Body.String(), rec.Header().Get("Content-Security-Policy")
		if !strings.Contains(body, "<title>No · Acme &lt;Portal&gt;</title>") {
			t.Errorf("title not set (or not escaped):\n%s", body)
		}
		if c.logo != "" && !strings.Contains(body, `<img class="logo-img" src="`+c.logo+`"`) {
			t.Errorf("logo %q not shown", c.logo)
		}
		if !strings.Contains(csp, c.imgSrc) {
			t.Errorf("logo %q: policy %q lacks %q", c.logo, csp, c.imgSrc)
		}
	}
}

// Only logo URLs an operator may set reach the page.
func TestLogoSchemes(t *testing.T) {
	for logo, shown := range map[string]bool{
		"/static/logo.svg":                   true,
		"https://cdn.example.com/logo.png":   true,
		"data:image/png;base64,iVBORw0KGgo=": true,
		"javascript:alert(1)":                false,
		"//evil.example/logo.png":            false,
		"data:text/html,<script>":            false,
	} {
		rec := httptest.NewRecorder()
		pages.RenderChooser(rec, pages.Chooser{Brand: pages.Brand{Logo: logo}})
		if got := strings.Contains(rec.Body.String(), `class="logo-img"`); got != shown {
			t.Errorf("logo %q shown: %v, want %v", logo, got, shown)
		}
	}
}

// A Connect UI address that is not absolute http(s) renders nothing: the
// page's frame policy would otherwise allow an origin nobody configured.
func TestConnectPageRefusesABadConnectAddress(t *testing.T) {
	for _, addr := range []string{"", "connect.example", "javascript:alert(1)", "/relative"} {
		rec := httptest.NewRecorder()
		err := pages.RenderConnect(rec, pages.Connect{Heading: "H", Config: pages.ConnectConfig{Connect: addr}})
		if err == nil || rec.Body.Len() != 0 || rec.Header().Get("Content-Security-Policy") != "" {
			t.Errorf("%q: err %v, wrote %d bytes", addr, err, rec.Body.Len())
		}
	}
}
