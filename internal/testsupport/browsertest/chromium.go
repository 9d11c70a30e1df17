package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Chromium starts a headless Debian chromium for tb and returns a context
// to drive it with chromedp; everything is torn down when tb ends. Without
// chromium the test is skipped, or fails when GATEHOUSE_REQUIRE_BROWSER=1
// (as in CI).
func Chromium(tb testing.TB, timeout time.Duration) context.Context {
	tb.Helper()
	path := findChromium(tb)
	profile, err := os.MkdirTemp("", "gatehouse-chromium-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = os.RemoveAll(profile) }) // best effort: Chromium may still be exiting
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		// Frames from other sites stay in the page's process, so a test
		// can reach into an embedded (cross-origin) iframe.
		chromedp.Flag("disable-site-isolation-trials", true),
		chromedp.Flag("disable-features", "IsolateOrigins,site-per-process"),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1000, 800),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	tb.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	// Start the browser on the long-lived context: the first Run binds the
	// browser's lifetime to the context it is given.
	if err := chromedp.Run(ctx); err != nil {
		tb.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// ChromeRun performs actions with a bounded wait, and on failure reports
// where the browser is and what it shows.
func ChromeRun(tb testing.TB, ctx context.Context, actions ...chromedp.Action) {
	tb.Helper()
	sub, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Run(sub, actions...); err != nil {
		var url, text string
		_ = chromedp.Run(ctx, chromedp.Location(&url), chromedp.Text("body", &text))
		tb.Fatalf("browser step failed: %v\nat %s showing:\n%s", err, url, text)
	}
}

// ChromeNavigate loads url in the current tab. (chromedp.Navigate waits
// for a frame event that newer Chromium builds do not always send after a
// form post; waiting on the page's content instead is more robust.)
func ChromeNavigate(url string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		_, _, _, _, err := page.Navigate(url).Do(ctx)
		return err
	})
}

// Screenshotter saves PNGs to $GATEHOUSE_SCREENSHOTS when it is set.
func Screenshotter(tb testing.TB, ctx context.Context) func(name string) {
	dir := os.Getenv("GATEHOUSE_SCREENSHOTS")
	return func(name string) {
		if dir == "" {
			return
		}
		var png []byte
		ChromeRun(tb, ctx, chromedp.FullScreenshot(&png, 100))
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// findChromium returns the browser, or skips (fails when CI requires it).
func findChromium(tb testing.TB) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("GATEHOUSE_REQUIRE_BROWSER") == "1" {
		tb.Fatal("chromium is required (GATEHOUSE_REQUIRE_BROWSER=1) but not installed: apt-get install chromium")
	}
	tb.Skip("chromium not installed; skipping the browser test (apt-get install chromium)")
	return ""
}
