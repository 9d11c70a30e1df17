package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
)

// logoSVG is a small operator logo as a data: URL.
const logoSVG = `data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='120' height='32'%3E%3Crect width='120' height='32' rx='6' fill='%23c0392b'/%3E%3Ctext x='12' y='22' font-family='sans-serif' font-size='16' fill='white'%3EAcme%3C/text%3E%3C/svg%3E`

// TestPagesInBrowser renders Gatehouse's pages in Chromium at a desktop
// and a phone width: each page has its own title followed by the
// operator's, the operator's logo shows, the style sheet applies under the
// strict CSP, nothing scrolls sideways, and the pages have the landmarks
// assistive technology needs. Then it signs in and out through the
// provider's end-session endpoint: the signed-out page ends at a clean
// {prefix}/logout, its Continue link keeping the target. With
// GATEHOUSE_SCREENSHOTS set, each page is saved for a look.
func TestPagesInBrowser(t *testing.T) {
	// allow user bob: the development provider signs alice in, who then
	// gets the "Access denied" page.
	load(t, config{extra: fmt.Sprintf(`provider oidc other {
			issuer %s
			client_id CLIENT_ID
			client_secret %s
			label "Partner login"
		}
		allow user bob
		title "Acme"
		logo "%s"`, idp.URL, clientSecret, logoSVG)})
	ctx := browsertest.Chromium(t, 90*time.Second)
	shot := browsertest.Screenshotter(t, ctx)

	// check checks the page on screen, whose title must be want.
	check := func(name string, width int64, want string) {
		t.Helper()
		var title, radius string
		var logoWidth, scrollWidth, innerWidth int
		var landmarks bool
		browsertest.ChromeRun(t, ctx,
			chromedp.WaitVisible("main h1", chromedp.ByQuery),
			chromedp.Title(&title),
			chromedp.Evaluate(`getComputedStyle(document.querySelector("main")).borderRadius`, &radius),
			chromedp.Poll(`document.querySelector("img.logo-img") && document.querySelector("img.logo-img").complete`, nil),
			chromedp.Evaluate(`document.querySelector("img.logo-img").naturalWidth`, &logoWidth),
			chromedp.Evaluate(`document.documentElement.scrollWidth`, &scrollWidth),
			chromedp.Evaluate(`window.innerWidth`, &innerWidth),
			chromedp.Evaluate(`document.documentElement.lang === "en" && !!document.querySelector("main h1") &&
				[...document.querySelectorAll("img")].every(i => i.hasAttribute("alt")) &&
				[...document.querySelectorAll("a, button")].every(e => e.textContent.trim() !== "")`, &landmarks),
		)
		if title != want {
			t.Errorf("%s at %dpx: title %q, want %q", name, width, title, want)
		}
		if radius != "12px" {
			t.Errorf("%s at %dpx: the style sheet did not apply (border-radius %q): CSP hash mismatch?", name, width, radius)
		}
		if logoWidth == 0 {
			t.Errorf("%s at %dpx: the logo did not load (blocked by the page's img-src?)", name, width)
		}
		if scrollWidth > innerWidth {
			t.Errorf("%s at %dpx: the page scrolls sideways (%d > %d)", name, width, scrollWidth, innerWidth)
		}
		if !landmarks {
			t.Errorf("%s at %dpx: missing lang, heading, alt text or a labelled control", name, width)
		}
		shot(fmt.Sprintf("page-%s-%d", name, width))
	}

	pagesToCheck := []struct{ name, path, title string }{
		{"chooser", "/.gatehouse/login?rd=/", "Sign in · Acme"},
		{"error", "/.gatehouse/callback/corp?error=access_denied&state=x", "Sign-in cancelled · Acme"},
		{"not-found", "/.gatehouse/no-such-page", "Page not found · Acme"},
		{"signed-out", "/.gatehouse/logout", "Signed out · Acme"},
	}
	for _, width := range []int64{1000, 375} {
		browsertest.ChromeRun(t, ctx, chromedp.EmulateViewport(width, 800))
		for _, p := range pagesToCheck {
			browsertest.ChromeRun(t, ctx, chromedp.Navigate(site+p.path))
			check(p.name, width, p.title)
		}
	}

	// Signed in (as alice, whom the allow rule refuses): the access
	// denied page, then the sign-out confirmation.
	browsertest.ChromeRun(t, ctx, chromedp.EmulateViewport(1000, 800))
	browsertest.ChromeRun(t, ctx,
		browsertest.ChromeNavigate(site+"/.gatehouse/login/corp?rd=/"),
		chromedp.WaitVisible(`//h1[text()="Access denied"]`),
	)
	check("access-denied", 1000, "Access denied · Acme")

	// The user's sessions, two of them signed in elsewhere, one with a
	// long User-Agent that must not widen the page. An End button and
	// "Sign out all other sessions" post from the page as Chromium sends
	// forms (Origin, Sec-Fetch-Site), and come back to the page.
	var elsewhere []string
	for _, agent := range []string{"Mozilla/5.0 " + strings.Repeat("AVeryLongProductToken/1.0;", 12), "Tablet/1.0"} {
		b := browsertest.NewBrowser(t)
		b.Transport = agentTransport{agent, b.Transport}
		resp, _ := b.Follow(site + "/.gatehouse/login/corp?rd=/")
		resp.Body.Close()
		elsewhere = append(elsewhere, b.Cookie(site, cookieName))
	}
	for _, width := range []int64{1000, 375} {
		browsertest.ChromeRun(t, ctx, chromedp.EmulateViewport(width, 800), chromedp.Navigate(site+"/.gatehouse/sessions"))
		check("sessions", width, "Your sessions · Acme")
	}
	browsertest.ChromeRun(t, ctx, chromedp.EmulateViewport(1000, 800))
	var before int
	browsertest.ChromeRun(t, ctx, chromedp.Evaluate(`document.querySelectorAll("li.session").length`, &before))
	if before < 3 {
		t.Fatalf("%d sessions on the page, want at least 3", before)
	}
	// Each post comes back to the page (a new document) with one session
	// fewer, then with this browser's only.
	shows := func(cond string) {
		t.Helper()
		testsupport.WaitFor(t, 10*time.Second, "the sessions page did not come back with "+cond, func() bool {
			var ok bool
			sub, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			return chromedp.Run(sub, chromedp.Evaluate(cond, &ok)) == nil && ok
		})
	}
	browsertest.ChromeRun(t, ctx, chromedp.Click(`li.session form button`, chromedp.ByQuery))
	shows(fmt.Sprintf(`document.querySelectorAll("li.session").length === %d`, before-1))
	browsertest.ChromeRun(t, ctx, chromedp.Click(`//button[text()="Sign out all other sessions"]`))
	shows(`document.querySelectorAll("li.session").length === 1 && !!document.querySelector("li.session .tag")`)
	for _, tok := range elsewhere {
		if code := status(t, request(t, "GET", "/.gatehouse/userinfo", tok, nil, "")); code != http.StatusUnauthorized {
			t.Errorf("a session signed in elsewhere still works after ending the others: %d", code)
		}
	}
	browsertest.ChromeRun(t, ctx,
		browsertest.ChromeNavigate(site+"/.gatehouse/logout?rd=/after"),
		chromedp.WaitVisible(`//button[text()="Sign out"]`),
	)
	check("sign-out", 1000, "Sign out · Acme")

	// Signing out goes through the provider's end-session endpoint, which
	// sends the browser back to {prefix}/logout?state=%2Fafter; the page
	// takes the query off the address and keeps /after in its link.
	var location, cont string
	endSessions := idp.Provider.Requests("/logout")
	browsertest.ChromeRun(t, ctx,
		chromedp.Click(`button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//h1[text()="You are signed out"]`),
	)
	sub, cancel := context.WithTimeout(ctx, 5*time.Second)
	err := chromedp.Run(sub, chromedp.Poll(`location.search === "" && location.hash === ""`, nil))
	cancel()
	browsertest.ChromeRun(t, ctx,
		chromedp.Location(&location),
		chromedp.AttributeValue(`main a.button`, "href", &cont, nil, chromedp.ByQuery),
	)
	if err != nil || location != site+"/.gatehouse/logout" {
		t.Errorf("after signing out the address bar shows %s, want %s/.gatehouse/logout (%v)", location, site, err)
	}
	if cont != "/after" {
		t.Errorf("the signed-out page's Continue link goes to %q, want /after", cont)
	}
	check("signed-out-after-sign-out", 1000, "Signed out · Acme")
	if idp.Provider.Requests("/logout") == endSessions {
		t.Error("the sign-out did not go through the provider's end-session endpoint")
	}
}
