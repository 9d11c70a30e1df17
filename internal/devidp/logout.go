package devidp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// logoutLead explains a refused sign-out request to people.
const logoutLead = "The identity provider refused to sign you out through this link and did not send you back to the application."

// serveLogout handles RP-initiated logout (OpenID Connect RP-Initiated
// Logout 1.0). With an id_token_hint it ends the session the ID token was
// issued in (its sid), sending the client's back-channel logout before it
// answers; it leaves issued tokens alone (revoke them at /revoke). It
// shows a "signed out" page, or redirects to post_logout_redirect_uri
// (adding state) when that URI's origin is the origin of one of the
// client's redirect URIs. The client is named by client_id or by the
// audience of id_token_hint, which must be an ID token this provider
// signed (expired ones are accepted).
func (p *Provider) serveLogout(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		p.renderError(w, http.StatusBadRequest, "The sign-out request could not be read", logoutLead, err.Error())
		return
	}
	clientID := r.Form.Get("client_id")
	var sid string
	if hint := r.Form.Get("id_token_hint"); hint != "" {
		aud, hintSID, err := p.hintAudience(hint)
		if err != nil {
			p.log.Info("devidp: rejected logout", "reason", err)
			p.renderError(w, http.StatusBadRequest, "This sign-out link is not valid", logoutLead, "The id_token_hint was not issued by this provider: "+err.Error())
			return
		}
		if clientID != "" && clientID != aud {
			p.renderError(w, http.StatusBadRequest, "This sign-out link is not valid", logoutLead, fmt.Sprintf("client_id %q does not match the id_token_hint audience %q.", clientID, aud))
			return
		}
		clientID, sid = aud, hintSID
	}
	if sid != "" {
		if _, err := p.EndSession(r.Context(), sid); err != nil && !errors.Is(err, ErrUnknownSession) {
			p.log.Info("devidp: ending the session", "sid", sid, "error", err)
		}
	}

	var note string
	if target := r.Form.Get("post_logout_redirect_uri"); target != "" {
		p.mu.Lock()
		client, ok := p.client(clientID)
		p.mu.Unlock()
		switch {
		case clientID == "":
			note = "Not returning to the application: the request named no client (send client_id or id_token_hint)."
		case !ok:
			p.renderError(w, http.StatusBadRequest, "This sign-out link is not valid", logoutLead, fmt.Sprintf("No client with ID %q is registered.", clientID))
			return
		case !logoutTargetAllowed(client, target):
			note = fmt.Sprintf("Not returning to %s: its origin is not one of client %q's redirect URI origins.", target, clientID)
		default:
			p.log.Info("devidp: signed out", "client_id", clientID, "redirect", target)
			p.redirect(w, r, target, url.Values{"state": {r.Form.Get("state")}})
			return
		}
		p.log.Info("devidp: logout redirect refused", "client_id", clientID, "post_logout_redirect_uri", target)
	}
	p.renderSignedOut(w, note)
}

// logoutTargetAllowed reports whether target is an absolute http(s) URL
// without a fragment whose origin is that of one of c's redirect URIs.
func logoutTargetAllowed(c Client, target string) bool {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" || u.User != nil {
		return false
	}
	origin := redirectOrigin(target)
	for _, r := range c.RedirectURIs {
		if strings.EqualFold(redirectOrigin(r), origin) {
			return true
		}
	}
	return false
}

// hintAudience verifies that hint is an ID token signed by one of the
// published keys for this issuer and returns its single audience and its
// sid ("" without one). The expiry is not checked.
func (p *Provider) hintAudience(hint string) (aud, sid string, err error) {
	jws, err := jose.ParseSigned(hint, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(p.opts.SigningAlg)})
	if err != nil {
		return "", "", fmt.Errorf("parsing: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return "", "", errors.New("not exactly one signature")
	}
	kid := jws.Signatures[0].Header.KeyID
	var payload []byte
	for _, k := range p.keys.all() {
		if k.kid == kid {
			if payload, err = jws.Verify(k.priv.Public()); err != nil {
				return "", "", fmt.Errorf("verifying: %w", err)
			}
		}
	}
	if payload == nil {
		return "", "", fmt.Errorf("no published key has kid %q", kid)
	}
	var claims struct {
		Iss string          `json:"iss"`
		Aud json.RawMessage `json:"aud"`
		Sid string          `json:"sid"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", "", fmt.Errorf("decoding claims: %w", err)
	}
	if claims.Iss != p.issuer {
		return "", "", fmt.Errorf("issuer %q is not %q", claims.Iss, p.issuer)
	}
	if err := json.Unmarshal(claims.Aud, &aud); err != nil {
		var auds []string
		if err := json.Unmarshal(claims.Aud, &auds); err != nil || len(auds) != 1 {
			return "", "", errors.New("aud is not a single client ID")
		}
		aud = auds[0]
	}
	return aud, claims.Sid, nil
}
