// Package pages renders Gatehouse's HTML pages: the provider chooser, the
// logout confirmation, and error pages. The pages load nothing from
// elsewhere; their only style sheet is inline and allowed by hash in the
// Content-Security-Policy sent with them.
package pages

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"html/template"
	"io"
	"net/http"
)

//go:embed style.css
var style string

//go:embed pages.html
var source string

var tmpl = template.Must(template.New("pages").Parse(source))

// CSP is the Content-Security-Policy sent with every page.
var CSP = func() string {
	sum := sha256.Sum256([]byte(style))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
}()

// Provider is one button on the chooser page.
type Provider struct {
	Label string
	URL   string
}

// Chooser is the data of the provider chooser page.
type Chooser struct {
	Title     string
	Providers []Provider
}

// Logout is the data of the logout confirmation page.
type Logout struct {
	Title    string
	Action   string
	CSRF     string
	Redirect string
	User     string // empty when not signed in
	Home     string
}

// Error is the data of an error page.
type Error struct {
	Title   string
	Status  int
	Heading string
	Message string
	Code    string // machine-readable reason, shown small
	Retry   string // link to try again; empty for none
	Home    string
}

type page struct {
	Title string
	Style template.CSS
	Body  string
	Data  any
}

func render(w http.ResponseWriter, status int, body string, title string, data any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", CSP)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	// same-origin, not no-referrer: with no-referrer browsers send
	// "Origin: null" on form posts, which the logout CSRF check refuses.
	h.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	_ = write(w, body, title, data)
}

func write(w io.Writer, body, title string, data any) error {
	if title == "" {
		title = "Sign in"
	}
	return tmpl.ExecuteTemplate(w, "layout", page{Title: title, Style: template.CSS(style), Body: body, Data: data})
}

// RenderChooser writes the provider chooser page.
func RenderChooser(w http.ResponseWriter, c Chooser) {
	render(w, http.StatusOK, "chooser", c.Title, c)
}

// RenderLogout writes the logout confirmation page.
func RenderLogout(w http.ResponseWriter, l Logout) {
	render(w, http.StatusOK, "logout", l.Title, l)
}

// RenderError writes an error page with e.Status.
func RenderError(w http.ResponseWriter, e Error) {
	render(w, e.Status, "error", e.Title, e)
}
