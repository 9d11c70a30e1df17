package authserver

import (
	"encoding/json"
	"net/http"
)

// Error is an OAuth 2.0 error answer (RFC 6749 §5.2) and the HTTP status
// it is sent with.
type Error struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

// InvalidRequest is a 400 invalid_request error.
func InvalidRequest(desc string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid_request", Description: desc}
}

// InvalidGrant is a 400 invalid_grant error.
func InvalidGrant(desc string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid_grant", Description: desc}
}

// InvalidClient is a 401 invalid_client error.
func InvalidClient(desc string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: "invalid_client", Description: desc}
}

// JSON is how a server writes JSON answers. The zero value writes compact
// JSON as application/json; charset=utf-8.
type JSON struct {
	// ContentType replaces application/json; charset=utf-8.
	ContentType string
	// Indent indents the JSON with this string.
	Indent string
	// Newline ends the body with a newline.
	Newline bool
	// Marshal replaces encoding/json (for servers that must keep key
	// order or JavaScript's escaping).
	Marshal func(any) ([]byte, error)
}

// Write sends v as JSON with status.
func (j JSON) Write(w http.ResponseWriter, status int, v any) {
	var body []byte
	var err error
	switch {
	case j.Marshal != nil:
		body, err = j.Marshal(v)
	case j.Indent != "":
		body, err = json.MarshalIndent(v, "", j.Indent)
	default:
		body, err = json.Marshal(v)
	}
	if err != nil {
		http.Error(w, "encoding response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if j.Newline {
		body = append(body, '\n')
	}
	ct := j.ContentType
	if ct == "" {
		ct = "application/json; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// WriteError sends e as a token endpoint error with j: RFC 6749 §5.1's
// Cache-Control: no-store and Pragma: no-cache.
func (j JSON) WriteError(w http.ResponseWriter, e *Error) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	j.Write(w, e.Status, e)
}
