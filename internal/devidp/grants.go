package devidp

import (
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
)

// Token prefixes make tokens recognizable in logs and test failures.
const (
	prefixCode    = "dc_"
	prefixAccess  = "da_"
	prefixRefresh = "dr_"
	prefixLogin   = "dl_"
)

// grant is one authorization: a user's consent to a client, from which
// codes and tokens derive. Revoking it invalidates all of them.
type grant struct {
	clientID string
	user     User
	scopes   []string
	nonce    string
	authTime time.Time
	revoked  bool
	// sid is the session at the provider in which the user signed in,
	// sent as the ID tokens' sid.
	sid string
}

// authRequest is a validated authorization request.
type authRequest struct {
	client      Client
	redirectURI string
	scopes      []string
	state       string
	nonce       string
	challenge   string
	loginHint   string
}

// loginRequest is an authorization request waiting on the sign-in page.
type loginRequest struct {
	req     authRequest
	expires time.Time
}

// accessToken is an issued bearer token.
type accessToken struct {
	grant   *grant
	scopes  []string
	expires time.Time
}

// sweep forgets expired tokens and sign-in requests (codes are swept as
// they are issued); p.mu must be held.
func (p *Provider) sweep(now time.Time) {
	for k, v := range p.logins {
		if now.After(v.expires) {
			delete(p.logins, k)
		}
	}
	for k, v := range p.access {
		if now.After(v.expires) || v.grant.revoked {
			delete(p.access, k)
		}
	}
	p.refresh.Sweep(now)
	p.sweepSessions(now)
}

// revokeGrant invalidates g and every token issued from it; p.mu must be
// held.
func (p *Provider) revokeGrant(g *grant) {
	g.revoked = true
	for k, v := range p.access {
		if v.grant == g {
			delete(p.access, k)
		}
	}
	p.refresh.All(func(_ string, t *authserver.RefreshToken[*grant]) bool {
		if t.Grant == g {
			t.Rotated = true
		}
		return true
	})
}

// issueCode stores a new authorization code for user's sign-in through req
// in the provider's session sid and returns it; p.mu must be held.
func (p *Provider) issueCode(req authRequest, user User, sid string, now time.Time) string {
	p.sweep(now)
	code := authserver.RandomToken(prefixCode)
	p.codes.Issue(code, &authserver.Code[*grant]{
		ClientID:    req.client.ID,
		RedirectURI: req.redirectURI,
		Challenge:   req.challenge,
		Method:      "S256",
		Expires:     now.Add(p.opts.CodeTTL),
		Grant: &grant{
			clientID: req.client.ID,
			user:     user,
			scopes:   req.scopes,
			nonce:    req.nonce,
			authTime: now,
			sid:      sid,
		},
	}, now)
	return code
}

// issueTokens stores a new access token with scopes and a new refresh
// token for g and returns them; p.mu must be held.
func (p *Provider) issueTokens(g *grant, scopes []string, now time.Time) (access, refresh string) {
	p.sweep(now)
	access = authserver.RandomToken(prefixAccess)
	refresh = authserver.RandomToken(prefixRefresh)
	p.access[access] = &accessToken{grant: g, scopes: scopes, expires: now.Add(p.opts.TokenTTL)}
	p.refresh.Issue(refresh, &authserver.RefreshToken[*grant]{ClientID: g.clientID, Grant: g, Expires: now.Add(p.opts.RefreshTTL)})
	return access, refresh
}

// currentUser returns g's user with the latest registered claims; p.mu must
// be held.
func (p *Provider) currentUser(g *grant) User {
	if u, ok := p.lookupUser(g.user.Username); ok {
		return u.normalize()
	}
	return g.user
}
