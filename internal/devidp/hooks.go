package devidp

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
)

// Endpoint names, as used by [Provider.FailNext] and [Provider.Requests].
const (
	EndpointDiscovery = "discovery"   // /.well-known/openid-configuration
	EndpointJWKS      = "jwks"        // /jwks
	EndpointAuthorize = "authorize"   // /authorize
	EndpointToken     = "token"       // /token
	EndpointUserinfo  = "userinfo"    // /userinfo
	EndpointRevoke    = "revoke"      // /revoke
	EndpointLogout    = "logout"      // /logout
	EndpointEndSess   = "end-session" // /sessions/end, the index page's "End" buttons
)

// countAuthorizeRequests is the key under which authorization requests
// (GET /authorize, not sign-in form posts) are counted.
const countAuthorizeRequests = "authorize GET"

// ClaimsFunc changes ID token or UserInfo claims in place.
type ClaimsFunc func(claims map[string]any)

// SignerFunc turns ID token claims into a compact JWT.
type SignerFunc func(claims map[string]any) (string, error)

// hooks are the test hooks; guarded by Provider.mu.
type hooks struct {
	autoLogin      string
	mutateEvery    ClaimsFunc
	mutateNext     []ClaimsFunc
	mutateUserinfo ClaimsFunc
	signer         SignerFunc
	hydraLogout    bool // logout tokens in Ory Hydra's form
}

// SetAutoLogin makes every valid authorization request skip the sign-in page
// and sign in as username straight away: a registered user, or a made-up
// one as if the name had been typed on the page. An empty username shows the
// sign-in page again. It fails when username is not a valid username.
func (p *Provider) SetAutoLogin(username string) error {
	if username != "" {
		if err := checkUsername(username); err != nil {
			return fmt.Errorf("devidp: auto-login: %w", err)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hooks.autoLogin = username
	return nil
}

// MutateIDToken makes fn change the claims of every ID token issued from
// now on, just before signing; nil stops it. For example, to simulate a
// provider that sends email_verified as a string:
//
//	p.MutateIDToken(func(c map[string]any) { c["email_verified"] = "false" })
func (p *Provider) MutateIDToken(fn ClaimsFunc) { authserver.Set(&p.mu, &p.hooks.mutateEvery, fn) }

// MutateNextIDToken makes fn change the claims of the next ID token only,
// after any [Provider.MutateIDToken] function. Calls queue up: each applies
// to one more ID token.
func (p *Provider) MutateNextIDToken(fn ClaimsFunc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hooks.mutateNext = append(p.hooks.mutateNext, fn)
}

// MutateUserinfo makes fn change every UserInfo response from now on; nil
// stops it.
func (p *Provider) MutateUserinfo(fn ClaimsFunc) { authserver.Set(&p.mu, &p.hooks.mutateUserinfo, fn) }

// SetSigner replaces ID token signing with fn, for tests of forged tokens
// (see [Provider.SignNone], [Provider.SignHS256WithPublicKey] and
// [Provider.SignUnknownKid]); nil restores normal signing.
func (p *Provider) SetSigner(fn SignerFunc) { authserver.Set(&p.mu, &p.hooks.signer, fn) }

// FailNext makes the next request to endpoint (one of the Endpoint
// constants, or its path such as "/token") fail with status, which must be
// 400–599, instead of being served. Calls queue up: each fails one more
// request. The failed request is still counted. It panics on an unknown
// endpoint or a status outside 400–599, both mistakes in the calling test.
func (p *Provider) FailNext(endpoint string, status int) {
	name := endpointName(endpoint)
	if name == "" {
		panic(fmt.Sprintf("devidp: FailNext: unknown endpoint %q", endpoint))
	}
	if status < 400 || status > 599 {
		panic(fmt.Sprintf("devidp: FailNext: status %d is not an error status", status))
	}
	p.failures.Add(name, status)
}

// Requests returns how many HTTP requests the endpoint (as for
// [Provider.FailNext]) has received, including failed and rejected ones.
// It panics on an unknown endpoint.
func (p *Provider) Requests(endpoint string) int {
	name := endpointName(endpoint)
	if name == "" {
		panic(fmt.Sprintf("devidp: Requests: unknown endpoint %q", endpoint))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[name]
}

// TokenRequests returns how many requests the token endpoint has received.
func (p *Provider) TokenRequests() int { return p.Requests(EndpointToken) }

// AuthorizeRequests returns how many authorization requests (GET
// /authorize, valid or not) the provider has received; sign-in form posts
// are not counted.
func (p *Provider) AuthorizeRequests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[countAuthorizeRequests]
}

// LastAuthorize returns a copy of the query of the last authorization
// request, or nil when there was none.
func (p *Provider) LastAuthorize() url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return authserver.CloneValues(p.lastAuth)
}

// endpointName normalizes an endpoint name or path; "" when unknown.
func endpointName(endpoint string) string {
	for name, path := range endpointPaths {
		if endpoint == name || endpoint == path || "/"+strings.TrimPrefix(endpoint, "/") == path {
			return name
		}
	}
	return ""
}

// record counts a request to endpoint and reports whether FailNext asked for
// it to fail, and with which status.
func (p *Provider) record(endpoint string, r *http.Request) (status int, fail bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts[endpoint]++
	if endpoint == EndpointAuthorize && r.Method == http.MethodGet {
		p.counts[countAuthorizeRequests]++
		p.lastAuth = r.URL.Query()
	}
	return p.failures.Next(endpoint)
}

// writeInjectedFailure answers a request failed by FailNext in the
// endpoint's usual format.
func (p *Provider) writeInjectedFailure(w http.ResponseWriter, endpoint string, status int) {
	const desc = "failure injected by devidp FailNext"
	switch endpoint {
	case EndpointAuthorize, EndpointLogout, EndpointEndSess:
		p.renderError(w, status, "Something went wrong", "The identity provider failed on purpose, as a test asked it to.", desc)
	default:
		code := "server_error"
		if status < 500 {
			code = "invalid_request"
		}
		jsonOut.Write(w, status, authserver.Error{Code: code, Description: desc})
	}
}
