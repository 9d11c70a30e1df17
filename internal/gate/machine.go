package gate

import (
	"errors"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/provider"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// bearerIdentity verifies the trusted issuer's JWT of a request that has
// no Gatehouse credential. It returns the identity (a session that is
// never stored) and the token; nil when the request carries no such
// token; and answers itself, reporting answered, when the token does not
// verify (401 invalid_token, never let through as a request without one)
// or its issuer cannot be reached (502/504).
func (g *Gate) bearerIdentity(w http.ResponseWriter, r *http.Request) (s *session.Session, raw string, answered bool) {
	if g.Bearer == nil {
		return nil, "", false
	}
	for _, a := range r.Header["Authorization"] {
		if len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
			raw = strings.TrimSpace(a[7:])
			break
		}
	}
	if raw == "" {
		return nil, "", false
	}
	s, ok, err := g.Bearer.Authenticate(r.Context(), raw)
	if !ok {
		return nil, "", false
	}
	if err != nil {
		var pe *provider.Error
		if errors.As(err, &pe) && (pe.Code == provider.CodeTimeout || pe.Code == provider.CodeUnavailable) {
			g.log(r).Warn("bearer token not verified: its issuer is unreachable", zap.Error(err))
			w.Header().Set("Retry-After", "5")
			writeJSON(w, pe.Status, map[string]string{"error": pe.Code, "message": "The token's issuer cannot be reached to verify it; try again shortly."})
			return nil, "", true
		}
		g.log(r).Info("bearer token refused", zap.Error(err))
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse", error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "message": err.Error()})
		return nil, "", true
	}
	return s, raw, false
}
