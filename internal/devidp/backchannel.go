package devidp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
)

// Sessions at the provider and OpenID Connect Back-Channel Logout 1.0.
// The provider has no sign-in cookie, so every sign-in starts a session of
// its own, named by the sid of the ID tokens issued in it. When the
// session ends — at the end-session endpoint, from the index page, or
// through [Provider.EndSession] — the provider POSTs a logout token to the
// back-channel logout URI of the client the user signed in to.

// BackchannelLogoutEvent is the member of a logout token's events claim.
const BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// Logout token types (the JOSE header's typ).
const (
	// TypLogoutJWT is the type Back-Channel Logout 1.0 asks for.
	TypLogoutJWT = "logout+jwt"
	// TypJWT is the type Ory Hydra sends.
	TypJWT = "JWT"
)

// logoutTokenTTL is the lifetime (exp − iat) of spec-form logout tokens.
const logoutTokenTTL = 2 * time.Minute

// logoutTimeout bounds each back-channel logout request.
const logoutTimeout = 5 * time.Second

// prefixSession prefixes session ids.
const prefixSession = "ds_"

// Session is a sign-in at the provider.
type Session struct {
	// ID is the session id, the sid of the ID tokens issued in it.
	ID string
	// ClientID is the client the user signed in to.
	ClientID string
	// Username and Subject name the user.
	Username, Subject string
	// Started is when the user signed in.
	Started time.Time

	seq int // start order
}

// ErrUnknownSession is returned by [Provider.EndSession] for a session
// that does not exist (never started, or already ended).
var ErrUnknownSession = errors.New("devidp: no such session")

// LogoutDelivery is one back-channel logout the provider sent.
type LogoutDelivery struct {
	// ClientID and URI are the client and its back-channel logout URI.
	ClientID, URI string
	// Status is the client's answer, 0 when it gave none.
	Status int
	// Err is why the delivery failed: no answer, or a status other than
	// 200 and 204.
	Err error
}

// startSession records a new session for user signing in to clientID and
// returns its id; p.mu must be held.
func (p *Provider) startSession(user User, clientID string, now time.Time) string {
	if p.sessions == nil {
		p.sessions = map[string]*Session{}
	}
	p.sessionSeq++
	s := &Session{
		ID: authserver.RandomToken(prefixSession), ClientID: clientID,
		Username: user.Username, Subject: user.Subject, Started: now, seq: p.sessionSeq,
	}
	p.sessions[s.ID] = s
	return s.ID
}

// sweepSessions forgets sessions older than a refresh token's lifetime,
// by which every token issued in them has expired; p.mu must be held.
func (p *Provider) sweepSessions(now time.Time) {
	for id, s := range p.sessions {
		if now.Sub(s.Started) > p.opts.RefreshTTL {
			delete(p.sessions, id)
		}
	}
}

// Sessions returns the sessions that have not ended, oldest first.
func (p *Provider) Sessions() []Session {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Session, 0, len(p.sessions))
	for _, s := range p.sessions {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b Session) int { return a.seq - b.seq })
	return out
}

// EndSession ends the session sid and sends the back-channel logout of its
// client, when the client registered a URI, before it returns. Tokens
// issued in the session stay valid (revoke them at /revoke). It returns
// the deliveries made (none without a URI), or [ErrUnknownSession].
func (p *Provider) EndSession(ctx context.Context, sid string) ([]LogoutDelivery, error) {
	p.mu.Lock()
	s, ok := p.sessions[sid]
	delete(p.sessions, sid)
	var client Client
	if ok {
		client, _ = p.client(s.ClientID)
	}
	p.mu.Unlock()
	if !ok {
		return nil, ErrUnknownSession
	}
	p.log.Info("devidp: session ended", "sid", sid, "user", s.Username, "client_id", s.ClientID)
	if client.BackchannelLogoutURI == "" {
		return nil, nil
	}
	return []LogoutDelivery{p.sendLogout(ctx, client, *s)}, nil
}

// EndUserSessions ends every session of the user named username
// (case-insensitively) as [Provider.EndSession] does, and returns the
// deliveries made.
func (p *Provider) EndUserSessions(ctx context.Context, username string) ([]LogoutDelivery, error) {
	var out []LogoutDelivery
	for _, s := range p.Sessions() {
		if !strings.EqualFold(s.Username, username) {
			continue
		}
		d, err := p.EndSession(ctx, s.ID)
		if err != nil && !errors.Is(err, ErrUnknownSession) {
			return out, err
		}
		out = append(out, d...)
	}
	return out, nil
}

// SetHydraLogoutTokens switches the form of the logout tokens sent from
// now on (see [Options].HydraLogoutTokens).
func (p *Provider) SetHydraLogoutTokens(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hooks.hydraLogout = on
}

// LogoutTokenClaims returns the claims of a logout token for clientID
// naming the session sid and the user sub ("" leaves either out), issued
// now, in the form the provider sends: Ory Hydra's (aud a list, no sub,
// no exp) with HydraLogoutTokens, else the spec's (exp 2 minutes after
// iat).
func (p *Provider) LogoutTokenClaims(clientID, sid, sub string) map[string]any {
	p.mu.Lock()
	hydra := p.hooks.hydraLogout
	p.mu.Unlock()
	now := p.opts.Now()
	c := map[string]any{
		"iss":    p.issuer,
		"aud":    clientID,
		"iat":    now.Unix(),
		"jti":    authserver.RandomToken(""),
		"events": map[string]any{BackchannelLogoutEvent: map[string]any{}},
	}
	if sid != "" {
		c["sid"] = sid
	}
	if hydra {
		c["aud"] = []string{clientID}
		return c
	}
	if sub != "" {
		c["sub"] = sub
	}
	c["exp"] = now.Add(logoutTokenTTL).Unix()
	return c
}

// LogoutTokenType is the typ of the logout tokens the provider sends:
// TypJWT with HydraLogoutTokens, else TypLogoutJWT.
func (p *Provider) LogoutTokenType() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hooks.hydraLogout {
		return TypJWT
	}
	return TypLogoutJWT
}

// SignLogoutToken signs claims with the current signing key under the
// JOSE header typ ("" leaves it out). Tests can use it to mint logout
// tokens with any claims.
func (p *Provider) SignLogoutToken(claims map[string]any, typ string) (string, error) {
	k := p.keys.signingKey()
	opts := new(jose.SignerOptions)
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.alg), Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid, Algorithm: k.alg}}, opts)
	if err != nil {
		return "", fmt.Errorf("creating %s signer: %w", k.alg, err)
	}
	return signWith(signer, claims)
}

// sendLogout POSTs the logout token of session s to client's back-channel
// logout URI.
func (p *Provider) sendLogout(ctx context.Context, client Client, s Session) LogoutDelivery {
	d := LogoutDelivery{ClientID: client.ID, URI: client.BackchannelLogoutURI}
	token, err := p.SignLogoutToken(p.LogoutTokenClaims(client.ID, s.ID, s.Subject), p.LogoutTokenType())
	if err != nil {
		d.Err = fmt.Errorf("signing the logout token: %w", err)
		p.log.Error("devidp: back-channel logout", "client_id", client.ID, "error", d.Err)
		return d
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), logoutTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URI, strings.NewReader(url.Values{"logout_token": {token}}.Encode()))
	if err != nil {
		d.Err = err
		return d
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.Err = fmt.Errorf("back-channel logout to %s: %w", d.URI, err)
	} else {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		d.Status = resp.StatusCode
		if d.Status != http.StatusOK && d.Status != http.StatusNoContent {
			d.Err = fmt.Errorf("back-channel logout to %s: answered %d", d.URI, d.Status)
		}
	}
	if d.Err != nil {
		p.log.Info("devidp: back-channel logout failed", "client_id", client.ID, "sid", s.ID, "error", d.Err)
	} else {
		p.log.Info("devidp: back-channel logout sent", "client_id", client.ID, "sid", s.ID, "status", d.Status)
	}
	return d
}

// serveEndSession ends the session named by the form's sid, for the index
// page's "End" buttons, and shows the index page again with what
// happened. Only the provider's own pages may post to it.
func (p *Provider) serveEndSession(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodPost) {
		return
	}
	if site := r.Header.Get("Sec-Fetch-Site"); (site != "" && site != "same-origin" && site != "none") ||
		(r.Header.Get("Origin") != "" && !strings.EqualFold(r.Header.Get("Origin"), redirectOrigin(p.issuer))) {
		p.renderError(w, http.StatusForbidden, "This request came from another site",
			"Sessions can be ended only from this provider's own page.", "Origin "+r.Header.Get("Origin"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		p.renderError(w, http.StatusBadRequest, "The form could not be read", "Go back and try again.", err.Error())
		return
	}
	sid := r.PostForm.Get("sid")
	var user string
	for _, s := range p.Sessions() {
		if s.ID == sid {
			user = s.Username
		}
	}
	deliveries, err := p.EndSession(r.Context(), sid)
	if err != nil {
		p.renderIndex(w, "That session had already ended.")
		return
	}
	notice := fmt.Sprintf("Ended %s's session.", user)
	for _, d := range deliveries {
		if d.Err != nil {
			notice += fmt.Sprintf(" The back-channel logout to %s failed: %v.", d.ClientID, d.Err)
		} else {
			notice += fmt.Sprintf(" Back-channel logout sent to %s, which answered %d.", d.ClientID, d.Status)
		}
	}
	if len(deliveries) == 0 {
		notice += " Its application registered no back-channel logout URI, so it was not told."
	}
	p.renderIndex(w, notice)
}
