package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/internal/devidp"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
)

// faultyIdP is a devidp provider behind a handler that can hold the
// requests to chosen paths until the client gives up.
type faultyIdP struct {
	*httptest.Server
	*testsupport.Stall
	idp *devidp.Provider
}

func newFaultyIdP(t *testing.T) *faultyIdP {
	t.Helper()
	f := &faultyIdP{}
	f.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.Stall.ServeHTTP(w, r)
	}))
	issuer := "http://" + f.Listener.Addr().String()
	p, err := devidp.New(devidp.Options{
		Issuer:  issuer,
		Clients: []devidp.Client{{ID: devClientID, Secret: devClientSecret, RedirectURIs: []string{gRedirect}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetAutoLogin("alice"); err != nil {
		t.Fatal(err)
	}
	f.idp = p
	f.Stall = testsupport.NewStall(p)
	f.Start()
	t.Cleanup(f.Close)
	return f
}

// TestProviderNotAnswering: whichever call of a login the provider fails
// to answer — discovery (at AuthURL), the token exchange, the JWKS — the
// login ends within about the timeout with provider_timeout (504), or
// provider_unavailable (502) for a provider that is down or failing.
func TestProviderNotAnswering(t *testing.T) {
	const timeout = 200 * time.Millisecond
	for _, tt := range []struct {
		name   string
		fault  func(f *faultyIdP)
		atAuth bool // the failure shows at AuthURL (discovery), not Exchange
		code   string
		status int
	}{
		{"discovery slow", func(f *faultyIdP) { f.Hold("/.well-known/openid-configuration") }, true,
			provider.CodeTimeout, http.StatusGatewayTimeout},
		{"discovery 500", func(f *faultyIdP) { f.idp.FailNext(devidp.EndpointDiscovery, 500) }, true,
			provider.CodeUnavailable, http.StatusBadGateway},
		{"provider down", func(f *faultyIdP) { f.Close() }, true,
			provider.CodeUnavailable, http.StatusBadGateway},
		{"token slow", func(f *faultyIdP) { f.Hold("/token") }, false,
			provider.CodeTimeout, http.StatusGatewayTimeout},
		{"token 503", func(f *faultyIdP) { f.idp.FailNext(devidp.EndpointToken, 503) }, false,
			provider.CodeUnavailable, http.StatusBadGateway},
		{"jwks slow", func(f *faultyIdP) { f.Hold("/jwks") }, false,
			provider.CodeTimeout, http.StatusGatewayTimeout},
		{"jwks 500", func(f *faultyIdP) { f.idp.FailNext(devidp.EndpointJWKS, 500) }, false,
			provider.CodeUnavailable, http.StatusBadGateway},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFaultyIdP(t)
			p, err := New(Config{Issuer: f.URL, ClientID: devClientID, ClientSecret: devClientSecret, Timeout: timeout})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if !tt.atAuth {
				// Discovery succeeds before the fault.
				if _, err := p.AuthURL(ctx, gRedirect, "s", "n", oauth2.GenerateVerifier()); err != nil {
					t.Fatal(err)
				}
			}
			tt.fault(f)
			start := time.Now()
			if tt.atAuth {
				_, err = p.AuthURL(ctx, gRedirect, randomHex(t), randomHex(t), oauth2.GenerateVerifier())
			} else {
				err = login(t, p, nil).err
			}
			took := time.Since(start)
			wantCode(t, err, tt.code, tt.status)
			if took > 3*time.Second {
				t.Errorf("took %v with a %v timeout", took, timeout)
			}
			if strings.Contains(err.Error(), devClientSecret) {
				t.Errorf("error %q holds the client secret", err)
			}
		})
	}
}

// TestProviderBackAfterOutage: a failed discovery is retried (after
// retryAfterFailure), so logins work again once the provider answers.
func TestProviderBackAfterOutage(t *testing.T) {
	f := newFaultyIdP(t)
	p, err := New(Config{Issuer: f.URL, ClientID: devClientID, ClientSecret: devClientSecret, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	f.idp.FailNext(devidp.EndpointDiscovery, 503)
	_, err = p.AuthURL(context.Background(), gRedirect, "s", "n", oauth2.GenerateVerifier())
	wantCode(t, err, provider.CodeUnavailable, http.StatusBadGateway)
	// The failure is remembered for a moment rather than retried per login.
	p.mu.Lock()
	p.failedAt = time.Now().Add(-retryAfterFailure)
	p.mu.Unlock()
	if r := login(t, p, nil); r.err != nil {
		t.Fatalf("login after the outage: %v", r.err)
	}
}

func TestTimeoutBoundsRefreshAndRevoke(t *testing.T) {
	f := newFaultyIdP(t)
	p, err := New(Config{Issuer: f.URL, ClientID: devClientID, ClientSecret: devClientSecret, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r := login(t, p, nil)
	if r.err != nil {
		t.Fatal(r.err)
	}
	f.Hold("/token")
	f.Hold("/revoke")
	start := time.Now()
	_, err = p.Refresh(context.Background(), r.tokens.RefreshToken)
	wantCode(t, err, provider.CodeTimeout, http.StatusGatewayTimeout)
	if errors.Is(err, provider.ErrInvalidGrant) {
		t.Error("a slow refresh must be transient")
	}
	if err := p.Revoke(context.Background(), r.tokens); !provider.IsTimeout(err) {
		t.Errorf("slow revoke: %v", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("refresh and revoke took %v", took)
	}
}

func TestNegativeTimeoutRefused(t *testing.T) {
	if _, err := New(Config{Issuer: "https://login.example.com", ClientID: "c", Timeout: -time.Second}); err == nil ||
		!strings.Contains(err.Error(), "timeout") {
		t.Fatalf("New with a negative timeout: %v", err)
	}
}
