package github

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/apiclient"
)

// OAuth is the web flow of an OAuth App or of a GitHub App's user
// authorization. Its methods are safe for concurrent use.
type OAuth struct {
	// ClientID and ClientSecret are the app's client credentials.
	ClientID, ClientSecret string
	// Endpoints locate GitHub. Zero value: github.com.
	Endpoints Endpoints
	// HTTP makes the token requests. Default: a client with a 10 s
	// timeout.
	HTTP *http.Client
}

// Token is what the token endpoint grants.
type Token struct {
	// AccessToken is gho_… (OAuth App) or ghu_… (GitHub App user token).
	AccessToken string
	// RefreshToken is ghr_…, or "" when the token does not expire.
	RefreshToken string
	// Scope is the granted scopes, comma-separated as GitHub sends them
	// ("" for GitHub Apps).
	Scope string
	// Expiry is when AccessToken stops working; zero when GitHub sends no
	// expiry (OAuth Apps, or GitHub Apps that opted out of expiration).
	Expiry time.Time
	// RefreshExpiry is when RefreshToken stops working; zero when GitHub
	// sends no expiry.
	RefreshExpiry time.Time
}

// AuthURL returns the URL of GitHub's authorize page
// (/login/oauth/authorize) with client_id, redirect_uri, scope (the
// scopes space-separated, omitted when there are none; GitHub Apps ignore
// it), state, and code_challenge with code_challenge_method=S256 (both
// omitted when codeChallenge is ""). An empty redirectURI or state is
// left out too. allow_signup is left at GitHub's default.
func (o *OAuth) AuthURL(redirectURI, state, codeChallenge string, scopes []string) string {
	q := url.Values{}
	q.Set("client_id", o.ClientID)
	if redirectURI != "" {
		q.Set("redirect_uri", redirectURI)
	}
	if len(scopes) > 0 {
		q.Set("scope", strings.Join(scopes, " "))
	}
	if state != "" {
		q.Set("state", state)
	}
	if codeChallenge != "" {
		q.Set("code_challenge", codeChallenge)
		q.Set("code_challenge_method", "S256")
	}
	return o.Endpoints.WithDefaults().WebURL + "/login/oauth/authorize?" + q.Encode()
}

// Exchange redeems an authorization code at /login/oauth/access_token.
// redirectURI must be the one sent to the authorize page (it is left out
// when ""), and codeVerifier the PKCE verifier whose challenge was sent
// (left out when ""). GitHub's errors come back as *[OAuthError] even
// though GitHub sends them with HTTP 200; other HTTP failures are
// *[APIError].
func (o *OAuth) Exchange(ctx context.Context, code, redirectURI, codeVerifier string) (*Token, error) {
	if code == "" {
		return nil, errors.New("github: exchanging code: the code is empty")
	}
	form := url.Values{}
	form.Set("code", code)
	if redirectURI != "" {
		form.Set("redirect_uri", redirectURI)
	}
	if codeVerifier != "" {
		form.Set("code_verifier", codeVerifier)
	}
	tok, err := o.token(ctx, form)
	if err != nil {
		return nil, fmt.Errorf("github: exchanging code: %w", err)
	}
	return tok, nil
}

// Refresh trades a refresh token (ghr_…) for a new access token and a new
// refresh token. GitHub rotates both: the old ones stop working, so store
// the returned token before using it. A dead refresh token gives an
// *[OAuthError] for which [IsInvalidGrant] is true.
func (o *OAuth) Refresh(ctx context.Context, refreshToken string) (*Token, error) {
	if refreshToken == "" {
		return nil, errors.New("github: refreshing token: the refresh token is empty")
	}
	form := url.Values{}
	form.Set("grant_type", "refresh_token")
	form.Set("refresh_token", refreshToken)
	tok, err := o.token(ctx, form)
	if err != nil {
		return nil, fmt.Errorf("github: refreshing token: %w", err)
	}
	return tok, nil
}

// tokenResponse is the token endpoint's JSON answer, success or error.
type tokenResponse struct {
	AccessToken           string  `json:"access_token"`
	TokenType             string  `json:"token_type"`
	Scope                 string  `json:"scope"`
	ExpiresIn             flexInt `json:"expires_in"`
	RefreshToken          string  `json:"refresh_token"`
	RefreshTokenExpiresIn flexInt `json:"refresh_token_expires_in"`
	Error                 string  `json:"error"`
	ErrorDescription      string  `json:"error_description"`
	ErrorURI              string  `json:"error_uri"`
}

// token POSTs form plus the client credentials to the token endpoint.
func (o *OAuth) token(ctx context.Context, form url.Values) (*Token, error) {
	form.Set("client_id", o.ClientID)
	form.Set("client_secret", o.ClientSecret)
	endpoint := o.Endpoints.WithDefaults().WebURL + "/login/oauth/access_token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, body, err := apiclient.Do(o.HTTP, req, MaxResponseBytes)
	if err != nil {
		return nil, fmt.Errorf("POST /login/oauth/access_token: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, newAPIError(resp, body, time.Now())
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return nil, fmt.Errorf("decoding token response (Content-Type %q): %w", resp.Header.Get("Content-Type"), err)
	}
	if tr.Error != "" {
		return nil, &OAuthError{Code: tr.Error, Description: tr.ErrorDescription, URI: tr.ErrorURI}
	}
	if tr.AccessToken == "" {
		return nil, errors.New("token response has neither access_token nor error")
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "bearer") {
		return nil, fmt.Errorf("token response has token_type %q, want bearer", tr.TokenType)
	}
	now := time.Now()
	tok := &Token{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, Scope: tr.Scope}
	if tr.ExpiresIn > 0 {
		tok.Expiry = now.Add(time.Duration(tr.ExpiresIn) * time.Second)
	}
	if tr.RefreshTokenExpiresIn > 0 {
		tok.RefreshExpiry = now.Add(time.Duration(tr.RefreshTokenExpiresIn) * time.Second)
	}
	return tok, nil
}

// DeleteGrant deletes the user's authorization of the app — every token
// the app holds for the user — through DELETE
// /applications/{client_id}/grant with the app's client credentials. An
// access token GitHub no longer knows (422) is not an error: the grant is
// gone already.
func (o *OAuth) DeleteGrant(ctx context.Context, accessToken string) error {
	body, err := json.Marshal(map[string]string{"access_token": accessToken})
	if err != nil {
		return err
	}
	u := o.Endpoints.WithDefaults().APIURL + "/applications/" + url.PathEscape(o.ClientID) + "/grant"
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("github: building request: %w", err)
	}
	req.SetBasicAuth(o.ClientID, o.ClientSecret)
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", apiVersion)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", apiclient.UserAgent)
	resp, err := apiclient.HTTP(o.HTTP).Do(req)
	if err != nil {
		return fmt.Errorf("github: deleting the grant: %w", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNoContent, resp.StatusCode == http.StatusUnprocessableEntity:
		return nil
	default:
		return fmt.Errorf("github: deleting the grant: status %d", resp.StatusCode)
	}
}
