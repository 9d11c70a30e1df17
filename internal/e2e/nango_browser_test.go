package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
)

// TestNangoLoginInBrowser signs in through the Nango Connect UI in a real
// Chromium: the chooser, Gatehouse's connect page (its script under the
// page's strict CSP), the Connect UI in a cross-origin iframe speaking the
// postMessage protocol — closed once, then used — and back on the app
// with the identity headers.
func TestNangoLoginInBrowser(t *testing.T) {
	w := newNangoWorld(t)
	w.load(t, "", "")
	ctx := browsertest.Chromium(t, 60*time.Second)
	shot := browsertest.Screenshotter(t, ctx)
	var text, url string

	// The protected site sends the browser to the chooser; it picks the
	// Nango sign-in.
	browsertest.ChromeRun(t, ctx,
		chromedp.Navigate(site+"/private?x=1"),
		chromedp.WaitVisible(`//a[text()="Continue with GitHub"]`),
	)
	shot("nango-1-chooser")
	browsertest.ChromeRun(t, ctx, chromedp.Click(`//a[text()="Continue with GitHub"]`))

	// The Connect UI opens in a frame; closing it cancels.
	frame := connectFrame(t, ctx)
	browsertest.ChromeRun(t, ctx,
		chromedp.WaitVisible(`#connect-github`, chromedp.ByQuery, chromedp.FromNode(frame)),
	)
	shot("nango-2-connect-ui")
	browsertest.ChromeRun(t, ctx,
		chromedp.Click(`#close`, chromedp.ByQuery, chromedp.FromNode(frame)),
		chromedp.WaitVisible(`#retry`, chromedp.ByQuery),
		chromedp.Text(`#status`, &text, chromedp.ByQuery),
	)
	if !strings.Contains(text, "Cancelled") {
		t.Errorf("after closing the Connect UI the page says %q", text)
	}
	shot("nango-3-cancelled")

	// Try again, and connect.
	browsertest.ChromeRun(t, ctx, chromedp.Click(`#retry`, chromedp.ByQuery))
	frame = connectFrame(t, ctx)
	browsertest.ChromeRun(t, ctx,
		chromedp.WaitVisible(`#connect-github`, chromedp.ByQuery, chromedp.FromNode(frame)),
		chromedp.Click(`#connect-github`, chromedp.ByQuery, chromedp.FromNode(frame)),
		chromedp.WaitVisible(`//*[contains(., "X-Auth-User-Id")]`),
		chromedp.Text("body", &text),
		chromedp.Location(&url),
	)
	shot("nango-4-app")
	if url != site+"/private?x=1" {
		t.Errorf("after sign-in the browser is at %s", url)
	}
	for _, want := range []string{`"X-Auth-User-Id"`, `"github:1001"`, `"X-Auth-Provider"`, `"nango"`, `"alice@acme.example"`} {
		if !strings.Contains(text, want) {
			t.Errorf("the app did not see %s:\n%s", want, text)
		}
	}
}

// connectFrame waits for the Connect UI's iframe on Gatehouse's connect
// page and returns it.
func connectFrame(t *testing.T, ctx context.Context) *cdp.Node {
	t.Helper()
	var nodes []*cdp.Node
	browsertest.ChromeRun(t, ctx,
		chromedp.WaitVisible(`iframe.connect-frame`, chromedp.ByQuery),
		chromedp.Nodes(`iframe.connect-frame`, &nodes, chromedp.ByQuery),
	)
	return nodes[0]
}
