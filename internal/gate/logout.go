package gate

import (
	"net/http"
	"net/url"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/pages"
)

// maxFormBytes bounds the body of a logout POST.
const maxFormBytes = 8 << 10

// serveLogout shows a confirmation page (GET) or ends the session (POST).
// A GET never signs anyone out, so a cross-site link or image cannot.
func (g *Gate) serveLogout(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		g.serveLogoutPage(w, r)
	case http.MethodPost:
		g.serveLogoutPost(w, r)
	default:
		methodNotAllowed(w, "GET, HEAD, POST")
	}
}

func (g *Gate) serveLogoutPage(w http.ResponseWriter, r *http.Request) {
	rd := "/"
	if origin, ok := g.origin(r); ok {
		rd = g.Redirects.Target(r.URL.Query().Get("rd"), origin)
	}
	page := pages.Logout{Title: g.Title, Action: g.Prefix + "/logout", Home: rd, Redirect: rd}
	s, tok, _, out := g.authenticate(r)
	switch out {
	case storeDown:
		g.fail(w, r, errStoreDown)
		return
	case haveSession:
		page.User = displayName(s)
		page.CSRF = g.Sessions.CSRFToken(tok)
	}
	pages.RenderLogout(w, page)
}

// sameOrigin checks the browser-supplied Origin (or Sec-Fetch-Site) of a
// state-changing request. Requests from non-browser clients carry neither
// and pass; they are held to the CSRF token or a bearer token instead.
func (g *Gate) sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		origin, ok := g.origin(r)
		return ok && o == origin.Scheme+"://"+origin.Host
	} else if o == "null" {
		return false
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return true
	}
	return false
}

func (g *Gate) serveLogoutPost(w http.ResponseWriter, r *http.Request) {
	if !g.sameOrigin(r) {
		g.fail(w, r, problem{status: http.StatusForbidden, code: "cross_origin", heading: "Sign-out refused",
			message: "The sign-out request came from another site."})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		g.fail(w, r, problem{status: http.StatusBadRequest, code: "bad_form", heading: "Sign-out refused",
			message: "The sign-out form could not be read."})
		return
	}
	tok, bearer, _ := g.credential(r)
	if tok != "" && !bearer && !g.Sessions.CheckCSRF(tok, r.PostForm.Get("csrf")) {
		g.fail(w, r, problem{status: http.StatusForbidden, code: "invalid_csrf", heading: "Sign-out refused",
			message: "The sign-out form has expired. Please try again.", retry: g.Prefix + "/logout"})
		return
	}
	if tok != "" {
		if err := g.Sessions.Delete(r.Context(), tok); err != nil {
			g.Logger.Warn("cannot end session", zap.Error(err))
			g.fail(w, r, errStoreDown)
			return
		}
		g.Logger.Info("signed out")
	}
	http.SetCookie(w, g.sessionCookie("", 0))
	if bearer || !(wantsHTML(r) || r.Header.Get("Content-Type") == "application/x-www-form-urlencoded") {
		writeJSON(w, http.StatusOK, map[string]bool{"signed_out": true})
		return
	}
	target := "/"
	if origin, ok := g.origin(r); ok {
		target = g.Redirects.Target(r.PostForm.Get("rd"), origin)
	}
	// Land on the signed-out page, which links on to rd. Going straight to
	// rd would, for a protected page, bounce the browser through the
	// provider (which may sign it straight back in) — and browsers block
	// that cross-origin redirect after a form post under form-action 'self'.
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, g.Prefix+"/logout?rd="+url.QueryEscape(target), http.StatusSeeOther)
}
