package fakegoogle

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
)

// Defaults of the fake Google.
const (
	// GoogleCodeLifetime is how long an authorization code can be redeemed.
	GoogleCodeLifetime = 10 * time.Minute
	// GoogleAccessTokenLifetime is the lifetime of an access token; Google
	// sends it as expires_in 3599.
	GoogleAccessTokenLifetime = 3599 * time.Second
	// GoogleIDTokenLifetime is exp - iat of an id_token.
	GoogleIDTokenLifetime = time.Hour
)

// Paths of the fake Google's endpoints, as on Google's hosts.
const (
	googlePathDiscovery = "/.well-known/openid-configuration"
	googlePathAuthorize = "/o/oauth2/v2/auth"
	googlePathToken     = "/token"
	googlePathUserinfo  = "/v1/userinfo"
	googlePathRevoke    = "/revoke"
	googlePathJWKS      = "/oauth2/v3/certs"
)

// GoogleUser is the account that signs in at the fake Google.
type GoogleUser struct {
	// Sub is the stable subject (required).
	Sub string
	// Email is the email claim ("" leaves email and email_verified out).
	Email string
	// EmailVerified is the email_verified claim as sent: true, false,
	// "true", "false", or nil to leave the claim out.
	EmailVerified any
	// HD is the hosted domain of a Workspace account ("" for a consumer
	// account: no hd claim).
	HD string
	// Name and Picture are the profile claims; given_name and family_name
	// are derived from Name (first word, rest).
	Name, Picture string
}

// googleClient is a registered OAuth client.
type googleClient struct {
	id, secret   string
	redirectURIs []string
}

// googleCode is what an authorization code was issued for.
type googleCode struct {
	sub         string
	scopes      []string
	nonce       string
	withRefresh bool // access_type=offline on a first consent
}

// googleAccess is an access token.
type googleAccess struct {
	sub, clientID string
	scopes        []string
	expires       time.Time
	refresh       string // the refresh token of its grant, "" for none
}

// googleRefresh is a refresh token.
type googleRefresh struct {
	sub, clientID string
	scopes        []string
}

// googleGrant is what a user consented to for a client.
type googleGrant struct {
	consented bool // the user has consented (prompt=none works)
	offline   bool // a refresh token was issued (not again without prompt=consent)
}

// Google is a fake Google sign-in (accounts.google.com and the
// oauth2.googleapis.com endpoints) on one local origin, following section D
// of shared/reference/external-apis.md:
//
//	/.well-known/openid-configuration  Google's discovery document, URLs on URL
//	/o/oauth2/v2/auth                  authorization endpoint; signs SetUser in at once
//	/token                             authorization_code and refresh_token grants
//	/v1/userinfo                       UserInfo (bearer access token)
//	/revoke                            token revocation (POST token=…)
//	/oauth2/v3/certs                   RS256 JWKS with kid, Cache-Control max-age
//
// Clients authenticate at /token with client_secret_basic or
// client_secret_post; redirect URIs match exactly; codes are single-use and
// live 10 minutes; PKCE (plain or S256) is checked when a challenge was
// sent. A refresh token comes only with access_type=offline on the user's
// first consent for the client (or with prompt=consent), and the refresh
// grant never rotates it. id_tokens carry iss (URL, or the short form of
// IssuerForm), aud and azp (the client), sub, email and email_verified
// (email scope), name, picture, given_name and family_name (profile
// scope), hd, nonce (when sent), at_hash, iat and exp (+1 h).
//
// Not faked: the device flow, response types other than code, the consent
// screen and account chooser (prompt and hd are accepted as hints), and
// scopes other than openid, email and profile. Its methods are safe for
// concurrent use.
type Google struct {
	// URL is the fake's origin and issuer, e.g. http://127.0.0.1:12345.
	URL string

	srv *httptest.Server

	mu sync.Mutex
	authserver.Clock
	clients        map[string]*googleClient
	users          map[string]GoogleUser // by sub
	current        string                // sub of the user who signs in
	denyConsent    bool
	shortIssuer    bool
	keys           googleKeys
	mutateNext     []func(map[string]any)
	signNext       []string
	codes          authserver.Codes[googleCode]
	access         map[string]*googleAccess
	refresh        map[string]*googleRefresh
	grants         map[[2]string]*googleGrant // {sub, client ID}
	tokenRequests  map[string]int             // by grant_type
	revoked        []string
	accessLifetime time.Duration
	failToken      authserver.Failures
	tokenDelay     time.Duration
	lastAuthorize  url.Values
}

// NewGoogle starts a fake Google with one signing key and no clients or
// users. Close it when done.
func NewGoogle() *Google {
	g := &Google{
		clients:        map[string]*googleClient{},
		users:          map[string]GoogleUser{},
		access:         map[string]*googleAccess{},
		refresh:        map[string]*googleRefresh{},
		grants:         map[[2]string]*googleGrant{},
		tokenRequests:  map[string]int{},
		accessLifetime: GoogleAccessTokenLifetime,
	}
	g.keys.current = newGoogleKey()
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	g.URL = g.srv.URL
	return g
}

// Close shuts the server down.
func (g *Google) Close() { g.srv.Close() }

// Alias is the short form of the issuer, the host:port of URL (as
// "accounts.google.com" is of "https://accounts.google.com").
func (g *Google) Alias() string {
	u, err := url.Parse(g.URL)
	if err != nil {
		panic("fakegoogle: fake Google URL: " + err.Error())
	}
	return u.Host
}

// AddClient registers an OAuth client (a "Web application" client of the
// Cloud console) with its exact redirect URIs, replacing any client with
// the same ID.
func (g *Google) AddClient(clientID, secret string, redirectURIs ...string) {
	if clientID == "" {
		panic("fakegoogle: fake Google: AddClient needs a client ID")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.clients[clientID] = &googleClient{id: clientID, secret: secret, redirectURIs: slices.Clone(redirectURIs)}
}

// SetUser makes u the user who signs in at the authorization endpoint,
// which then redirects straight back with a code. Tokens already issued to
// u.Sub carry u's new claims from their next refresh on.
func (g *Google) SetUser(u GoogleUser) {
	if u.Sub == "" {
		panic("fakegoogle: fake Google: SetUser needs a Sub")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.users[u.Sub] = u
	g.current = u.Sub
}

// DenyConsent makes the authorization endpoint redirect back with
// error=access_denied (and the state), as when the user clicks Cancel.
func (g *Google) DenyConsent(on bool) { authserver.Set(&g.mu, &g.denyConsent, on) }

// IssuerForm makes the id_tokens issued from now on carry the short issuer
// form, Alias() (like "accounts.google.com"), when short is true, and URL
// (like "https://accounts.google.com") when false, the default.
func (g *Google) IssuerForm(short bool) { authserver.Set(&g.mu, &g.shortIssuer, short) }

// RotateKeys makes a new key the signing key; the previous one stays in
// the JWKS (the overlap Google keeps) until DropOldKeys.
func (g *Google) RotateKeys() {
	k := newGoogleKey()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.keys.rotate(k)
}

// DropOldKeys stops publishing every key but the signing key.
func (g *Google) DropOldKeys() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.keys.published = nil
}

// MutateNextIDToken lets fn change the claims of the next id_token issued
// (by either grant) before it is signed: aud, iss, exp, nonce, hd, … Calls
// queue up, one per id_token.
func (g *Google) MutateNextIDToken(fn func(claims map[string]any)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.mutateNext = append(g.mutateNext, fn)
}

// Attack modes of SignNextWith.
const (
	// GoogleSignNone sends the id_token unsigned: {"alg":"none"} and an
	// empty signature.
	GoogleSignNone = "none"
	// GoogleSignHS256Public signs it with HMAC-SHA256 keyed with the
	// signing key's public key (PEM), under that key's kid: the algorithm
	// confusion attack.
	GoogleSignHS256Public = "hs256-public"
	// GoogleSignUnknownKid signs it with RS256 by a key that is not in the
	// JWKS, under a kid that names no published key.
	GoogleSignUnknownKid = "unknown-kid"
	// GoogleSignOldKey signs it with the key retired by the last
	// RotateKeys, under its kid, even after DropOldKeys.
	GoogleSignOldKey = "old-key"
)

// SignNextWith makes the next id_token signed another way: mode is
// "none", "hs256-public", "unknown-kid" or "old-key" (the GoogleSign…
// constants). Calls queue up, one per id_token.
func (g *Google) SignNextWith(mode string) {
	switch mode {
	case GoogleSignNone, GoogleSignHS256Public, GoogleSignUnknownKid, GoogleSignOldKey:
	default:
		panic(fmt.Sprintf("fakegoogle: fake Google: unknown signing mode %q", mode))
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.signNext = append(g.signNext, mode)
}

// TokenRequests counts the requests to the token endpoint with that
// grant_type ("authorization_code", "refresh_token"), failed ones
// included; "" counts them all.
func (g *Google) TokenRequests(grantType string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if grantType != "" {
		return g.tokenRequests[grantType]
	}
	n := 0
	for _, c := range g.tokenRequests {
		n += c
	}
	return n
}

// RevokedTokens returns the tokens revoked at /revoke, in order, as they
// were sent.
func (g *Google) RevokedTokens() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.revoked)
}

// ExpireAccessTokens makes every access token issued so far expired: the
// UserInfo endpoint answers 401 and revoking one answers invalid_token.
func (g *Google) ExpireAccessTokens() {
	g.mu.Lock()
	defer g.mu.Unlock()
	past := g.Now().Add(-time.Second)
	for _, a := range g.access {
		a.expires = past
	}
}

// SetAccessTokenLifetime sets the lifetime of access tokens issued from
// now on (expires_in, in whole seconds). Default 3599 s.
func (g *Google) SetAccessTokenLifetime(d time.Duration) { authserver.Set(&g.mu, &g.accessLifetime, d) }

// RevokeRefreshTokens revokes every grant of the user sub, as when the
// user removes the app from their Google Account: the refresh tokens
// answer 400 invalid_grant, the access tokens are dead, and the next
// sign-in with access_type=offline gets a new refresh token.
func (g *Google) RevokeRefreshTokens(sub string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for tok, r := range g.refresh {
		if r.sub == sub {
			delete(g.refresh, tok)
		}
	}
	for tok, a := range g.access {
		if a.sub == sub {
			delete(g.access, tok)
		}
	}
	for k := range g.grants {
		if k[0] == sub {
			delete(g.grants, k)
		}
	}
}

// FailNextToken makes the next token endpoint request answer status: 5xx
// with {"error":"internal_failure"} (503: "temporarily_unavailable"), 400
// invalid_request, 401 invalid_client, 429 rate_limit_exceeded with
// Retry-After. Calls queue up, one per request.
func (g *Google) FailNextToken(status int) {
	g.failToken.Add(googlePathToken, status)
}

// SetTokenDelay makes the token endpoint wait d before answering (until
// the client gives up). 0 turns it off.
func (g *Google) SetTokenDelay(d time.Duration) { authserver.Set(&g.mu, &g.tokenDelay, d) }

// LastAuthorize returns the query of the last authorization request, or
// nil.
func (g *Google) LastAuthorize() url.Values {
	g.mu.Lock()
	defer g.mu.Unlock()
	return authserver.CloneValues(g.lastAuthorize)
}

// serve routes a request.
func (g *Google) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	authserver.Routes{
		googlePathDiscovery: g.serveDiscovery,
		googlePathJWKS:      g.serveJWKS,
		googlePathAuthorize: g.serveAuthorize,
		googlePathToken:     g.serveToken,
		googlePathUserinfo:  g.serveUserinfo,
		googlePathRevoke:    g.serveRevoke,
	}.ServeHTTP(w, r)
}

// googleAllow reports whether r uses one of methods, answering 405 when
// not.
func googleAllow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	if slices.Contains(methods, r.Method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	googleJSON.Write(w, http.StatusMethodNotAllowed, map[string]string{"error": "invalid_request", "error_description": "Method not allowed: " + r.Method})
	return false
}

// googleJSON is how the fake Google writes JSON: indented, as Google does.
var googleJSON = authserver.JSON{Indent: "  ", Newline: true}

// googleDiscovery is Google's discovery document, in Google's order.
type googleDiscovery struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
}

// serveDiscovery serves the discovery document. Google's also has a
// device_authorization_endpoint, left out as the fake has no device flow.
func (g *Google) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	if !googleAllow(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	googleJSON.Write(w, http.StatusOK, googleDiscovery{
		Issuer:                            g.URL,
		AuthorizationEndpoint:             g.URL + googlePathAuthorize,
		TokenEndpoint:                     g.URL + googlePathToken,
		UserinfoEndpoint:                  g.URL + googlePathUserinfo,
		RevocationEndpoint:                g.URL + googlePathRevoke,
		JWKSURI:                           g.URL + googlePathJWKS,
		ResponseTypesSupported:            []string{"code", "token", "id_token", "code token", "code id_token", "token id_token", "code token id_token", "none"},
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
		ScopesSupported:                   []string{"openid", "email", "profile"},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_post", "client_secret_basic"},
		ClaimsSupported:                   []string{"aud", "email", "email_verified", "exp", "family_name", "given_name", "iat", "iss", "name", "picture", "sub"},
		CodeChallengeMethodsSupported:     []string{"plain", "S256"},
		GrantTypesSupported:               []string{"authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
	})
}
