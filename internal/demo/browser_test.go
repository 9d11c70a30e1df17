package demo

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
)

// TestDemoInBrowser drives the demo with a real Chromium: open the site,
// sign in on the development provider's page, see the identity headers
// the app received, sign out through the confirmation page, and find the
// site protected again; then sign in as Eve, whose unverified email never
// reaches the app, and open the identity provider's index page.
func TestDemoInBrowser(t *testing.T) {
	d, _ := startOnFreePort(t, Options{})

	ctx := browsertest.Chromium(t, 30*time.Second)
	var text, url string
	shot := browsertest.Screenshotter(t, ctx)

	// 1. The protected site sends the browser to the provider's sign-in page.
	browsertest.ChromeRun(t, ctx,
		chromedp.Navigate(d.SiteURL+"/"),
		chromedp.WaitVisible(`button[name="user"][value="alice"]`),
		chromedp.Location(&url),
	)
	if !strings.HasPrefix(url, d.IdP.URL) {
		t.Fatalf("not on the provider's page: %s", url)
	}
	shot("1-provider")

	// 2. Signing in as Alice lands on the app with her identity headers.
	browsertest.ChromeRun(t, ctx,
		chromedp.Click(`button[name="user"][value="alice"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//h1[contains(., "Hello")]`),
		chromedp.Text("main", &text),
		chromedp.Location(&url),
	)
	for _, want := range []string{"Hello, alice", "X-Auth-Email", "alice@example.com", "X-Auth-Provider", "dev"} {
		if !strings.Contains(text, want) {
			t.Errorf("app page lacks %q:\n%s", want, text)
		}
	}
	if url != d.SiteURL+"/" {
		t.Errorf("after login the browser is at %s", url)
	}
	shot("2-app")

	// 3. Public pages need no session and carry no identity.
	browsertest.ChromeRun(t, ctx, browsertest.ChromeNavigate(d.SiteURL+"/public/"))
	browsertest.ChromeRun(t, ctx,
		chromedp.WaitVisible(`//h1[text()="Public page"]`),
		chromedp.Text("h1", &text),
	)
	if text != "Public page" {
		shot("public")
		t.Fatalf("public page heading %q", text)
	}

	// 4. Sign out through the confirmation page.
	browsertest.ChromeRun(t, ctx,
		browsertest.ChromeNavigate(d.SiteURL+"/"),
		chromedp.WaitVisible(`//h1[contains(., "Hello")]`),
		chromedp.Click(`a.button`, chromedp.ByQuery),
	)
	sub, subCancel := context.WithTimeout(ctx, 5*time.Second)
	if err := chromedp.Run(sub, chromedp.WaitVisible(`//button[text()="Sign out"]`), chromedp.Text("main", &text)); err != nil {
		var html string
		_ = chromedp.Run(ctx, chromedp.OuterHTML("html", &html), chromedp.Location(&url))
		t.Fatalf("logout page did not show (%v) at %s:\n%s", err, url, html)
	}
	subCancel()
	if !strings.Contains(text, "signed in as alice") {
		t.Errorf("logout page: %s", text)
	}
	shot("3-logout")
	browsertest.ChromeRun(t, ctx,
		chromedp.Click(`button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//h1[text()="You are signed out"]`),
	)
	// Gatehouse's own pages render with their style sheet under the strict
	// CSP (a hash mismatch would leave them unstyled).
	var bg string
	browsertest.ChromeRun(t, ctx, chromedp.Evaluate(`getComputedStyle(document.querySelector("main")).borderRadius`, &bg))
	if bg != "12px" {
		t.Errorf("the page's style sheet was blocked (border-radius %q): CSP hash mismatch?", bg)
	}
	shot("4-signed-out")

	// 5. The site asks for a login again.
	browsertest.ChromeRun(t, ctx,
		chromedp.Click(`a.button`, chromedp.ByQuery), // Continue
		chromedp.WaitVisible(`button[name="user"]`),
		chromedp.Location(&url),
	)
	if !strings.HasPrefix(url, d.IdP.URL) {
		t.Fatalf("after sign-out the site did not ask for a login: %s", url)
	}

	// 6. Eve's email is not verified: the app receives no X-Auth-Email,
	// and says why.
	browsertest.ChromeRun(t, ctx,
		chromedp.Click(`button[name="user"][value="eve"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//h1[contains(., "Hello")]`),
		chromedp.Text("main", &text),
	)
	if !strings.Contains(text, "Hello, eve") || strings.Contains(text, "eve@example.com") || !strings.Contains(text, "No X-Auth-Email?") {
		t.Errorf("Eve's page:\n%s", text)
	}
	shot("5-eve")

	// 7. The identity provider's address, which the demo prints, shows
	// what it is.
	browsertest.ChromeRun(t, ctx, browsertest.ChromeNavigate(d.IdP.URL+"/"))
	browsertest.ChromeRun(t, ctx,
		chromedp.WaitVisible(`//h2[text()="Users"]`),
		chromedp.Text("main", &text),
	)
	for _, want := range []string{d.IdP.URL + "/.well-known/openid-configuration", "alice@example.com", "email unverified", "the Gatehouse demo"} {
		if !strings.Contains(text, want) {
			t.Errorf("identity provider's index lacks %q:\n%s", want, text)
		}
	}
	shot("6-idp-index")
}
