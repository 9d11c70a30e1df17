package devidp

import (
	"crypto/subtle"
	"fmt"
	"mime"
	"net/http"
	"net/url"
)

// authenticateClient identifies the client calling the token or revocation
// endpoint by client_secret_basic, client_secret_post or, for public
// clients, its client_id alone ("none"). r's form must be parsed.
func (p *Provider) authenticateClient(r *http.Request) (Client, *oauthError) {
	form := r.PostForm
	id, secret, basic := r.BasicAuth()
	if basic {
		var err error
		// RFC 6749 section 2.3.1: both parts are form-urlencoded first.
		if id, err = url.QueryUnescape(id); err != nil {
			return Client{}, invalidClient("malformed client_id in the Authorization header")
		}
		if secret, err = url.QueryUnescape(secret); err != nil {
			return Client{}, invalidClient("malformed client secret in the Authorization header")
		}
		if form.Has("client_secret") {
			return Client{}, invalidRequest("the client authenticated with more than one method")
		}
		if form.Has("client_id") && form.Get("client_id") != id {
			return Client{}, invalidClient("client_id in the body differs from the Authorization header")
		}
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
		if id == "" {
			return Client{}, invalidClient("no client authentication: use HTTP Basic, client_secret_post or client_id")
		}
	}

	p.mu.Lock()
	c, ok := p.client(id)
	p.mu.Unlock()
	if !ok {
		return Client{}, invalidClient(fmt.Sprintf("unknown client %q", id))
	}
	if c.public() {
		if secret != "" {
			return Client{}, invalidClient(fmt.Sprintf("client %q is public and has no secret", id))
		}
		return c, nil
	}
	if secret == "" {
		return Client{}, invalidClient(fmt.Sprintf("client %q must authenticate with its secret", id))
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(c.Secret)) != 1 {
		return Client{}, invalidClient(fmt.Sprintf("wrong secret for client %q", id))
	}
	return c, nil
}

// parseTokenForm checks that r is a form POST and parses it, rejecting
// repeated parameters (RFC 6749 section 3.2).
func parseTokenForm(w http.ResponseWriter, r *http.Request) *oauthError {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return &oauthError{Status: http.StatusMethodNotAllowed, Code: "invalid_request", Description: "use POST"}
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return invalidRequest("the body must be application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return invalidRequest("reading the form: " + err.Error())
	}
	for k, v := range r.PostForm {
		if len(v) > 1 {
			return invalidRequest(fmt.Sprintf("parameter %s appears more than once", k))
		}
	}
	return nil
}
