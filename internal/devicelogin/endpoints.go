package devicelogin

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/kit"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// maxFormBytes bounds the body of every request to the device endpoints:
// a few short fields.
const maxFormBytes = 8 << 10

// endpoints serves device login with the engine's kit.
type endpoints struct {
	s *Service
	k kit.Kit
	m *session.Manager
}

// oauthError answers a device's request with an OAuth error (RFC 6749
// §5.2): {"error": code, "error_description": description}.
func (e *endpoints) oauthError(w http.ResponseWriter, status int, code, description string) {
	body := map[string]string{"error": code}
	if description != "" {
		body["error_description"] = description
	}
	e.k.JSON(w, status, body)
}

// readForm reads r's form body, at most maxFormBytes; false when it
// cannot be read.
func readForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	return r.ParseForm() == nil
}

// userAgent is what a device's session lists as its User-Agent.
func userAgent(client string) string {
	if client == "" {
		return "device"
	}
	return "device: " + client
}
