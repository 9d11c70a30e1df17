// Package pages renders Gatehouse's HTML pages: the provider chooser, the
// logout confirmation, the user's sessions, signing a device in, and
// error pages. The pages load nothing from elsewhere; their only style
// sheet is inline and allowed by hash in the Content-Security-Policy sent
// with them.
package pages

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

//go:embed style.css
var style string

//go:embed pages.html
var source string

//go:embed connect.js
var connectScript string

// cleanURLScript drops the query from the signed-out page's address: the
// page is reached as {prefix}/logout?rd=… after a sign-out form, or as
// {prefix}/logout?state=… back from the provider's end-session endpoint,
// and the target it carries is already in the page's Continue link.
const cleanURLScript = `if (location.search || location.hash) history.replaceState(null, "", location.pathname);`

var tmpl = template.Must(template.New("pages").Funcs(template.FuncMap{"when": when, "stamp": stamp}).Parse(source))

// when shows a time on a page, in UTC to the minute: "7 Dec 2026, 22:57
// UTC".
func when(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04 MST") }

// stamp is a time as a <time> element's datetime (RFC 3339).
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// CSP is the Content-Security-Policy sent with every page but the connect
// page.
var CSP = "default-src 'none'; style-src " + hash(style) +
	"; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// ConnectCSP is the Content-Security-Policy of the connect page: besides
// CSP's rules, its one script (by hash), requests to its own origin, and
// the Connect UI's origin in a frame.
func ConnectCSP(connectOrigin string) string {
	return "default-src 'none'; style-src " + hash(style) + "; script-src " + hash(connectScript) +
		"; connect-src 'self'; frame-src " + connectOrigin +
		"; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
}

// Brand is what the operator sets for every page: a name that follows
// each page's own title in the browser tab ("Sign out · Acme") and a logo.
type Brand struct {
	// Title is the operator's name for the pages, appended to each page's
	// title. Default: none (the page's title alone).
	Title string
	// Logo is the URL of an image shown atop every page: a path on the
	// site, an https URL (its origin is allowed by the pages' policy) or
	// a data: URL. Default: a plain mark.
	Logo string
}

// imgSources returns the CSP img-src of b.
func (b Brand) imgSources() string {
	src := "'self' data:"
	if u, err := url.Parse(b.Logo); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		src += " " + u.Scheme + "://" + u.Host
	}
	return src
}

// safeLogo admits the logo URLs an operator may set — a path on the
// site, an http(s) URL, a data:image/ URL other than SVG-as-HTML tricks —
// as a trusted URL (html/template would otherwise blank a data: URL);
// anything else (javascript:, other schemes) is dropped.
func safeLogo(v string) template.URL {
	switch {
	case strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "//"),
		strings.HasPrefix(v, "https://"), strings.HasPrefix(v, "http://"),
		strings.HasPrefix(v, "data:image/"):
		if strings.ContainsAny(v, "\"\n\r") {
			return ""
		}
		return template.URL(v)
	}
	return ""
}

// Provider is one button on the chooser page.
type Provider struct {
	Label string
	URL   string
}

// Chooser is the data of the provider chooser page.
type Chooser struct {
	Brand
	Providers []Provider
}

// Logout is the data of the logout confirmation page.
type Logout struct {
	// FormAction are other origins the sign-out form may end up at (the
	// provider's end-session endpoint, reached by redirect).
	FormAction []string
	Brand
	Action   string
	CSRF     string
	Redirect string
	User     string // empty when not signed in
	Home     string
	// Sessions is the page listing the user's sessions; empty for no
	// link.
	Sessions string
}

// Sessions is the data of the page that lists the signed-in user's
// sessions.
type Sessions struct {
	Brand
	// User is who is signed in, as the sign-out page names them.
	User string
	// Sessions are the user's live sessions, the most recently used
	// first.
	Sessions []Session
	// Others is set when there is a session besides the current one.
	Others bool
	// Base is the sessions page's own path ({prefix}/sessions): a session
	// is ended by a POST to Base/{id}/end, the others by one to
	// Base/end-others.
	Base string
	// CSRF is the token the page's forms echo.
	CSRF string
	// Logout is the sign-out page, where the current session ends.
	Logout string
	// Home is where the page's last link goes.
	Home string
}

// Session is one row of the sessions page.
type Session struct {
	// ID is the session's public handle.
	ID string
	// Current marks the session of the browser showing the page.
	Current bool
	// Provider is the provider signed in with (its label where known).
	Provider string
	// IP and UserAgent are the client's when it signed in.
	IP, UserAgent string
	// Created and LastSeen are when it signed in and was last used.
	Created, LastSeen time.Time
}

// Device is the data of the page where a signed-in person signs a device
// in (OAuth 2.0 Device Authorization Grant).
type Device struct {
	Brand
	// State is what the page shows: "enter" (a form asking for the code
	// the device shows), "confirm" (the device's request, with Approve
	// and Deny), "approved" or "denied" (the outcome).
	State string
	// User is who is signed in, as the sign-out page names them.
	User string
	// Action is the page's own path ({prefix}/device): the code is sent
	// to it as user_code (GET), the decision as a POST of user_code,
	// action (approve or deny) and csrf.
	Action string
	// CSRF is the token the decision form echoes.
	CSRF string
	// Code is the user code, as XXXX-XXXX.
	Code string
	// Client is the name the device gave; empty when it gave none.
	Client string
	// IP is the address the device asked from.
	IP string
	// Requested is when the device asked.
	Requested time.Time
	// Sessions is the page listing the user's sessions; Home where the
	// page's last link goes.
	Sessions, Home string
}

// Error is the data of an error page.
type Error struct {
	Brand
	Status  int
	Heading string
	Message string
	Code    string // machine-readable reason, shown small
	Retry   string // link to try again; empty for none
	Home    string
}

// Connect is the data of the page that drives Nango's Connect UI, for a
// login or for connecting repositories.
type Connect struct {
	Brand
	Heading string
	Intro   string
	// Retry reloads the page.
	Retry  string
	Config ConnectConfig
}

// ConnectConfig tells the page's script where things are.
type ConnectConfig struct {
	// Kind is "login" or "repos".
	Kind string `json:"kind"`
	// Session creates the connect session (GET, answers {"token"}).
	Session string `json:"session"`
	// Status is polled as Status + "/" + connection id.
	Status string `json:"status"`
	// Connect is the Connect UI's base URL, loaded in an iframe.
	Connect string `json:"connect"`
	// API is Nango's API URL, passed to the Connect UI.
	API string `json:"api"`
	// Redirect is passed to Session as rd.
	Redirect string `json:"rd"`
}

// Page titles, shown in the browser tab before the brand.
const (
	titleChooser   = "Sign in"
	titleLogout    = "Sign out"
	titleSignedOut = "Signed out"
	titleSessions  = "Your sessions"
	titleDevice    = "Sign in a device"
)

// title is a page's title followed by the brand, if any: "Sign out ·
// Acme".
func title(name string, b Brand) string {
	switch {
	case b.Title == "" || b.Title == name:
		return name
	case name == "":
		return b.Title
	}
	return name + " · " + b.Title
}

type page struct {
	Title  string
	Logo   template.URL
	Style  template.CSS
	Script template.JS
	Body   string
	Data   any
}

func render(w http.ResponseWriter, status int, body, name string, b Brand, data any) {
	renderCSP(w, status, body, name, b, data, CSP, "")
}

// renderCSP writes the page body (a template) titled name under csp;
// script, if any, runs in the page and csp must allow it.
func renderCSP(w http.ResponseWriter, status int, body, name string, b Brand, data any, csp, script string) {
	csp = strings.Replace(csp, "img-src 'self' data:", "img-src "+b.imgSources(), 1)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", csp)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	// same-origin, not no-referrer: with no-referrer browsers send
	// "Origin: null" on form posts, which the logout CSRF check refuses.
	h.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	_ = write(w, body, title(name, b), b, data, script)
}

// RenderConnect writes the Nango connect page. The Connect UI's origin
// (from c.Config.Connect) is the one frame the page's policy allows; an
// address that is not absolute http(s) is an error and nothing is written.
func RenderConnect(w http.ResponseWriter, c Connect) error {
	u, err := url.Parse(c.Config.Connect)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("pages: the Connect UI address %q is not an absolute http(s) URL", c.Config.Connect)
	}
	renderCSP(w, http.StatusOK, "connect", c.Heading, c.Brand, c, ConnectCSP(u.Scheme+"://"+u.Host), connectScript)
	return nil
}

func write(w io.Writer, body, tabTitle string, b Brand, data any, script string) error {
	return tmpl.ExecuteTemplate(w, "layout", page{Title: tabTitle, Logo: safeLogo(b.Logo), Style: template.CSS(style), Script: template.JS(script), Body: body, Data: data})
}

// RenderChooser writes the provider chooser page.
func RenderChooser(w http.ResponseWriter, c Chooser) {
	render(w, http.StatusOK, "chooser", titleChooser, c.Brand, c)
}

// RenderLogout writes the logout confirmation page ("Sign out") or, when
// l.User is empty, the signed-out page ("Signed out"), which takes the
// query (rd or state) off its address.
func RenderLogout(w http.ResponseWriter, l Logout) {
	csp := CSP
	if len(l.FormAction) > 0 {
		csp = strings.Replace(csp, "form-action 'self'", "form-action 'self' "+strings.Join(l.FormAction, " "), 1)
	}
	if l.User == "" {
		csp = strings.Replace(csp, "; img-src", "; script-src "+hash(cleanURLScript)+"; img-src", 1)
		renderCSP(w, http.StatusOK, "logout", titleSignedOut, l.Brand, l, csp, cleanURLScript)
		return
	}
	renderCSP(w, http.StatusOK, "logout", titleLogout, l.Brand, l, csp, "")
}

// RenderSessions writes the page listing the user's sessions.
func RenderSessions(w http.ResponseWriter, s Sessions) {
	render(w, http.StatusOK, "sessions", titleSessions, s.Brand, s)
}

// RenderDevice writes the page that signs a device in.
func RenderDevice(w http.ResponseWriter, d Device) {
	render(w, http.StatusOK, "device", titleDevice, d.Brand, d)
}

// RenderError writes an error page with e.Status, titled by its heading
// (or the status text).
func RenderError(w http.ResponseWriter, e Error) {
	name := e.Heading
	if name == "" {
		name = http.StatusText(e.Status)
	}
	render(w, e.Status, "error", name, e.Brand, e)
}
