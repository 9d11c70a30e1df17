package devidp

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
)

// jsonOut is how the provider writes JSON: application/json, one line.
var jsonOut = authserver.JSON{ContentType: "application/json", Newline: true}

// writeOAuthError sends e as JSON, with the WWW-Authenticate challenge
// RFC 6749 requires for invalid_client.
func (p *Provider) writeOAuthError(w http.ResponseWriter, r *http.Request, e *authserver.Error) {
	p.log.Info("devidp: rejected request", "path", r.URL.Path, "error", e.Code, "description", e.Description)
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="devidp", charset="UTF-8"`)
	}
	jsonOut.WriteError(w, e)
}
