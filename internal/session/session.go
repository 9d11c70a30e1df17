// Package session creates, loads and ends Gatehouse sessions.
//
// A session token is 32 random bytes followed by a 16-byte MAC, base64url
// encoded (64 characters). The MAC lets a forged or damaged token be refused
// without asking the store. The store key is the prefix plus the SHA-256 of
// the random part, and the stored value is the session sealed with AES-GCM,
// so neither a store dump nor a store key yields a usable token.
package session

import (
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/identity"
)

// Session is what Gatehouse knows about a signed-in user.
type Session struct {
	// User is the identity: what the upstream is told.
	identity.User
	// CheckedAt is when Groups and Repos were last confirmed with the
	// provider; they are checked again once it is older than the
	// configured interval.
	CheckedAt time.Time `json:"checked,omitzero"`

	// Host is the host the session was issued on; a session is only valid
	// on that host, or within the cookie domain when one is configured.
	Host string `json:"host"`
	// CreatedAt is the login time.
	CreatedAt time.Time `json:"created"`
	// ExpiresAt is the end of the absolute lifetime.
	ExpiresAt time.Time `json:"expires"`

	// Tokens from the provider; stored encrypted with the rest and never
	// sent upstream unless the operator asks for it.
	AccessToken  string    `json:"at,omitempty"`
	RefreshToken string    `json:"rt,omitempty"`
	IDToken      string    `json:"idt,omitempty"`
	TokenExpiry  time.Time `json:"texp,omitzero"`
	// TokenIssued is when AccessToken was obtained.
	TokenIssued time.Time `json:"tiss,omitzero"`
	// TokenRetryAt is when a refresh that failed for a transient reason
	// (the provider unreachable) may be tried again.
	TokenRetryAt time.Time `json:"tretry,omitzero"`

	// IP and UserAgent are the client's address and User-Agent when the
	// session started, shown in the user's list of sessions.
	IP        string `json:"ip,omitempty"`
	UserAgent string `json:"ua,omitempty"`
	// IdPSession is the provider's own session id (the id_token's sid),
	// which an OIDC back-channel logout names.
	IdPSession string `json:"sid,omitempty"`
	// LastSeenAt is when the session was last used, to within SeenEvery.
	LastSeenAt time.Time `json:"seen,omitzero"`
	// Claims are "name=value" claims of a trusted issuer's token passed on
	// as they are (GitHub Actions' ref, workflow, environment); only the
	// never-stored sessions of bearer JWTs have them.
	Claims []string `json:"claims,omitempty"`

	// memo is what the engine derived from this session (see Memo).
	memo *Memo
}
