package devidp

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
)

// serveRevoke handles token revocation (RFC 7009). The client must
// authenticate as at the token endpoint. Revoking a refresh token revokes
// its whole grant (every access and refresh token issued from the same
// sign-in); revoking an access token revokes only that token. Unknown
// tokens and tokens of other clients are ignored, and the answer is 200
// either way, so revocation reveals nothing about tokens.
func (p *Provider) serveRevoke(w http.ResponseWriter, r *http.Request) {
	client, ok := p.tokenClient(w, r)
	if !ok {
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		p.writeOAuthError(w, r, authserver.InvalidRequest("token is required"))
		return
	}
	p.mu.Lock()
	if rt := p.refresh.Get(token); rt != nil && rt.ClientID == client.ID {
		p.revokeGrant(rt.Grant)
		p.log.Info("devidp: revoked refresh token and its grant", "client_id", client.ID)
	}
	if at, ok := p.access[token]; ok && at.grant.clientID == client.ID {
		delete(p.access, token)
		p.log.Info("devidp: revoked access token", "client_id", client.ID)
	}
	p.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}
