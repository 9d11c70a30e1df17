// Package oidc signs users in with a generic OpenID Connect provider:
// discovery, the authorization code flow with PKCE (S256) and a nonce, and
// verification of the id_token with go-oidc.
package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

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
	// HTTPClient makes the calls to the provider. Default: a client with a
	// 10 s timeout.
	HTTPClient *http.Client
}

// retryAfterFailure bounds how often discovery is retried when it fails.
const retryAfterFailure = 5 * time.Second

// Provider is one configured OIDC provider. Discovery happens on first use
// (so Caddy starts even when the provider is down) and is retried after a
// failure.
type Provider struct {
	cfg    Config
	client *http.Client

	mu       sync.Mutex
	disc     *gooidc.Provider
	verifier *gooidc.IDTokenVerifier
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
	hasOpenID := false
	for _, s := range cfg.Scopes {
		hasOpenID = hasOpenID || s == gooidc.ScopeOpenID
	}
	if !hasOpenID {
		cfg.Scopes = append([]string{gooidc.ScopeOpenID}, cfg.Scopes...)
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &Provider{cfg: cfg, client: client}, nil
}

// Name returns the provider's name.
func (p *Provider) Name() string { return p.cfg.Name }

var _ provider.Provider = (*Provider)(nil)

func (p *Provider) discover(ctx context.Context) (*gooidc.Provider, *gooidc.IDTokenVerifier, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.disc != nil {
		return p.disc, p.verifier, nil
	}
	if !p.failedAt.IsZero() && time.Since(p.failedAt) < retryAfterFailure {
		return nil, nil, p.lastErr
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	disc, err := gooidc.NewProvider(gooidc.ClientContext(ctx, p.client), p.cfg.Issuer)
	if err != nil {
		p.failedAt, p.lastErr = time.Now(), fmt.Errorf("oidc discovery for %s: %w", p.cfg.Issuer, err)
		return nil, nil, p.lastErr
	}
	p.disc = disc
	p.verifier = disc.Verifier(&gooidc.Config{ClientID: p.cfg.ClientID})
	return p.disc, p.verifier, nil
}

func (p *Provider) oauth2Config(disc *gooidc.Provider, redirectURI string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     p.cfg.ClientID,
		ClientSecret: p.cfg.ClientSecret,
		Endpoint:     disc.Endpoint(),
		RedirectURL:  redirectURI,
		Scopes:       p.cfg.Scopes,
	}
}

// AuthURL returns the provider's authorization URL for one login.
func (p *Provider) AuthURL(ctx context.Context, redirectURI, state, nonce, verifier string) (string, error) {
	disc, _, err := p.discover(ctx)
	if err != nil {
		return "", &provider.Error{Code: "provider_unavailable", Status: http.StatusBadGateway, Err: err}
	}
	return p.oauth2Config(disc, redirectURI).AuthCodeURL(state,
		oauth2.S256ChallengeOption(verifier),
		gooidc.Nonce(nonce),
	), nil
}

// Exchange redeems code, verifies the id_token (signature, issuer,
// audience, expiry and nonce) and returns the identity it proves.
func (p *Provider) Exchange(ctx context.Context, code, redirectURI, verifier, nonce string) (*provider.Identity, *provider.Tokens, error) {
	disc, idv, err := p.discover(ctx)
	if err != nil {
		return nil, nil, &provider.Error{Code: "provider_unavailable", Status: http.StatusBadGateway, Err: err}
	}
	ctx = gooidc.ClientContext(ctx, p.client)
	tok, err := p.oauth2Config(disc, redirectURI).Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			return nil, nil, &provider.Error{Code: "exchange_failed", Status: http.StatusBadRequest, Err: fmt.Errorf("code exchange refused: %s", re.ErrorCode)}
		}
		return nil, nil, &provider.Error{Code: "provider_unavailable", Status: http.StatusBadGateway, Err: fmt.Errorf("code exchange: %w", err)}
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, nil, &provider.Error{Code: "invalid_id_token", Status: http.StatusUnauthorized, Err: errors.New("token response has no id_token")}
	}
	idt, err := idv.Verify(ctx, raw)
	if err != nil {
		return nil, nil, &provider.Error{Code: "invalid_id_token", Status: http.StatusUnauthorized, Err: fmt.Errorf("verifying id_token: %w", err)}
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 || nonce == "" {
		return nil, nil, &provider.Error{Code: "invalid_id_token", Status: http.StatusUnauthorized, Err: errors.New("id_token nonce does not match the login")}
	}
	var c claims
	if err := idt.Claims(&c); err != nil {
		return nil, nil, &provider.Error{Code: "invalid_id_token", Status: http.StatusUnauthorized, Err: fmt.Errorf("decoding id_token claims: %w", err)}
	}
	id := c.identity(idt.Subject)
	return id, &provider.Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, IDToken: raw, Expiry: tok.Expiry}, nil
}
