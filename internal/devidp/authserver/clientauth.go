package authserver

import (
	"net/http"
	"net/url"
)

// Client authentication methods of a token request.
const (
	AuthBasic = "client_secret_basic"
	AuthPost  = "client_secret_post"
)

// Credentials are the client identification of a token request.
type Credentials struct {
	ID, Secret string
	// Method is AuthBasic or AuthPost (also for a client_id alone).
	Method string
}

// CredentialsProblem is why a token request's client identification is
// malformed.
type CredentialsProblem int

// The problems of ClientCredentials.
const (
	CredentialsOK    CredentialsProblem = iota
	MalformedBasicID                    // the Basic user is not form-urlencoded
	MalformedBasicSecret
	TwoMethods // Basic and client_secret in the body (RFC 6749 §2.3: MUST NOT)
	IDMismatch // client_id in the body differs from the Basic user
)

// ClientCredentials reads the client of a token request from an
// Authorization: Basic header, whose parts are form-urlencoded first (RFC
// 6749 §2.3.1), or else from client_id and client_secret in form (the
// request's parameters). It does not look the client up.
func ClientCredentials(r *http.Request, form url.Values) (Credentials, CredentialsProblem) {
	id, secret, basic := r.BasicAuth()
	if !basic {
		return Credentials{ID: form.Get("client_id"), Secret: form.Get("client_secret"), Method: AuthPost}, CredentialsOK
	}
	var err error
	c := Credentials{Method: AuthBasic}
	if c.ID, err = url.QueryUnescape(id); err != nil {
		return c, MalformedBasicID
	}
	if c.Secret, err = url.QueryUnescape(secret); err != nil {
		return c, MalformedBasicSecret
	}
	if form.Has("client_secret") {
		return c, TwoMethods
	}
	if form.Has("client_id") && form.Get("client_id") != c.ID {
		return c, IDMismatch
	}
	return c, CredentialsOK
}
