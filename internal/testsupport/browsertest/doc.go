// Package browsertest drives sign-in flows in tests: Browser, a
// cookie-keeping HTTP client that follows redirects like a browser, and
// headless Chromium through chromedp (Chromium, ChromeRun) where the test
// needs real JavaScript.
package browsertest
