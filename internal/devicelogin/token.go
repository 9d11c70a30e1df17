package devicelogin

import (
	"errors"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/loginstate"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// TokenResponse is the answer to an approved device's poll (RFC 6749
// §5.1).
type TokenResponse struct {
	// AccessToken is a Gatehouse session token, sent as "Authorization:
	// Bearer".
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	// ExpiresIn is what is left of the session's absolute lifetime, in
	// seconds.
	ExpiresIn int `json:"expires_in"`
}

// serveToken answers POST {prefix}/device/token, the device's poll: an
// error of RFC 8628 §3.5 (400) until the person decides, then the session
// token, or access_denied, once.
func (e *endpoints) serveToken(w http.ResponseWriter, r *http.Request, _ string) {
	if r.Method != http.MethodPost {
		e.k.MethodNotAllowed(w, "POST")
		return
	}
	if !readForm(w, r) {
		e.oauthError(w, http.StatusBadRequest, "invalid_request", "the form could not be read")
		return
	}
	switch gt := r.PostForm.Get("grant_type"); {
	case gt == "":
		e.oauthError(w, http.StatusBadRequest, "invalid_request", "grant_type is missing")
		return
	case gt != GrantType:
		e.oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "the grant_type must be "+GrantType)
		return
	}
	deviceCode := r.PostForm.Get("device_code")
	if deviceCode == "" {
		e.oauthError(w, http.StatusBadRequest, "invalid_request", "device_code is missing")
		return
	}
	ctx := r.Context()
	var g grant
	switch err := e.s.grants.Get(ctx, deviceCode, &g); {
	case errors.Is(err, loginstate.ErrUnknownState):
		e.oauthError(w, http.StatusBadRequest, "invalid_grant", "the device code is unknown or was used already")
		return
	case err != nil:
		e.k.Log(r).Warn("cannot read a device code", zap.Error(err))
		e.k.StoreDown(w, r)
		return
	}
	if time.Since(g.Created) > e.s.opts.Lifetime {
		e.oauthError(w, http.StatusBadRequest, "expired_token", "the device code expired; ask for a new one")
		return
	}
	device := hashHex(deviceCode)
	switch slow, err := e.s.pace(ctx, device); {
	case err != nil:
		e.k.Log(r).Warn("cannot pace a device's polls", zap.Error(err))
		e.k.StoreDown(w, r)
		return
	case slow:
		e.oauthError(w, http.StatusBadRequest, "slow_down", "polled too soon; wait 5 seconds longer between polls from now on")
		return
	}
	var d decision
	switch err := e.s.decisions.Get(ctx, device, &d); {
	case errors.Is(err, loginstate.ErrUnknownState):
		e.oauthError(w, http.StatusBadRequest, "authorization_pending", "")
		return
	case err != nil:
		e.k.Log(r).Warn("cannot read a device login's decision", zap.Error(err))
		e.k.StoreDown(w, r)
		return
	}
	// Decided: of the polls that got this far, one uses the code up and
	// gets the answer; the others find it used.
	switch err := e.s.grants.Claim(ctx, deviceCode, &g); {
	case errors.Is(err, loginstate.ErrUnknownState):
		e.oauthError(w, http.StatusBadRequest, "invalid_grant", "the device code is unknown or was used already")
		return
	case err != nil:
		e.k.Log(r).Warn("cannot use up a device code", zap.Error(err))
		e.k.StoreDown(w, r)
		return
	}
	e.s.forget(ctx, device)
	if !d.Approved {
		e.k.Log(r).Info("device login denied")
		e.oauthError(w, http.StatusBadRequest, "access_denied", "the sign-in was denied")
		return
	}
	s, err := e.m.Reload(ctx, d.Token)
	switch {
	case errors.Is(err, session.ErrNoSession), errors.Is(err, session.ErrMalformed):
		e.k.Log(r).Info("device login approved, but its session ended before the device collected it", zap.String("user_id", d.UserID))
		e.oauthError(w, http.StatusBadRequest, "access_denied", "the session was ended before the device collected it")
		return
	case err != nil:
		e.k.Log(r).Warn("cannot read a device's session", zap.Error(err))
		e.k.StoreDown(w, r)
		return
	}
	e.k.Log(r).Info("device signed in", zap.String("user_id", s.UserID))
	w.Header().Set("Pragma", "no-cache")
	e.k.JSON(w, http.StatusOK, TokenResponse{
		AccessToken: d.Token, TokenType: "Bearer", ExpiresIn: max(int(time.Until(s.ExpiresAt)/time.Second), 0),
	})
}
