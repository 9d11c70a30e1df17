package gate

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/clientip"
	"github.com/gatehouse-auth/gatehouse/internal/identity"
	"github.com/gatehouse-auth/gatehouse/internal/loginstate"
	"github.com/gatehouse-auth/gatehouse/internal/metrics"
	"github.com/gatehouse-auth/gatehouse/internal/pages"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// serveChooser shows the providers, or goes straight to the only one.
func (g *Gate) serveChooser(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET, HEAD")
		return
	}
	rd := r.URL.Query().Get("rd")
	q := ""
	if rd != "" {
		q = "?rd=" + url.QueryEscape(rd)
	}
	c := pages.Chooser{Brand: g.Brand}
	for _, p := range g.Providers {
		c.Providers = append(c.Providers, pages.Provider{Label: p.Label, URL: g.Prefix + "/login/" + p.Name + q})
	}
	for _, p := range g.signIns {
		c.Providers = append(c.Providers, pages.Provider{Label: p.Label, URL: p.URL + q})
	}
	if len(c.Providers) == 1 {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, c.Providers[0].URL, http.StatusFound)
		return
	}
	pages.RenderChooser(w, c)
}

// redirectURI is the provider's redirect_uri: configured, or derived from
// the site's own origin, never from a client-chosen host.
func (g *Gate) redirectURI(p *Provider, origin *url.URL) string {
	if p.RedirectURL != "" {
		return p.RedirectURL
	}
	return origin.Scheme + "://" + origin.Host + g.Prefix + "/callback/" + p.Name
}

// providerRequest checks the method, finds the named provider and the
// site's origin for a login or callback request, answering the request
// itself when one of them is wrong.
func (g *Gate) providerRequest(w http.ResponseWriter, r *http.Request, name, allow string, methods ...string) (*Provider, *url.URL, bool) {
	if !slices.Contains(methods, r.Method) {
		methodNotAllowed(w, allow)
		return nil, nil, false
	}
	p := g.providers[name]
	if p == nil {
		g.fail(w, r, errNotFound)
		return nil, nil, false
	}
	origin, ok := g.origin(r)
	if !ok {
		g.fail(w, r, errUnknownHost)
		return nil, nil, false
	}
	return p, origin, true
}

// serveLoginStart begins a login with one provider.
func (g *Gate) serveLoginStart(w http.ResponseWriter, r *http.Request, name string) {
	p, origin, ok := g.providerRequest(w, r, name, "GET, HEAD", http.MethodGet, http.MethodHead)
	if !ok {
		return
	}
	nonce := loginstate.Random(24)
	redirectURI := g.redirectURI(p, origin)
	binding, state, verifier, ok := g.beginLogin(w, r, loginstate.Pending{
		Owner:       loginstate.Owner{Flow: p.Name},
		Nonce:       nonce,
		Redirect:    g.Redirects.Target(r.URL.Query().Get("rd"), origin),
		RedirectURI: redirectURI,
	})
	if !ok {
		return
	}
	authURL, err := p.Auth.AuthURL(r.Context(), redirectURI, state, nonce, verifier)
	if err != nil {
		g.providerFailed(w, r, p.Name, firstNonEmpty(p.Label, p.Name), g.loginRetry(p, r.URL.Query().Get("rd")), err)
		return
	}
	http.SetCookie(w, g.bindingCookie(binding))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, authURL, http.StatusFound)
}

// beginLogin records a login in progress (the provider's or the GitHub
// App's) for this browser, with a fresh PKCE verifier, and returns the
// browser binding to set as a cookie, the state and the verifier. On
// failure it answers the request itself.
func (g *Gate) beginLogin(w http.ResponseWriter, r *http.Request, p loginstate.Pending) (binding, state, verifier string, ok bool) {
	binding, ok = g.flowBinding(w, r)
	if !ok {
		return "", "", "", false
	}
	p.Verifier = loginstate.Random(48)
	state, err := g.States.Begin(r.Context(), binding, p)
	if err != nil {
		g.log(r).Warn("cannot record login state", zap.Error(err))
		g.fail(w, r, errStoreDown)
		return "", "", "", false
	}
	return binding, state, p.Verifier, true
}

// providerFailed answers for a provider error (unreachable, slow,
// refused exchange, invalid id_token). name is the provider's name, label
// what the user knows it as, retry where a new attempt starts. The cause
// goes to the log (never a token: provider errors hold none), not the
// page. No session is created.
//
// A provider that did not answer gets its own page: 504 provider_timeout
// when a call ran out of time, 502 provider_unavailable when it could not
// be reached or failed with a 5xx; API clients get the code as JSON with
// the retry link as login_url.
func (g *Gate) providerFailed(w http.ResponseWriter, r *http.Request, name, label, retry string, err error) {
	var oe *provider.Error
	if !errors.As(err, &oe) {
		oe = &provider.Error{Code: "login_failed", Status: http.StatusBadGateway, Err: err}
	}
	metrics.Logins.WithLabelValues(name, oe.Code).Inc()
	fields := []zap.Field{zap.String("provider", name), zap.String("reason", oe.Code), zap.Error(oe.Err)}
	switch oe.Code {
	case provider.CodeTimeout, provider.CodeUnavailable:
		if p := g.providers[name]; p != nil {
			fields = append(fields, zap.Duration("timeout", p.callTimeout()))
		}
		g.log(r).Warn("login failed: the provider is not answering", fields...)
		msg := label + " could not be reached or reported an error, so you could not be signed in. This is usually brief: please try again in a moment."
		if oe.Code == provider.CodeTimeout {
			msg = label + " did not answer in time, so you could not be signed in. This is usually brief: please try again in a moment."
		}
		g.fail(w, r, problem{
			status: oe.Status, code: oe.Code, heading: "The sign-in provider is not answering", message: msg,
			retry: retry, relogin: true,
		})
		return
	}
	g.log(r).Warn("login failed", fields...)
	g.fail(w, r, problem{
		status: oe.Status, code: oe.Code, heading: "Sign-in failed",
		message: "The sign-in could not be completed. Please try again.",
		retry:   retry,
	})
}

// loginRetry is where a failed login with p starts again, towards rd.
func (g *Gate) loginRetry(p *Provider, rd string) string {
	u := g.Prefix + "/login/" + p.Name
	if rd != "" {
		u += "?rd=" + url.QueryEscape(rd)
	}
	return u
}

// serveCallback finishes a login: checks the state, redeems the code,
// verifies the identity, and starts a fresh session.
func (g *Gate) serveCallback(w http.ResponseWriter, r *http.Request, name string) {
	p, origin, ok := g.providerRequest(w, r, name, "GET", http.MethodGet)
	if !ok {
		return
	}
	q := r.URL.Query()
	binding := cookieValue(r.Header["Cookie"], g.bindingName)
	pending, err := g.States.Finish(r.Context(), q.Get("state"), binding, p.Name)
	if perr := q.Get("error"); perr != "" {
		// The provider refused (e.g. the user denied consent). The state,
		// if any, has been used up above.
		code := provider.ErrorCode(perr)
		status := http.StatusBadRequest
		if code == "access_denied" {
			status = http.StatusForbidden
		}
		g.log(r).Info("provider returned an error", zap.String("provider", p.Name), zap.String("error", code))
		metrics.Logins.WithLabelValues(p.Name, providerResult(code)).Inc()
		g.fail(w, r, problem{
			status: status, code: code, heading: "Sign-in cancelled",
			message: "The identity provider did not sign you in (" + code + ").",
			retry:   g.Prefix + "/login",
		})
		return
	}
	if err != nil {
		if !loginstate.Refused(err) {
			g.log(r).Warn("cannot read login state", zap.Error(err))
			g.fail(w, r, errStoreDown)
			return
		}
		g.log(r).Info("login state refused", zap.String("provider", p.Name), zap.String("reason", err.Error()))
		metrics.Logins.WithLabelValues(p.Name, "invalid_state").Inc()
		g.fail(w, r, problem{
			status: http.StatusBadRequest, code: "invalid_state", heading: "Sign-in expired",
			message: "This sign-in link is not valid any more: " + err.Error() + ". Please start again.",
			retry:   g.Prefix + "/login",
		})
		return
	}
	code := q.Get("code")
	if code == "" {
		g.fail(w, r, problem{
			status: http.StatusBadRequest, code: "missing_code", heading: "Sign-in failed",
			message: "The identity provider sent no authorization code.", retry: g.Prefix + "/login",
		})
		return
	}
	id, tokens, err := p.Auth.Exchange(r.Context(), code, pending.RedirectURI, pending.Verifier, pending.Nonce)
	if err != nil {
		// The state is spent (single use, like the code): the retry link
		// starts a new login towards the same target.
		g.providerFailed(w, r, p.Name, firstNonEmpty(p.Label, p.Name), g.loginRetry(p, pending.Redirect), err)
		return
	}

	s := &session.Session{
		User:         identity.User{UserID: p.Name + ":" + id.Subject, Login: firstNonEmpty(id.Username, id.Email, id.Subject), Email: id.Email, Name: id.Name, Avatar: id.Picture, Provider: p.Name, Groups: sortedCopy(id.Groups)},
		AccessToken:  tokens.AccessToken,
		RefreshToken: tokens.RefreshToken,
		IDToken:      tokens.IDToken,
		TokenExpiry:  tokens.Expiry,
		TokenIssued:  time.Now(),
		IdPSession:   id.Session,
	}
	if _, ok := g.startSession(w, r, s); !ok {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, g.Redirects.Target(pending.Redirect, origin), http.StatusFound)
}

// startSession ends the session the browser already had, if any (every
// login gets a new id, so a planted cookie is worthless), stores s as a
// new session for this host and sets its cookie. On failure it answers
// the request itself.
func (g *Gate) startSession(w http.ResponseWriter, r *http.Request, s *session.Session) (string, bool) {
	if old := cookieValue(r.Header["Cookie"], g.Cookie.Name); old != "" {
		if err := g.Sessions.Delete(r.Context(), old); err != nil {
			g.log(r).Warn("cannot end the previous session", zap.Error(err))
		}
	}
	s.Host = strings.ToLower(r.Host)
	s.CheckedAt = time.Now()
	s.IP, s.UserAgent = clientip.Of(r), userAgent(r)
	for _, h := range g.loginHooks {
		h.OnLogin(r.Context(), s)
	}
	tok, err := g.Sessions.Create(r.Context(), s)
	if err != nil {
		g.log(r).Warn("cannot create session", zap.Error(err))
		g.fail(w, r, errStoreDown)
		return "", false
	}
	g.log(r).Info("signed in", zap.String("provider", s.Provider), zap.String("user_id", s.UserID))
	metrics.Logins.WithLabelValues(s.Provider, "success").Inc()
	http.SetCookie(w, g.sessionCookie(tok, g.Sessions.Lifetime()))
	return tok, true
}

// maxUserAgent bounds the User-Agent kept with a session, in bytes.
const maxUserAgent = 256

// userAgent is r's User-Agent as a session keeps it: at most maxUserAgent
// bytes of valid UTF-8.
func userAgent(r *http.Request) string {
	ua := r.Header.Get("User-Agent")
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	return strings.ToValidUTF8(ua, "")
}

// providerResult bounds the result label of a provider-sent error code:
// the standard OAuth codes, or "provider_error".
func providerResult(code string) string {
	switch code {
	case "access_denied", "invalid_request", "unauthorized_client", "unsupported_response_type",
		"invalid_scope", "server_error", "temporarily_unavailable", "login_required", "consent_required",
		"interaction_required":
		return code
	}
	return "provider_error"
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

func sortedCopy(v []string) []string {
	if len(v) == 0 {
		return nil
	}
	out := append([]string(nil), v...)
	sort.Strings(out)
	return out
}
