// Package githubaccess connects Gatehouse to GitHub: signing in with a
// GitHub OAuth App, re-checking organization and team membership,
// connecting repositories through a GitHub App (with its expiring user
// token kept fresh), and applying the App's webhooks.
package githubaccess

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/internal/github"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
)

// DefaultScopes are requested from an OAuth App unless configured.
var DefaultScopes = []string{"read:user", "user:email", "read:org"}

// Login signs users in with a GitHub OAuth App.
type Login struct {
	oauth  *github.OAuth
	api    *github.Client
	scopes []string
}

// NewLogin returns a login provider for an OAuth App. timeout bounds each
// call to GitHub (token exchange, user, emails, organizations, teams,
// revocation); zero means provider.DefaultTimeout.
func NewLogin(clientID, clientSecret string, endpoints github.Endpoints, scopes []string, timeout time.Duration) *Login {
	if len(scopes) == 0 {
		scopes = DefaultScopes
	}
	if timeout <= 0 {
		timeout = provider.DefaultTimeout
	}
	endpoints = endpoints.WithDefaults()
	client := provider.HTTPClient(nil, timeout)
	return &Login{
		oauth:  &github.OAuth{ClientID: clientID, ClientSecret: clientSecret, Endpoints: endpoints, HTTP: client},
		api:    &github.Client{Endpoints: endpoints, HTTP: client},
		scopes: scopes,
	}
}

var (
	_ provider.Provider = (*Login)(nil)
	_ provider.Revoker  = (*Login)(nil)
)

// Revoke implements provider.Revoker: it deletes the user's authorization
// of the OAuth App at GitHub, so a later sign-in asks for consent again
// and the token is dead at once.
func (l *Login) Revoke(ctx context.Context, t *provider.Tokens) error {
	if t == nil || t.AccessToken == "" {
		return nil
	}
	return l.oauth.DeleteGrant(ctx, t.AccessToken)
}

// AuthURL implements provider.Provider. GitHub has no nonce.
func (l *Login) AuthURL(_ context.Context, redirectURI, state, _, verifier string) (string, error) {
	return l.oauth.AuthURL(redirectURI, state, oauth2.S256ChallengeFromVerifier(verifier), l.scopes), nil
}

// Exchange implements provider.Provider: it redeems the code, then reads
// the user, the primary verified email (never an unverified or secondary
// one), organizations and teams.
func (l *Login) Exchange(ctx context.Context, code, redirectURI, verifier, _ string) (*provider.Identity, *provider.Tokens, error) {
	tok, err := l.oauth.Exchange(ctx, code, redirectURI, verifier)
	if err != nil {
		return nil, nil, exchangeError(err)
	}
	id, err := l.identity(ctx, tok.AccessToken)
	if err != nil {
		return nil, nil, provider.Unavailable(err)
	}
	return id, &provider.Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: tok.Expiry}, nil
}

func exchangeError(err error) error {
	if github.IsInvalidGrant(err) {
		return &provider.Error{Code: "exchange_failed", Status: http.StatusBadRequest, Err: err}
	}
	if _, ok := err.(*github.OAuthError); ok {
		return &provider.Error{Code: "exchange_failed", Status: http.StatusBadRequest, Err: err}
	}
	return provider.Unavailable(err)
}

func (l *Login) identity(ctx context.Context, token string) (*provider.Identity, error) {
	u, err := l.api.User(ctx, token)
	if err != nil {
		return nil, fmt.Errorf("reading the GitHub user: %w", err)
	}
	email, err := l.api.PrimaryVerifiedEmail(ctx, token)
	if err != nil {
		return nil, fmt.Errorf("reading the user's emails: %w", err)
	}
	groups, err := l.Groups(ctx, token)
	if err != nil {
		return nil, err
	}
	return &provider.Identity{
		Subject:       strconv.FormatInt(u.ID, 10),
		Username:      u.Login,
		Email:         email,
		EmailVerified: email != "",
		Name:          u.Name,
		Picture:       u.AvatarURL,
		Groups:        groups,
	}, nil
}

// Groups returns the user's organizations and teams as "org" and
// "org/team".
func (l *Login) Groups(ctx context.Context, token string) ([]string, error) {
	groups, err := l.api.Groups(ctx, token)
	if err != nil {
		return nil, err
	}
	return groups, nil
}
