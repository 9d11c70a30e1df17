package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
)

// logoSVG is a small operator logo as a data: URL.
const logoSVG = `data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='120' height='32'%3E%3Crect width='120' height='32' rx='6' fill='%23c0392b'/%3E%3Ctext x='12' y='22' font-family='sans-serif' font-size='16' fill='white'%3EAcme%3C/text%3E%3C/svg%3E`

// TestPagesInBrowser renders Gatehouse's pages in Chromium at a desktop
// and a phone width: the operator's title and logo show, the style sheet
// applies under the strict CSP, nothing scrolls sideways, and the pages
// have the landmarks assistive technology needs. With
// GATEHOUSE_SCREENSHOTS set, each is saved for a look.
func TestPagesInBrowser(t *testing.T) {
	load(t, config{extra: fmt.Sprintf(`provider oidc other {
			issuer %s
			client_id CLIENT_ID
			client_secret %s
			label "Partner login"
		}
		title "Acme sign-in"
		logo "%s"`, idp.URL, clientSecret, logoSVG)})
	ctx := testsupport.Chromium(t, 60*time.Second)
	shot := testsupport.Screenshotter(t, ctx)
	pagesToCheck := []struct{ name, path string }{
		{"chooser", "/.gatehouse/login?rd=/"},
		{"error", "/.gatehouse/callback/corp?error=access_denied&state=x"},
		{"signed-out", "/.gatehouse/logout"},
	}
	for _, width := range []int64{1000, 375} {
		testsupport.ChromeRun(t, ctx, chromedp.EmulateViewport(width, 800))
		for _, p := range pagesToCheck {
			var title string
			var radius string
			var logoWidth, scrollWidth, innerWidth int
			var landmarks bool
			testsupport.ChromeRun(t, ctx,
				chromedp.Navigate(site+p.path),
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
			if title != "Acme sign-in" {
				t.Errorf("%s at %dpx: title %q", p.name, width, title)
			}
			if radius != "12px" {
				t.Errorf("%s at %dpx: the style sheet did not apply (border-radius %q): CSP hash mismatch?", p.name, width, radius)
			}
			if logoWidth == 0 {
				t.Errorf("%s at %dpx: the logo did not load (blocked by the page's img-src?)", p.name, width)
			}
			if scrollWidth > innerWidth {
				t.Errorf("%s at %dpx: the page scrolls sideways (%d > %d)", p.name, width, scrollWidth, innerWidth)
			}
			if !landmarks {
				t.Errorf("%s at %dpx: missing lang, heading, alt text or a labelled control", p.name, width)
			}
			shot(fmt.Sprintf("page-%s-%d", p.name, width))
		}
	}
}
