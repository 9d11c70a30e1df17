// Package oidc signs users in with a generic OpenID Connect provider:
// discovery, the authorization code flow with PKCE (S256) and a nonce, and
// verification of the id_token with go-oidc. It also speaks Google's
// dialect ([Google]): the short issuer form, the hd (hosted domain) claim,
// email_verified, and offline access with a refresh token that is not
// rotated; and it implements the token lifecycle of [provider.Refresher],
// [provider.Revoker] and [provider.EndSessioner].
package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/internal/jwks"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
)

// Config describes one OIDC provider.
type Config struct {
	// Name identifies the provider in URLs and headers.
	Name string
	// Issuer is the issuer URL used for discovery.
	Issuer string
	// ClientID and ClientSecret are the OAuth client credentials.
	ClientID, ClientSecret string
	// Scopes requested. Default: openid email profile.
	Scopes []string
	// HTTPClient makes the calls to the provider. Default: a client whose
	// timeout is Timeout. Every call also carries a context deadline of
	// Timeout.
	HTTPClient *http.Client
	// Timeout bounds each call to the provider: discovery, the token
	// exchange, the JWKS fetch, refresh and revocation. A call that runs
	// out of time fails with provider_timeout (504); one that cannot reach
	// the provider with provider_unavailable (502). Default:
	// provider.DefaultTimeout (10 s).
	Timeout time.Duration

	// IssuerAliases are other spellings of the issuer accepted in an
	// id_token's iss (Google sends "https://accounts.google.com" or
	// "accounts.google.com"). Each is compared exactly.
	IssuerAliases []string
	// HostedDomain, when set, must equal the id_token's hd claim (Google
	// Workspace); never taken from the request.
	HostedDomain string
	// AuthParams are added to the authorization request (Google:
	// access_type=offline; hd as a UI hint). They cannot replace the
	// parameters Gatehouse sets itself (client_id, redirect_uri, state,
	// nonce, PKCE, response_type, scope).
	AuthParams map[string]string
	// RequireVerifiedEmail refuses a login whose id_token does not assert
	// email_verified (true or the string "true"); false, "false" or
	// missing → refused.
	RequireVerifiedEmail bool
}

// GoogleIssuer is Google's issuer URL.
const GoogleIssuer = "https://accounts.google.com"

// googleIssuerShort is the legacy form of Google's issuer, without a scheme.
const googleIssuerShort = "accounts.google.com"

// Google returns the configuration of Google sign-in: issuer GoogleIssuer
// with the alias "accounts.google.com", scopes openid email profile
// (unless given), access_type=offline (so the first consent yields a
// refresh token), hd=hostedDomain as a hint to Google's account chooser
// when set, the hd claim checked against hostedDomain, and
// RequireVerifiedEmail.
func Google(name, clientID, clientSecret, hostedDomain string, scopes []string) Config {
	if len(scopes) == 0 {
		scopes = []string{gooidc.ScopeOpenID, "email", "profile"}
	}
	params := map[string]string{"access_type": "offline"}
	if hostedDomain != "" {
		params["hd"] = hostedDomain
	}
	return Config{
		Name:                 name,
		Issuer:               GoogleIssuer,
		IssuerAliases:        []string{googleIssuerShort},
		ClientID:             clientID,
		ClientSecret:         clientSecret,
		Scopes:               slices.Clone(scopes),
		AuthParams:           params,
		HostedDomain:         hostedDomain,
		RequireVerifiedEmail: true,
	}
}

// retryAfterFailure bounds how often discovery is retried when it fails.
const retryAfterFailure = 5 * time.Second

// reservedAuthParams are the authorization request parameters that
// AuthParams cannot set.
var reservedAuthParams = []string{
	"client_id", "redirect_uri", "response_type", "scope", "state", "nonce",
	"code_challenge", "code_challenge_method",
}

// asymmetricAlgs are the id_token signing algorithms Gatehouse accepts when
// discovery advertises them: never "none" nor an HMAC, whose key would be
// the client secret or, in the algorithm confusion attack, the public key.
var asymmetricAlgs = []string{
	gooidc.RS256, gooidc.RS384, gooidc.RS512,
	gooidc.ES256, gooidc.ES384, gooidc.ES512,
	gooidc.PS256, gooidc.PS384, gooidc.PS512,
	gooidc.EdDSA,
}

// metadata are the discovery fields go-oidc does not expose.
type metadata struct {
	JWKSURI                  string   `json:"jwks_uri"`
	RevocationEndpoint       string   `json:"revocation_endpoint"`
	EndSessionEndpoint       string   `json:"end_session_endpoint"`
	TokenAuthMethods         []string `json:"token_endpoint_auth_methods_supported"`
	RevocationAuthMethods    []string `json:"revocation_endpoint_auth_methods_supported"`
	IDTokenSigningAlgorithms []string `json:"id_token_signing_alg_values_supported"`
}

// Provider is one configured OIDC provider. Discovery happens on first use
// (so Caddy starts even when the provider is down) and is retried after a
// failure.
type Provider struct {
	cfg     Config
	client  *http.Client
	timeout time.Duration // of each call
	issuers []string      // accepted iss values: Issuer, then IssuerAliases

	mu       sync.Mutex
	disc     *gooidc.Provider
	verifier *gooidc.IDTokenVerifier
	logout   *gooidc.IDTokenVerifier // of back-channel logout tokens
	algs     []string                // accepted signing algorithms
	meta     metadata
	failedAt time.Time
	lastErr  error
}

// New returns a provider for cfg; it makes no network call.
func New(cfg Config) (*Provider, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("issuer is required")
	}
	if !strings.HasPrefix(cfg.Issuer, "https://") && !strings.HasPrefix(cfg.Issuer, "http://") {
		return nil, fmt.Errorf("issuer %q must be an http(s) URL", cfg.Issuer)
	}
	if cfg.ClientID == "" {
		return nil, errors.New("client_id is required")
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{gooidc.ScopeOpenID, "email", "profile"}
	}
	cfg.Scopes = slices.Clone(cfg.Scopes)
	if !slices.Contains(cfg.Scopes, gooidc.ScopeOpenID) {
		cfg.Scopes = append([]string{gooidc.ScopeOpenID}, cfg.Scopes...)
	}
	issuers := []string{cfg.Issuer}
	for _, a := range cfg.IssuerAliases {
		if a == "" {
			return nil, errors.New("issuer aliases must not be empty")
		}
		issuers = append(issuers, a)
	}
	cfg.IssuerAliases = slices.Clone(cfg.IssuerAliases)
	params := make(map[string]string, len(cfg.AuthParams))
	for k, v := range cfg.AuthParams {
		if k == "" || slices.Contains(reservedAuthParams, k) {
			return nil, fmt.Errorf("auth parameter %q cannot be set: Gatehouse sets it for each login", k)
		}
		params[k] = v
	}
	cfg.AuthParams = params
	timeout, err := provider.Timeout(cfg.Timeout)
	if err != nil {
		return nil, err
	}
	cfg.Timeout = timeout
	client := provider.HTTPClient(cfg.HTTPClient, timeout)
	return &Provider{cfg: cfg, client: client, timeout: cfg.Timeout, issuers: issuers}, nil
}

// Name returns the provider's name.
func (p *Provider) Name() string { return p.cfg.Name }

var (
	_ provider.Provider       = (*Provider)(nil)
	_ provider.Refresher      = (*Provider)(nil)
	_ provider.Revoker        = (*Provider)(nil)
	_ provider.EndSessioner   = (*Provider)(nil)
	_ provider.LogoutVerifier = (*Provider)(nil)
)

// discovered is what discovery gave: the provider, its id_token and
// logout token verifiers, the signing algorithms accepted and the extra
// metadata.
type discovered struct {
	disc *gooidc.Provider
	idv  *gooidc.IDTokenVerifier
	lv   *gooidc.IDTokenVerifier
	algs []string
	meta metadata
}

func (p *Provider) discover(ctx context.Context) (*discovered, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.disc != nil {
		return &discovered{p.disc, p.verifier, p.logout, p.algs, p.meta}, nil
	}
	if !p.failedAt.IsZero() && time.Since(p.failedAt) < retryAfterFailure {
		return nil, p.lastErr
	}
	fail := func(err error) (*discovered, error) {
		p.failedAt, p.lastErr = time.Now(), fmt.Errorf("oidc discovery for %s: %w", p.cfg.Issuer, err)
		return nil, p.lastErr
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	disc, err := gooidc.NewProvider(gooidc.ClientContext(ctx, p.client), p.cfg.Issuer)
	if err != nil {
		return fail(err)
	}
	var meta metadata
	if err := disc.Claims(&meta); err != nil {
		return fail(fmt.Errorf("decoding the discovery document: %w", err))
	}
	var algs []string
	for _, a := range meta.IDTokenSigningAlgorithms {
		if slices.Contains(asymmetricAlgs, a) {
			algs = append(algs, a)
		}
	}
	if len(meta.IDTokenSigningAlgorithms) == 0 {
		algs = []string{gooidc.RS256} // the default of OpenID Connect Discovery
	}
	if len(algs) == 0 {
		return fail(fmt.Errorf("the provider signs id_tokens only with %v, none of which Gatehouse accepts", meta.IDTokenSigningAlgorithms))
	}
	if meta.JWKSURI == "" {
		return fail(errors.New("the discovery document has no jwks_uri"))
	}
	p.disc, p.meta = disc, meta
	// The issuer is checked by verifyIDToken against Issuer and its
	// aliases; go-oidc checks the rest (signature by a key of the JWKS;
	// algorithm; audience; expiry). The key set fetches with p.client
	// (so within its timeout) during the first verification that needs
	// it, and again on a token no key verifies, at most once per
	// jwks.RefetchEvery (the logout endpoint takes tokens from anyone).
	keys := jwks.New(p.client, meta.JWKSURI, algs)
	p.verifier = gooidc.NewVerifier(p.cfg.Issuer, keys, &gooidc.Config{
		ClientID:             p.cfg.ClientID,
		SupportedSigningAlgs: algs,
		SkipIssuerCheck:      true,
	})
	// Logout tokens are signed with the same keys and algorithms, but
	// need not carry an exp (Ory Hydra sends none): verifyLogoutToken
	// checks their times itself.
	p.logout = gooidc.NewVerifier(p.cfg.Issuer, keys, &gooidc.Config{
		ClientID:             p.cfg.ClientID,
		SupportedSigningAlgs: algs,
		SkipIssuerCheck:      true,
		SkipExpiryCheck:      true,
	})
	p.algs = algs
	return &discovered{p.disc, p.verifier, p.logout, p.algs, p.meta}, nil
}

// authStyle is how the client authenticates to an endpoint that supports
// methods: client_secret_basic unless only client_secret_post is offered
// (an absent list means client_secret_basic, RFC 8414), and client_id in
// the body for a client without a secret.
func (p *Provider) authStyle(methods []string) oauth2.AuthStyle {
	switch {
	case p.cfg.ClientSecret == "":
		return oauth2.AuthStyleInParams
	case len(methods) == 0 || slices.Contains(methods, "client_secret_basic"):
		return oauth2.AuthStyleInHeader
	case slices.Contains(methods, "client_secret_post"):
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleInHeader
}

func (p *Provider) oauth2Config(d *discovered, redirectURI string) *oauth2.Config {
	ep := d.disc.Endpoint()
	ep.AuthStyle = p.authStyle(d.meta.TokenAuthMethods)
	return &oauth2.Config{
		ClientID:     p.cfg.ClientID,
		ClientSecret: p.cfg.ClientSecret,
		Endpoint:     ep,
		RedirectURL:  redirectURI,
		Scopes:       p.cfg.Scopes,
	}
}

// unavailable is the error of a call that did not reach the provider, ran
// out of time (provider_timeout) or that the provider failed to answer
// (provider_unavailable).
func unavailable(err error) *provider.Error {
	return provider.Unavailable(err)
}

// AuthURL returns the provider's authorization URL for one login.
func (p *Provider) AuthURL(ctx context.Context, redirectURI, state, nonce, verifier string) (string, error) {
	d, err := p.discover(ctx)
	if err != nil {
		return "", unavailable(err)
	}
	opts := make([]oauth2.AuthCodeOption, 0, len(p.cfg.AuthParams)+2)
	for _, k := range slices.Sorted(maps.Keys(p.cfg.AuthParams)) {
		opts = append(opts, oauth2.SetAuthURLParam(k, p.cfg.AuthParams[k]))
	}
	opts = append(opts, oauth2.S256ChallengeOption(verifier), gooidc.Nonce(nonce))
	return p.oauth2Config(d, redirectURI).AuthCodeURL(state, opts...), nil
}

// Exchange redeems code, verifies the id_token (signature, issuer,
// audience, expiry, nonce, at_hash, and the hosted domain and verified
// email when configured) and returns the identity it proves.
func (p *Provider) Exchange(ctx context.Context, code, redirectURI, verifier, nonce string) (*provider.Identity, *provider.Tokens, error) {
	d, err := p.discover(ctx)
	if err != nil {
		return nil, nil, unavailable(err)
	}
	tctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	tok, err := p.oauth2Config(d, redirectURI).Exchange(gooidc.ClientContext(tctx, p.client), code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			return nil, nil, &provider.Error{Code: "exchange_failed", Status: http.StatusBadRequest, Err: fmt.Errorf("code exchange refused: %s", oauthCode(re))}
		}
		return nil, nil, unavailable(fmt.Errorf("code exchange: %w", tokenCallError(err)))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, nil, &provider.Error{Code: "invalid_id_token", Status: http.StatusUnauthorized, Err: errors.New("token response has no id_token")}
	}
	idt, c, err := p.verifyIDToken(ctx, d.idv, raw, tok.AccessToken, &nonce)
	if err != nil {
		return nil, nil, err
	}
	id := c.identity(idt.Subject)
	return id, &provider.Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, IDToken: raw, Expiry: tok.Expiry}, nil
}

// invalidIDToken is the error of an id_token that does not verify.
func invalidIDToken(err error) *provider.Error {
	return &provider.Error{Code: "invalid_id_token", Status: http.StatusUnauthorized, Err: err}
}

// verifyIDToken verifies raw with idv, then checks what go-oidc leaves to
// its caller: the issuer (Issuer or an alias), azp, at_hash when present,
// the nonce when nonce is not nil, and the policies of the configuration
// (hosted domain, verified email). Fetching the provider's keys, when
// needed, is bounded by the timeout; a failure to fetch them is the
// provider's (provider_timeout or provider_unavailable), not the token's.
// Errors are *provider.Error and never contain a token.
func (p *Provider) verifyIDToken(ctx context.Context, idv *gooidc.IDTokenVerifier, raw, accessToken string, nonce *string) (*gooidc.IDToken, *claims, error) {
	vctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	vctx, fetchErr := jwks.WatchFetch(vctx)
	idt, err := idv.Verify(vctx, raw)
	if err != nil {
		if ferr := fetchErr(); ferr != nil {
			return nil, nil, unavailable(fmt.Errorf("fetching the provider's signing keys: %w", ferr))
		}
		return nil, nil, invalidIDToken(fmt.Errorf("verifying id_token: %w", err))
	}
	if !slices.Contains(p.issuers, idt.Issuer) {
		return nil, nil, invalidIDToken(fmt.Errorf("id_token issued by %q, expected one of %q", idt.Issuer, p.issuers))
	}
	var c claims
	if err := idt.Claims(&c); err != nil {
		return nil, nil, invalidIDToken(fmt.Errorf("decoding id_token claims: %w", err))
	}
	// OpenID Connect Core 3.1.3.7, steps 4 and 5.
	if (len(idt.Audience) > 1 || c.AuthorizedParty != "") && c.AuthorizedParty != p.cfg.ClientID {
		return nil, nil, invalidIDToken(fmt.Errorf("id_token azp %q is not this client", c.AuthorizedParty))
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(accessToken); err != nil {
			return nil, nil, invalidIDToken(fmt.Errorf("id_token at_hash does not match the access token: %w", err))
		}
	}
	if nonce != nil {
		if *nonce == "" || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(*nonce)) != 1 {
			return nil, nil, invalidIDToken(errors.New("id_token nonce does not match the login"))
		}
	}
	if want := p.cfg.HostedDomain; want != "" && !strings.EqualFold(c.HostedDomain, want) {
		got := c.HostedDomain
		if got == "" {
			got = "(none)"
		}
		return nil, nil, &provider.Error{Code: "hosted_domain_mismatch", Status: http.StatusForbidden,
			Err: fmt.Errorf("id_token hd %q is not the required hosted domain %q", got, want)}
	}
	if p.cfg.RequireVerifiedEmail && !provider.Verified(c.EmailVerified) {
		return nil, nil, &provider.Error{Code: "email_not_verified", Status: http.StatusForbidden,
			Err: errors.New("id_token does not assert email_verified")}
	}
	return idt, &c, nil
}

// oauthCode is the error code of a token endpoint error and its status,
// short and without the response body.
func oauthCode(re *oauth2.RetrieveError) string {
	code := re.ErrorCode
	if len(code) > 64 {
		code = code[:64]
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	return fmt.Sprintf("%q (HTTP %d)", code, status)
}

// tokenCallError replaces a token endpoint error response, whose text
// includes the response body, by its code and status.
func tokenCallError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return fmt.Errorf("token endpoint answered %s", oauthCode(re))
	}
	return err
}
