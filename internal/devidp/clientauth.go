package devidp

import (
	"fmt"
	"mime"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
)

// authenticateClient identifies the client calling the token or revocation
// endpoint by client_secret_basic, client_secret_post or, for public
// clients, its client_id alone ("none"). r's form must be parsed.
func (p *Provider) authenticateClient(r *http.Request) (Client, *authserver.Error) {
	cred, problem := authserver.ClientCredentials(r, r.PostForm)
	switch {
	case problem == authserver.MalformedBasicID:
		return Client{}, authserver.InvalidClient("malformed client_id in the Authorization header")
	case problem == authserver.MalformedBasicSecret:
		return Client{}, authserver.InvalidClient("malformed client secret in the Authorization header")
	case problem == authserver.TwoMethods:
		return Client{}, authserver.InvalidRequest("the client authenticated with more than one method")
	case problem == authserver.IDMismatch:
		return Client{}, authserver.InvalidClient("client_id in the body differs from the Authorization header")
	case cred.ID == "":
		return Client{}, authserver.InvalidClient("no client authentication: use HTTP Basic, client_secret_post or client_id")
	}
	id, secret := cred.ID, cred.Secret

	p.mu.Lock()
	c, ok := p.client(id)
	p.mu.Unlock()
	if !ok {
		return Client{}, authserver.InvalidClient(fmt.Sprintf("unknown client %q", id))
	}
	if c.public() {
		if secret != "" {
			return Client{}, authserver.InvalidClient(fmt.Sprintf("client %q is public and has no secret", id))
		}
		return c, nil
	}
	if secret == "" {
		return Client{}, authserver.InvalidClient(fmt.Sprintf("client %q must authenticate with its secret", id))
	}
	if !authserver.SecretEqual(secret, c.Secret) {
		return Client{}, authserver.InvalidClient(fmt.Sprintf("wrong secret for client %q", id))
	}
	return c, nil
}

// tokenClient reads the form of a token or revocation request and
// authenticates its client, answering the error when either fails.
func (p *Provider) tokenClient(w http.ResponseWriter, r *http.Request) (Client, bool) {
	e := parseTokenForm(w, r)
	client := Client{}
	if e == nil {
		client, e = p.authenticateClient(r)
	}
	if e != nil {
		p.writeOAuthError(w, r, e)
		return Client{}, false
	}
	return client, true
}

// parseTokenForm checks that r is a form POST and parses it, rejecting
// repeated parameters (RFC 6749 section 3.2).
func parseTokenForm(w http.ResponseWriter, r *http.Request) *authserver.Error {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return &authserver.Error{Status: http.StatusMethodNotAllowed, Code: "invalid_request", Description: "use POST"}
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return authserver.InvalidRequest("the body must be application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return authserver.InvalidRequest("reading the form: " + err.Error())
	}
	for k, v := range r.PostForm {
		if len(v) > 1 {
			return authserver.InvalidRequest(fmt.Sprintf("parameter %s appears more than once", k))
		}
	}
	return nil
}
