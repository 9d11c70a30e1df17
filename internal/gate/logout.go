package gate

import (
	"net/http"
	"net/url"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/pages"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// maxFormBytes bounds the body of a logout POST.
const maxFormBytes = 8 << 10

// serveLogout shows a confirmation page (GET) or ends the session (POST;
// with the form field everywhere=1, every session of the user). A GET
// never signs anyone out, so a cross-site link or image cannot.
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
		// Coming back from the provider's end-session endpoint, the
		// target travels in state (post_logout_redirect_uri must be the
		// registered {prefix}/logout exactly); after a sign-out without
		// one, in rd. Either is validated like any rd. The page is
		// answered here, at that address: the signed-out page's script
		// then takes the query off the address bar, its Continue link
		// keeping the target.
		q := r.URL.Query()
		rd = g.Redirects.Target(firstNonEmpty(q.Get("rd"), q.Get("state")), origin)
	}
	page := pages.Logout{Brand: g.Brand, Action: g.Prefix + "/logout", Home: rd, Redirect: rd}
	s, tok, _, out := g.authenticate(r)
	switch out {
	case storeDown:
		g.fail(w, r, errStoreDown)
		return
	case haveSession:
		page.User = s.DisplayName()
		page.CSRF = g.Sessions.CSRFToken(tok)
		page.Sessions = g.Prefix + "/sessions"
		// The form's redirect chain may end at the provider's end-session
		// endpoint; the page's form-action must allow it.
		if u, ok := g.endSessionURL(r, s, "/"); ok {
			if eu, err := url.Parse(u); err == nil {
				page.FormAction = []string{eu.Scheme + "://" + eu.Host}
			}
		}
	}
	pages.RenderLogout(w, page)
}

// endSessionURL is where the browser ends its session at s's provider
// (RP-initiated logout), coming back to the signed-out page and then to
// target; ok is false when the provider has no end-session endpoint.
func (g *Gate) endSessionURL(r *http.Request, s *session.Session, target string) (string, bool) {
	p := g.providers[s.Provider]
	if p == nil || s.IDToken == "" {
		return "", false
	}
	es, ok := p.Auth.(provider.EndSessioner)
	if !ok {
		return "", false
	}
	origin, ok := g.origin(r)
	if !ok {
		return "", false
	}
	return es.EndSessionURL(r.Context(), s.IDToken, origin.Scheme+"://"+origin.Host+g.Prefix+"/logout", target)
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

// endEverywhere ends every session of cur's user ("Sign out everywhere"),
// on every instance, and revokes their provider tokens once each. It
// reports whether cur's own tokens were among those revoked, and how many
// sessions ended, cur included (which the caller deletes in any case);
// false when the store failed.
func (g *Gate) endEverywhere(r *http.Request, cur *session.Session) (revokedCur bool, n int, ok bool) {
	all, err := g.Sessions.EndAll(r.Context(), cur.UserID)
	for _, s := range all {
		g.revokeTokens(s)
		revokedCur = revokedCur || s.AccessToken == cur.AccessToken && s.RefreshToken == cur.RefreshToken
	}
	if err != nil {
		g.log(r).Warn("cannot end the user's sessions", zap.Int("ended", len(all)), zap.Error(err))
		return revokedCur, len(all), false
	}
	g.log(r).Info("signed out everywhere", zap.String("user_id", cur.UserID), zap.Int("ended", len(all)))
	if !revokedCur {
		return false, len(all) + 1, true
	}
	return true, len(all), true
}

// Refusals of a state-changing form (sign-out's, and every feature's
// through the kit's RequireForm).
var (
	errCrossOrigin = problem{status: http.StatusForbidden, code: "cross_origin", heading: "Refused",
		message: "The request came from another site."}
	errBadForm = problem{status: http.StatusBadRequest, code: "bad_form", heading: "Refused",
		message: "The form could not be read."}
)

// errStaleForm is the refusal of a form without its session's CSRF
// token; retry is where a new form is.
func errStaleForm(retry string) problem {
	return problem{status: http.StatusForbidden, code: "invalid_csrf", heading: "Refused",
		message: "The form has expired. Please try again.", retry: retry}
}

// requireForm is kit.RequireForm.
func (g *Gate) requireForm(w http.ResponseWriter, r *http.Request, retry string) (*session.Session, string, bool) {
	if !g.sameOrigin(r) {
		g.fail(w, r, errCrossOrigin)
		return nil, "", false
	}
	s, tok, bearer, ok := g.requireSession(w, r)
	if !ok {
		return nil, "", false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		g.fail(w, r, errBadForm)
		return nil, "", false
	}
	if !bearer && !g.Sessions.CheckCSRF(tok, r.PostForm.Get("csrf")) {
		g.fail(w, r, errStaleForm(retry))
		return nil, "", false
	}
	return s, tok, true
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
	everywhere := r.PostForm.Get("everywhere") == "1"
	var ended *session.Session
	revoked := false
	count := 0
	if tok != "" {
		s, err := g.Sessions.Load(r.Context(), tok)
		if err == nil {
			ended, count = s, 1
		}
		if everywhere && ended != nil {
			var ok bool
			if revoked, count, ok = g.endEverywhere(r, ended); !ok {
				g.fail(w, r, errStoreDown)
				return
			}
		}
		if err := g.Sessions.Delete(r.Context(), tok); err != nil {
			g.log(r).Warn("cannot end session", zap.Error(err))
			g.fail(w, r, errStoreDown)
			return
		}
		g.log(r).Info("signed out")
	}
	if ended != nil && !revoked {
		g.revokeTokens(ended)
	}
	http.SetCookie(w, g.sessionCookie("", 0))
	if bearer || !(wantsHTML(r) || r.Header.Get("Content-Type") == "application/x-www-form-urlencoded") {
		body := map[string]any{"signed_out": true}
		if everywhere {
			body["ended"] = count
		}
		writeJSON(w, http.StatusOK, body)
		return
	}
	target := "/"
	if origin, ok := g.origin(r); ok {
		target = g.Redirects.Target(r.PostForm.Get("rd"), origin)
	}
	if ended != nil {
		// End the session at the provider too; it sends the browser back
		// to the signed-out page with target in state.
		if u, ok := g.endSessionURL(r, ended, target); ok {
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, u, http.StatusSeeOther)
			return
		}
	}
	// Land on the signed-out page, which links on to rd. Going straight to
	// rd would, for a protected page, bounce the browser through the
	// provider (which may sign it straight back in) — and browsers block
	// that cross-origin redirect after a form post under form-action 'self'.
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, g.Prefix+"/logout?rd="+url.QueryEscape(target), http.StatusSeeOther)
}
