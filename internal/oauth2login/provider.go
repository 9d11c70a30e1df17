// Package oauth2login signs users in with OAuth 2.0 providers that have no
// (usable) OpenID Connect: the authorization code flow (with PKCE S256
// unless a provider rejects it), a token endpoint, and a userinfo endpoint
// whose JSON is mapped to an identity through configurable claim paths.
//
// A generic provider is configured with URLs and claim paths (Config);
// Preset builds the Config of a known provider (GitLab, Microsoft Entra ID,
// Gitee, Feishu, Lark) from its credentials alone.
//
// Security: an email is put in the identity only when the provider asserts
// that it is verified (Config.EmailVerified or Config.VerifiedEmails);
// tokens, codes and secrets never appear in errors.
package oauth2login

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/internal/provider"
)

// Claims are dot-separated paths into the userinfo JSON (e.g. "id",
// "data.user.name"; a numeric segment indexes an array). With
// Config.IDTokenClaims, paths starting with "id_token." read the claims of
// the id_token of the token response instead.
type Claims struct {
	// ID is the provider's stable user id (required; default "id").
	ID string
	// Login is the username; Email, Name and Avatar are optional.
	Login, Email, Name, Avatar string
	// Groups is the path of a list of group names (or a single one); ""
	// for none. An addition to the claims every provider has.
	Groups string
}

// EmailsEndpoint is a second endpoint that lists the user's addresses with
// their verification state (e.g. Gitee's /api/v5/emails). It is fetched
// with the access token the same way as the userinfo endpoint.
type EmailsEndpoint struct {
	// URL is the absolute http(s) URL of the endpoint.
	URL string
	// Pick returns the user's verified primary address from the decoded
	// JSON of the endpoint (numbers are json.Number), or "" when none
	// qualifies. Only what Pick returns is ever used as the email.
	Pick func(doc any) string
}

// Config describes one OAuth 2.0 provider.
type Config struct {
	// Name identifies the provider in URLs and logs.
	Name string
	// AuthURL, TokenURL and UserinfoURL are the provider's endpoints
	// (required, absolute http or https). AuthURL may carry a query of its
	// own, which is kept.
	AuthURL, TokenURL, UserinfoURL string
	// ClientID (required) and ClientSecret are the client credentials,
	// sent in the token request body (client_secret_post) unless
	// BasicAuth is set.
	ClientID, ClientSecret string
	// Scopes are requested space-separated; none means no scope parameter.
	Scopes []string
	// Claims map the userinfo JSON to the identity. Claims.ID defaults to
	// "id" (use "sub" for OIDC-style userinfo).
	Claims Claims
	// EmailVerified is the path of a claim that must be true (or "true")
	// for the Claims.Email address to be used; "" means the address is
	// used only if VerifiedEmails finds it, or never. An unverified
	// address is never put in the identity, not even as the username.
	EmailVerified string
	// VerifiedEmails, when set, is asked for the verified address; its
	// answer replaces Claims.Email (and makes EmailVerified irrelevant).
	VerifiedEmails *EmailsEndpoint
	// AuthParams are extra authorization request parameters (e.g.
	// "prompt"). They cannot replace the parameters of the flow itself.
	AuthParams map[string]string
	// DisablePKCE stops sending code_challenge (S256) and code_verifier.
	// PKCE is on by default; a preset turns it off only for a provider
	// that does not document it.
	DisablePKCE bool
	// RevokeURL, when set, is where Revoke posts (RFC 7009 style form
	// token=…, with the client credentials).
	RevokeURL string
	// HTTPClient makes the calls to the provider. Default: a client whose
	// timeout is Timeout. Every call also carries a context deadline of
	// Timeout.
	HTTPClient *http.Client
	// Timeout bounds each call to the provider (token exchange, userinfo,
	// verified emails, refresh, revocation). A call that runs out of time
	// fails with provider_timeout (504); one that cannot reach the
	// provider, or that it answers with a 5xx, with provider_unavailable
	// (502). Default: provider.DefaultTimeout (10 s).
	Timeout time.Duration

	// Additions for providers that need them:

	// TokenInQuery, when set, is the query parameter that carries the
	// access token to the userinfo and VerifiedEmails endpoints instead of
	// an "Authorization: Bearer" header (Gitee: "access_token"). Such URLs
	// are never put in errors or logs.
	TokenInQuery string
	// BasicAuth sends the client credentials in an Authorization: Basic
	// header (client_secret_basic) instead of the request body.
	BasicAuth bool
	// IDTokenClaims makes the claims of an id_token in the token response
	// available to claim paths under "id_token." (Microsoft: the
	// preferred_username and xms_edov claims are not in its userinfo).
	// The id_token comes straight from the token endpoint over TLS, which
	// OpenID Connect Core §3.1.3.7 accepts in place of checking its
	// signature; its audience must still be the client, its sub must match
	// the userinfo sub when both are present, and when AuthURL was given a
	// nonce it is sent and must come back in the id_token.
	IDTokenClaims bool
	// ResponseCodeField, when set (Feishu: "code"), is a top-level number
	// in the provider's JSON answers that is 0 on success: any other value
	// is an error whatever the HTTP status.
	ResponseCodeField string
	// InvalidGrantCodes are values of ResponseCodeField that mean the
	// refresh token is refused for good, like an "invalid_grant" error
	// (Feishu: 20026 invalid, 20037 expired, 20064 revoked).
	InvalidGrantCodes []int64
}

// Provider is one configured OAuth 2.0 provider.
type Provider struct {
	cfg     Config
	client  *http.Client
	timeout time.Duration // of each call
}

var (
	_ provider.Provider  = (*Provider)(nil)
	_ provider.Refresher = (*Provider)(nil)
	_ provider.Revoker   = (*Provider)(nil)
)

// reservedAuthParams are the authorization request parameters the flow
// sets itself; AuthParams cannot override them.
var reservedAuthParams = []string{"response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge", "code_challenge_method"}

var paramName = regexp.MustCompile(`^[A-Za-z0-9_.\-]+$`)

// New checks cfg and returns a provider; it makes no network call.
func New(cfg Config) (*Provider, error) {
	for _, e := range []struct{ name, url string }{
		{"auth_url", cfg.AuthURL}, {"token_url", cfg.TokenURL}, {"userinfo_url", cfg.UserinfoURL},
	} {
		if e.url == "" {
			return nil, fmt.Errorf("%s is required", e.name)
		}
		if err := checkEndpoint(e.url); err != nil {
			return nil, fmt.Errorf("%s: %w", e.name, err)
		}
	}
	if cfg.RevokeURL != "" {
		if err := checkEndpoint(cfg.RevokeURL); err != nil {
			return nil, fmt.Errorf("revoke_url: %w", err)
		}
	}
	if cfg.VerifiedEmails != nil {
		if err := checkEndpoint(cfg.VerifiedEmails.URL); err != nil {
			return nil, fmt.Errorf("verified emails url: %w", err)
		}
		if cfg.VerifiedEmails.Pick == nil {
			return nil, errors.New("verified emails: Pick is required")
		}
	}
	if cfg.ClientID == "" {
		return nil, errors.New("client_id is required")
	}
	if cfg.Claims.ID == "" {
		cfg.Claims.ID = "id"
	}
	for _, c := range []struct{ name, path string }{
		{"id", cfg.Claims.ID}, {"login", cfg.Claims.Login}, {"email", cfg.Claims.Email}, {"name", cfg.Claims.Name},
		{"avatar", cfg.Claims.Avatar}, {"groups", cfg.Claims.Groups}, {"email_verified", cfg.EmailVerified},
	} {
		if err := checkPath(c.path, cfg.IDTokenClaims); err != nil {
			return nil, fmt.Errorf("claim %s: %w", c.name, err)
		}
	}
	if cfg.EmailVerified != "" && cfg.Claims.Email == "" {
		return nil, errors.New("email_verified is set but the email claim is not")
	}
	for k := range cfg.AuthParams {
		if slices.Contains(reservedAuthParams, k) {
			return nil, fmt.Errorf("auth parameter %q is set by the login flow and cannot be configured", k)
		}
		if !paramName.MatchString(k) {
			return nil, fmt.Errorf("auth parameter %q is not a valid parameter name", k)
		}
	}
	if cfg.TokenInQuery != "" && !paramName.MatchString(cfg.TokenInQuery) {
		return nil, fmt.Errorf("token query parameter %q is not a valid parameter name", cfg.TokenInQuery)
	}
	for _, s := range cfg.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n") {
			return nil, fmt.Errorf("scope %q must be one non-empty word", s)
		}
	}
	cfg.Scopes = slices.Clone(cfg.Scopes)
	cfg.InvalidGrantCodes = slices.Clone(cfg.InvalidGrantCodes)
	cfg.AuthParams = maps.Clone(cfg.AuthParams)
	timeout, err := provider.Timeout(cfg.Timeout)
	if err != nil {
		return nil, err
	}
	cfg.Timeout = timeout
	client := provider.HTTPClient(cfg.HTTPClient, timeout)
	return &Provider{cfg: cfg, client: client, timeout: cfg.Timeout}, nil
}

// checkEndpoint accepts absolute http(s) URLs with a host and no fragment
// or user info.
func checkEndpoint(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL", raw)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q must be an absolute http(s) URL", raw)
	}
	if u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q must have no fragment and no user info", raw)
	}
	return nil
}

// Name returns the provider's name.
func (p *Provider) Name() string { return p.cfg.Name }

// AuthURL implements provider.Provider. The nonce is sent only with
// IDTokenClaims (and then checked in the id_token).
func (p *Provider) AuthURL(_ context.Context, redirectURI, state, nonce, verifier string) (string, error) {
	if redirectURI == "" || state == "" {
		return "", &provider.Error{Code: "login_failed", Status: http.StatusInternalServerError,
			Err: errors.New("redirect URI and state are required")}
	}
	if !p.cfg.DisablePKCE && verifier == "" {
		return "", &provider.Error{Code: "login_failed", Status: http.StatusInternalServerError,
			Err: errors.New("a PKCE verifier is required")}
	}
	u, err := url.Parse(p.cfg.AuthURL)
	if err != nil {
		return "", &provider.Error{Code: "login_failed", Status: http.StatusInternalServerError, Err: err}
	}
	q := u.Query()
	for k, v := range p.cfg.AuthParams {
		q.Set(k, v)
	}
	q.Set("response_type", "code")
	q.Set("client_id", p.cfg.ClientID)
	q.Set("redirect_uri", redirectURI)
	if len(p.cfg.Scopes) > 0 {
		q.Set("scope", strings.Join(p.cfg.Scopes, " "))
	}
	q.Set("state", state)
	if p.cfg.IDTokenClaims && nonce != "" {
		q.Set("nonce", nonce)
	}
	if !p.cfg.DisablePKCE {
		q.Set("code_challenge", oauth2.S256ChallengeFromVerifier(verifier))
		q.Set("code_challenge_method", "S256")
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Exchange implements provider.Provider: it redeems code, reads the
// userinfo endpoint (and VerifiedEmails) and maps the claims. Errors are
// *provider.Error: "exchange_failed" (400) when the provider refuses the
// code; "provider_timeout" (504) when a call runs out of time and
// "provider_unavailable" (502) when the provider cannot be reached or
// fails (a 5xx), at the token or the userinfo step; "userinfo_failed"
// (502) when the user cannot be read from what the provider answered.
func (p *Provider) Exchange(ctx context.Context, code, redirectURI, verifier, nonce string) (*provider.Identity, *provider.Tokens, error) {
	if code == "" {
		return nil, nil, &provider.Error{Code: "exchange_failed", Status: http.StatusBadRequest, Err: errors.New("no authorization code")}
	}
	form := url.Values{
		"grant_type":   {"authorization_code"},
		"code":         {code},
		"redirect_uri": {redirectURI},
	}
	if !p.cfg.DisablePKCE {
		if verifier == "" {
			return nil, nil, &provider.Error{Code: "exchange_failed", Status: http.StatusBadRequest, Err: errors.New("no PKCE verifier")}
		}
		form.Set("code_verifier", verifier)
	}
	tok, err := p.token(ctx, form)
	if err != nil {
		return nil, nil, exchangeError(err)
	}
	doc, err := p.fetchJSON(ctx, p.cfg.UserinfoURL, tok.AccessToken)
	if err != nil {
		return nil, nil, userinfoError(fmt.Errorf("reading the user: %w", err))
	}
	root, ok := doc.(map[string]any)
	if !ok {
		return nil, nil, &provider.Error{Code: "userinfo_failed", Status: http.StatusBadGateway, Err: errors.New("reading the user: the userinfo answer is not a JSON object")}
	}
	if p.cfg.IDTokenClaims && tok.IDToken != "" {
		claims, err := p.idTokenClaims(tok.IDToken, root, nonce)
		if err != nil {
			return nil, nil, &provider.Error{Code: "invalid_id_token", Status: http.StatusUnauthorized, Err: err}
		}
		root["id_token"] = claims
	}
	id, err := p.identity(root)
	if err != nil {
		return nil, nil, &provider.Error{Code: "userinfo_failed", Status: http.StatusBadGateway, Err: err}
	}
	if p.cfg.VerifiedEmails != nil {
		emails, err := p.fetchJSON(ctx, p.cfg.VerifiedEmails.URL, tok.AccessToken)
		if err != nil {
			return nil, nil, userinfoError(fmt.Errorf("reading the user's emails: %w", err))
		}
		id.Email, id.EmailVerified = "", false
		if e := strings.TrimSpace(p.cfg.VerifiedEmails.Pick(emails)); e != "" {
			id.Email, id.EmailVerified = e, true
		}
	}
	if id.Username == "" {
		id.Username = firstNonEmpty(id.Email, id.Subject)
	}
	return id, &provider.Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, IDToken: tok.IDToken, Expiry: tok.Expiry}, nil
}

// Refresh implements provider.Refresher. A refresh token the provider
// refuses for good (invalid_grant, or one of InvalidGrantCodes) gives an
// error matching provider.ErrInvalidGrant; any other error is transient.
// When the provider does not rotate refresh tokens, the one given is
// returned.
func (p *Provider) Refresh(ctx context.Context, refreshToken string) (*provider.Tokens, error) {
	if refreshToken == "" {
		return nil, fmt.Errorf("%w: no refresh token", provider.ErrInvalidGrant)
	}
	tok, err := p.token(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}})
	if err != nil {
		var te *tokenError
		if errors.As(err, &te) && te.invalidGrant {
			return nil, fmt.Errorf("%w: %v", provider.ErrInvalidGrant, err)
		}
		return nil, fmt.Errorf("refreshing the token: %w", err)
	}
	out := &provider.Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, IDToken: tok.IDToken, Expiry: tok.Expiry}
	if out.RefreshToken == "" {
		out.RefreshToken = refreshToken
	}
	return out, nil
}

// Revoke implements provider.Revoker: it posts the refresh token (or the
// access token when there is none) to RevokeURL. Without a RevokeURL it
// does nothing.
func (p *Provider) Revoke(ctx context.Context, t *provider.Tokens) error {
	if p.cfg.RevokeURL == "" || t == nil {
		return nil
	}
	form := url.Values{}
	switch {
	case t.RefreshToken != "":
		form.Set("token", t.RefreshToken)
		form.Set("token_type_hint", "refresh_token")
	case t.AccessToken != "":
		form.Set("token", t.AccessToken)
		form.Set("token_type_hint", "access_token")
	default:
		return nil
	}
	resp, err := p.postForm(ctx, p.cfg.RevokeURL, form)
	if err != nil {
		return fmt.Errorf("revoking the token: %w", err)
	}
	defer resp.Body.Close()
	drain(resp)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("revoking the token: the provider answered HTTP %d", resp.StatusCode)
	}
	return nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
