package oidc

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/devidp"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
)

const (
	devClientID     = "gatehouse"
	devClientSecret = "dev secret & symbols"
)

// startDevIdP serves a devidp provider (ES256, with end_session_endpoint
// and rotating refresh tokens) that signs alice in at once.
func startDevIdP(t *testing.T) *devidp.Server {
	t.Helper()
	srv, err := devidp.Listen("127.0.0.1:0", devidp.Options{
		SigningAlg: devidp.ES256,
		Clients:    []devidp.Client{{ID: devClientID, Secret: devClientSecret, RedirectURIs: []string{gRedirect}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	if err := srv.Provider.SetAutoLogin("alice"); err != nil {
		t.Fatal(err)
	}
	return srv
}

// TestGenericProviderLifecycle runs the lifecycle against a provider that
// rotates refresh tokens, requires client authentication at /revoke and
// signs with ES256.
func TestGenericProviderLifecycle(t *testing.T) {
	idp := startDevIdP(t)
	p, err := New(Config{Issuer: idp.URL, ClientID: devClientID, ClientSecret: devClientSecret, RequireVerifiedEmail: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r := mustLogin(t, p)
	if r.id.Email != "alice@example.com" || r.tokens.RefreshToken == "" {
		t.Fatalf("identity %+v, refresh token %v", r.id, r.tokens.RefreshToken != "")
	}

	// Algorithm confusion against an ES256 provider.
	for name, sign := range map[string]devidp.SignerFunc{
		"none":         idp.Provider.SignNone,
		"hs256-public": idp.Provider.SignHS256WithPublicKey,
		"unknown-kid":  idp.Provider.SignUnknownKid,
	} {
		t.Run(name, func(t *testing.T) {
			idp.Provider.SetSigner(sign)
			defer idp.Provider.SetSigner(nil)
			wantCode(t, login(t, p, nil).err, "invalid_id_token", http.StatusUnauthorized)
		})
	}

	fresh, err := p.Refresh(ctx, r.tokens.RefreshToken)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if fresh.RefreshToken == "" || fresh.RefreshToken == r.tokens.RefreshToken || fresh.IDToken == "" {
		t.Fatalf("rotated refresh token not returned")
	}
	// The rotated-out refresh token is refused for good.
	if _, err := p.Refresh(ctx, r.tokens.RefreshToken); !errors.Is(err, provider.ErrInvalidGrant) {
		t.Fatalf("Refresh with a used refresh token: %v", err)
	}

	r2 := mustLogin(t, p)
	if err := p.Revoke(ctx, r2.tokens); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if _, err := p.Refresh(ctx, r2.tokens.RefreshToken); !errors.Is(err, provider.ErrInvalidGrant) {
		t.Fatalf("Refresh after Revoke: %v", err)
	}
	if n := idp.Provider.Requests(devidp.EndpointRevoke); n != 1 {
		t.Fatalf("revoke requests = %d", n)
	}
}
