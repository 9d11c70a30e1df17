package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/internal/provider"
)

// Refresh implements [provider.Refresher]: it redeems refreshToken at the
// token endpoint (grant_type=refresh_token). The refresh token is kept when
// the response carries none (Google never rotates it). An id_token in the
// response is verified like the one of the login (signature, issuer,
// audience, expiry, at_hash, hosted domain and verified email; there is no
// nonce on a refresh) and returned.
//
// An invalid_grant answer (revoked, expired, or the user removed the
// grant) and a refreshed id_token that no longer satisfies the hosted
// domain or verified-email policy end the session: their errors match
// [provider.ErrInvalidGrant]. Every other failure (5xx, network, timeout,
// another OAuth error, an id_token that does not verify) is transient.
// Errors are *provider.Error.
func (p *Provider) Refresh(ctx context.Context, refreshToken string) (*provider.Tokens, error) {
	if refreshToken == "" {
		return nil, &provider.Error{Code: "invalid_grant", Status: http.StatusUnauthorized,
			Err: fmt.Errorf("no refresh token: %w", provider.ErrInvalidGrant)}
	}
	d, err := p.discover(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	tctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	tok, err := p.oauth2Config(d, "").TokenSource(gooidc.ClientContext(tctx, p.client), &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		switch {
		case errors.As(err, &re) && re.ErrorCode == "invalid_grant" && (re.Response == nil || re.Response.StatusCode < 500):
			return nil, &provider.Error{Code: "invalid_grant", Status: http.StatusUnauthorized,
				Err: fmt.Errorf("refresh refused %s: %w", oauthCode(re), provider.ErrInvalidGrant)}
		case errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500:
			return nil, &provider.Error{Code: "refresh_failed", Status: http.StatusBadGateway,
				Err: fmt.Errorf("refresh refused %s", oauthCode(re))}
		}
		return nil, unavailable(fmt.Errorf("refresh: %w", tokenCallError(err)))
	}
	out := &provider.Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: tok.Expiry}
	if out.RefreshToken == "" {
		out.RefreshToken = refreshToken
	}
	if raw, _ := tok.Extra("id_token").(string); raw != "" {
		if _, _, err := p.verifyIDToken(ctx, d.idv, raw, tok.AccessToken, nil); err != nil {
			var pe *provider.Error
			if errors.As(err, &pe) && (pe.Code == "hosted_domain_mismatch" || pe.Code == "email_not_verified") {
				pe.Err = fmt.Errorf("refreshed %w; ending the session: %w", pe.Err, provider.ErrInvalidGrant)
			}
			return nil, err
		}
		out.IDToken = raw
	}
	return out, nil
}

// Revoke implements [provider.Revoker]: it revokes the refresh token of t,
// or its access token when there is none, at the discovery document's
// revocation_endpoint (RFC 7009: a form POST with token and
// token_type_hint, the client authenticated as at the token endpoint).
// Google revokes the whole grant either way. A token the provider no
// longer knows (400 invalid_token, Google's answer for an expired or
// revoked token) counts as revoked. Without a revocation_endpoint there
// is nothing to do and Revoke returns nil.
func (p *Provider) Revoke(ctx context.Context, t *provider.Tokens) error {
	if t == nil {
		return nil
	}
	token, hint := t.RefreshToken, "refresh_token"
	if token == "" {
		token, hint = t.AccessToken, "access_token"
	}
	if token == "" {
		return nil
	}
	d, err := p.discover(ctx)
	if err != nil {
		return unavailable(err)
	}
	endpoint := d.meta.RevocationEndpoint
	if endpoint == "" {
		return nil
	}
	methods := d.meta.RevocationAuthMethods
	if len(methods) == 0 {
		methods = d.meta.TokenAuthMethods
	}
	form := url.Values{"token": {token}, "token_type_hint": {hint}}
	basic := p.authStyle(methods) == oauth2.AuthStyleInHeader
	if !basic {
		form.Set("client_id", p.cfg.ClientID)
		if p.cfg.ClientSecret != "" {
			form.Set("client_secret", p.cfg.ClientSecret)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return unavailable(fmt.Errorf("revocation endpoint: %w", err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if basic {
		// RFC 6749 section 2.3.1: both parts are form-urlencoded first.
		req.SetBasicAuth(url.QueryEscape(p.cfg.ClientID), url.QueryEscape(p.cfg.ClientSecret))
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return unavailable(fmt.Errorf("revoking the %s: %w", strings.ReplaceAll(hint, "_", " "), err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	code := ""
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "application/json" {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil {
			code = e.Error
		}
	}
	if resp.StatusCode == http.StatusBadRequest && code == "invalid_token" {
		return nil // expired or already revoked
	}
	if len(code) > 64 {
		code = code[:64]
	}
	err = fmt.Errorf("revocation endpoint answered %q (HTTP %d)", code, resp.StatusCode)
	if resp.StatusCode >= 500 {
		return unavailable(err)
	}
	return &provider.Error{Code: "revoke_failed", Status: http.StatusBadGateway, Err: err}
}

// EndSessionURL implements [provider.EndSessioner]: the discovery
// document's end_session_endpoint with id_token_hint, client_id,
// post_logout_redirect_uri and state (OpenID Connect RP-Initiated Logout
// 1.0; empty values are left out). ok is false when the provider has no
// end_session_endpoint (Google has none) or discovery fails. The URL holds
// the id_token: redirect to it, never log it.
func (p *Provider) EndSessionURL(ctx context.Context, idToken, postLogout, state string) (string, bool) {
	d, err := p.discover(ctx)
	if err != nil || d.meta.EndSessionEndpoint == "" {
		return "", false
	}
	u, err := url.Parse(d.meta.EndSessionEndpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", false
	}
	q := u.Query()
	for k, v := range map[string]string{
		"id_token_hint":            idToken,
		"post_logout_redirect_uri": postLogout,
		"client_id":                p.cfg.ClientID,
		"state":                    state,
	} {
		if v != "" {
			q.Set(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), true
}
