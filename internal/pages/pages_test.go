package pages_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/pages"
)

var titleTag = regexp.MustCompile(`<title>(.*?)</title>`)

func pageTitle(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	m := titleTag.FindStringSubmatch(rec.Body.String())
	if m == nil {
		t.Fatalf("no <title> in:\n%s", rec.Body.String())
	}
	return m[1]
}

// Every page has a title of its own, followed by the operator's title
// when one is configured ("Sign out · Acme").
func TestPageTitles(t *testing.T) {
	render := map[string]func(w http.ResponseWriter, b pages.Brand){
		"Sign in": func(w http.ResponseWriter, b pages.Brand) {
			pages.RenderChooser(w, pages.Chooser{Brand: b, Providers: []pages.Provider{{Label: "X", URL: "/x"}}})
		},
		"Sign out": func(w http.ResponseWriter, b pages.Brand) {
			pages.RenderLogout(w, pages.Logout{Brand: b, User: "alice", Action: "/.gatehouse/logout", Home: "/"})
		},
		"Signed out": func(w http.ResponseWriter, b pages.Brand) {
			pages.RenderLogout(w, pages.Logout{Brand: b, Home: "/"})
		},
		"Your sessions": func(w http.ResponseWriter, b pages.Brand) {
			pages.RenderSessions(w, pages.Sessions{Brand: b, User: "alice", Base: "/.gatehouse/sessions", Home: "/"})
		},
		"Sign in a device": func(w http.ResponseWriter, b pages.Brand) {
			pages.RenderDevice(w, pages.Device{Brand: b, State: "enter", User: "alice", Action: "/.gatehouse/device", Home: "/"})
		},
		"Access denied": func(w http.ResponseWriter, b pages.Brand) {
			pages.RenderError(w, pages.Error{Brand: b, Status: 403, Heading: "Access denied", Code: "access_denied"})
		},
		"Page not found": func(w http.ResponseWriter, b pages.Brand) {
			pages.RenderError(w, pages.Error{Brand: b, Status: 404, Heading: "Page not found", Code: "not_found"})
		},
		"Bad Gateway": func(w http.ResponseWriter, b pages.Brand) { // no heading: the status text
			pages.RenderError(w, pages.Error{Brand: b, Status: 502})
		},
		"Sign in with GitHub": func(w http.ResponseWriter, b pages.Brand) {
			_ = pages.RenderConnect(w, pages.Connect{Brand: b, Heading: "Sign in with GitHub", Config: pages.ConnectConfig{Connect: "https://connect.example"}})
		},
	}
	for want, f := range render {
		for brand, full := range map[string]string{
			"":           want,
			"Acme":       want + " · Acme",
			"Acme & Co.": want + " · Acme &amp; Co.",
			want:         want, // a brand equal to the page's title is not repeated
		} {
			rec := httptest.NewRecorder()
			f(rec, pages.Brand{Title: brand})
			if got := pageTitle(t, rec); got != full {
				t.Errorf("page %q with title %q: <title> %q, want %q", want, brand, got, full)
			}
		}
	}
}

// The signed-out page, reached as {prefix}/logout?rd=… or ?state=…, takes
// the query off the address bar with one script that its policy allows by
// hash; the Continue link still carries the target. The confirmation page
// runs no script.
func TestSignedOutPageCleansItsAddress(t *testing.T) {
	rec := httptest.NewRecorder()
	pages.RenderLogout(rec, pages.Logout{Home: "/after?x=1", Redirect: "/after?x=1"})
	body, csp := rec.Body.String(), rec.Header().Get("Content-Security-Policy")
	script := pageScript(t, body, csp, "default-src 'none'", "img-src 'self' data:", "form-action 'self'", "frame-ancestors 'none'")
	if !strings.Contains(script, "history.replaceState(null, \"\", location.pathname)") {
		t.Fatalf("signed-out page script %q, want the one that drops the query", script)
	}
	if !strings.Contains(body, `href="/after?x=1"`) {
		t.Errorf("the Continue link lost the target:\n%s", body)
	}

	rec = httptest.NewRecorder()
	pages.RenderLogout(rec, pages.Logout{User: "alice", Action: "/.gatehouse/logout", CSRF: "c", Redirect: "/after", Home: "/after",
		FormAction: []string{"https://idp.example"}})
	if strings.Contains(rec.Body.String(), "<script") || strings.Contains(rec.Header().Get("Content-Security-Policy"), "script-src") {
		t.Error("the sign-out confirmation page carries a script or allows one")
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://idp.example;") {
		t.Errorf("confirmation page policy %q does not let its form reach the provider", csp)
	}
}

// pageScript checks that body runs exactly one inline script, that csp's
// script-src allows it by its hash and nothing else, and that csp has each
// of directives. It returns the script.
func pageScript(t *testing.T, body, csp string, directives ...string) string {
	t.Helper()
	scripts := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindAllStringSubmatch(body, -1)
	if len(scripts) != 1 {
		t.Fatalf("%d executable scripts %q, want 1", len(scripts), scripts)
	}
	sum := sha256.Sum256([]byte(scripts[0][1]))
	if want := "script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "';"; !strings.Contains(csp, want) {
		t.Errorf("policy %q does not allow the page's script (%s)", csp, want)
	}
	for _, want := range directives {
		if !strings.Contains(csp, want) {
			t.Errorf("policy %q lacks %q", csp, want)
		}
	}
	return scripts[0][1]
}

// The sessions page shows what a client sent at its login (its
// User-Agent) as text, whoever chose it; it runs no script, and each
// other session has a form that ends it with the page's CSRF token.
func TestSessionsPage(t *testing.T) {
	at := time.Date(2026, 12, 7, 22, 57, 40, 0, time.FixedZone("CET", 3600))
	rec := httptest.NewRecorder()
	pages.RenderSessions(rec, pages.Sessions{
		User: "alice", Base: "/.gatehouse/sessions", CSRF: "tok&en", Logout: "/.gatehouse/logout", Home: "/", Others: true,
		Sessions: []pages.Session{
			{ID: "current0123456789abcde", Current: true, Provider: "corp", IP: "192.0.2.1", UserAgent: "Firefox", Created: at, LastSeen: at},
			{ID: "other-0123456789abcdef", Provider: "corp", IP: "192.0.2.2", UserAgent: `"><script>alert(1)</script>`, Created: at, LastSeen: at},
		},
	})
	body := rec.Body.String()
	if strings.Contains(body, "<script") || strings.Contains(rec.Header().Get("Content-Security-Policy"), "script-src") {
		t.Errorf("the sessions page carries a script or allows one:\n%s", body)
	}
	for _, want := range []string{
		"&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;",
		`<form method="post" action="/.gatehouse/sessions/other-0123456789abcdef/end">`,
		`<form method="post" action="/.gatehouse/sessions/end-others">`,
		`name="csrf" value="tok&amp;en"`,
		`<time datetime="2026-12-07T21:57:40Z">7 Dec 2026, 21:57 UTC</time>`,
		`this browser`, `href="/.gatehouse/logout"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("sessions page lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, "current0123456789abcde/end") {
		t.Error("the current session has an End form; it is signed out from the sign-out page")
	}
}

// The device page shows what the device sent (its name) as text, runs no
// script, and its decision form carries the code, the CSRF token and the
// two actions; each state has its own heading.
func TestDevicePage(t *testing.T) {
	at := time.Date(2026, 12, 7, 22, 57, 40, 0, time.FixedZone("CET", 3600))
	rec := httptest.NewRecorder()
	pages.RenderDevice(rec, pages.Device{
		State: "confirm", User: "alice", Action: "/.gatehouse/device", CSRF: "tok&en", Code: "BCDF-GHJK",
		Client: `"><script>alert(1)</script>`, IP: "192.0.2.9", Requested: at,
	})
	body := rec.Body.String()
	if strings.Contains(body, "<script") || strings.Contains(rec.Header().Get("Content-Security-Policy"), "script-src") {
		t.Errorf("the device page carries a script or allows one:\n%s", body)
	}
	for _, want := range []string{
		"<h1>Sign in a device?</h1>", "signed in as <strong>alice</strong>",
		"&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;", "192.0.2.9",
		`<time datetime="2026-12-07T21:57:40Z">7 Dec 2026, 21:57 UTC</time>`,
		`<form method="post" action="/.gatehouse/device">`, `name="csrf" value="tok&amp;en"`,
		`name="user_code" value="BCDF-GHJK"`, `name="action" value="approve"`, `name="action" value="deny"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("device page lacks %s:\n%s", want, body)
		}
	}
	for state, want := range map[string]string{
		"enter": `<form method="get" action="/.gatehouse/device">`, "approved": "<h1>Device signed in</h1>",
		"denied": "<h1>Sign-in denied</h1>",
	} {
		rec := httptest.NewRecorder()
		pages.RenderDevice(rec, pages.Device{State: state, User: "alice", Action: "/.gatehouse/device", Sessions: "/.gatehouse/sessions", Home: "/"})
		if body := rec.Body.String(); !strings.Contains(body, want) || strings.Contains(body, `name="action"`) {
			t.Errorf("device page in state %s lacks %s, or has the decision form:\n%s", state, want, body)
		}
	}
}
