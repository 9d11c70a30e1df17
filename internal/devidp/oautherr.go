package devidp

import (
	"encoding/json"
	"net/http"
)

// oauthError is an OAuth 2.0 error response (RFC 6749 section 5.2) and the
// HTTP status it is sent with.
type oauthError struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Description }

// invalidRequest is a 400 invalid_request error.
func invalidRequest(desc string) *oauthError {
	return &oauthError{Status: http.StatusBadRequest, Code: "invalid_request", Description: desc}
}

// invalidGrant is a 400 invalid_grant error.
func invalidGrant(desc string) *oauthError {
	return &oauthError{Status: http.StatusBadRequest, Code: "invalid_grant", Description: desc}
}

// invalidClient is a 401 invalid_client error.
func invalidClient(desc string) *oauthError {
	return &oauthError{Status: http.StatusUnauthorized, Code: "invalid_client", Description: desc}
}

// writeOAuthError sends e as JSON, with the WWW-Authenticate challenge
// RFC 6749 requires for invalid_client.
func (p *Provider) writeOAuthError(w http.ResponseWriter, r *http.Request, e *oauthError) {
	p.log.Info("devidp: rejected request", "path", r.URL.Path, "error", e.Code, "description", e.Description)
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="devidp", charset="UTF-8"`)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, e.Status, e)
}

// writeJSON sends v as a JSON response with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
