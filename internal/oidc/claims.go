package oidc

import (
	"github.com/gatehouse-auth/gatehouse/internal/provider"
)

// claims are the id_token claims Gatehouse reads.
type claims struct {
	Email             string `json:"email"`
	EmailVerified     any    `json:"email_verified"`
	Name              string `json:"name"`
	PreferredUsername string `json:"preferred_username"`
	Nickname          string `json:"nickname"`
	Picture           string `json:"picture"`
	Groups            any    `json:"groups"`
	// HostedDomain is Google's hd: the Workspace domain of the account.
	HostedDomain string `json:"hd"`
	// AuthorizedParty is azp, the client the token was issued to.
	AuthorizedParty string `json:"azp"`
	// SessionID is sid, the provider's session, which its back-channel
	// logout names.
	SessionID string `json:"sid"`
}

func (c *claims) identity(sub string) *provider.Identity {
	id := &provider.Identity{
		Subject: sub,
		Name:    c.Name,
		Picture: c.Picture,
		Groups:  provider.Strings(c.Groups),
		Session: c.SessionID,
	}
	id.Username = c.PreferredUsername
	if id.Username == "" {
		id.Username = c.Nickname
	}
	if provider.Verified(c.EmailVerified) {
		id.Email, id.EmailVerified = c.Email, true
	}
	return id
}
