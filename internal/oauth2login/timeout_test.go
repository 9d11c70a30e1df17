package oauth2login_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/oauth2login"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
)

// slow answers only after the client has given up (or 5 s).
func slow(w http.ResponseWriter, r *http.Request) { testsupport.StallRequest(w, r, 5*time.Second) }

// deadURL is an http URL on which nothing listens.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String()
	l.Close()
	return u
}

// TestProviderNotAnswering: whichever login call the provider fails to
// answer, the exchange ends within about the timeout with
// provider_timeout (504) or provider_unavailable (502), and nothing
// secret in the error.
func TestProviderNotAnswering(t *testing.T) {
	const timeout = 150 * time.Millisecond
	dead := deadURL(t)
	for _, tt := range []struct {
		name           string
		token, ui      func(http.ResponseWriter, *http.Request)
		edit           func(*oauth2login.Config)
		code           string
		status         int
		ownClientNoTTL bool // a caller-supplied client without a timeout: the deadline still holds
	}{
		{name: "token slow", token: slow, code: provider.CodeTimeout, status: http.StatusGatewayTimeout},
		{name: "token slow, own client", token: slow, code: provider.CodeTimeout, status: http.StatusGatewayTimeout, ownClientNoTTL: true},
		{name: "userinfo slow", ui: slow, code: provider.CodeTimeout, status: http.StatusGatewayTimeout},
		{name: "userinfo slow, own client", ui: slow, code: provider.CodeTimeout, status: http.StatusGatewayTimeout, ownClientNoTTL: true},
		{name: "token 503", token: answer(503, "text/html", "down"), code: provider.CodeUnavailable, status: http.StatusBadGateway},
		{name: "userinfo 500", ui: answer(500, "text/html", "oops"), code: provider.CodeUnavailable, status: http.StatusBadGateway},
		{name: "token refused", edit: func(c *oauth2login.Config) { c.TokenURL = dead + "/token" },
			code: provider.CodeUnavailable, status: http.StatusBadGateway},
		{name: "userinfo refused", edit: func(c *oauth2login.Config) { c.UserinfoURL = dead + "/userinfo" },
			code: provider.CodeUnavailable, status: http.StatusBadGateway},
		{name: "userinfo 401 is not an outage", ui: answer(401, "application/json", `{"error":"invalid_token"}`),
			code: "userinfo_failed", status: http.StatusBadGateway},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newStub(t)
			s.set(tt.token, tt.ui)
			cfg := s.config()
			cfg.Timeout = timeout
			if tt.ownClientNoTTL {
				cfg.HTTPClient = &http.Client{}
			}
			if tt.edit != nil {
				tt.edit(&cfg)
			}
			start := time.Now()
			_, _, err := exchange(t, mustNew(t, cfg))
			took := time.Since(start)
			var pe *provider.Error
			if !errors.As(err, &pe) || pe.Code != tt.code || pe.Status != tt.status {
				t.Fatalf("err = %v, want %s/%d", err, tt.code, tt.status)
			}
			if took > 3*time.Second {
				t.Errorf("the exchange took %v with a %v timeout", took, timeout)
			}
			if strings.Contains(err.Error(), clientSecret) || strings.Contains(err.Error(), "AT-1") {
				t.Errorf("error %q holds a secret", err)
			}
		})
	}
}

// TestTimeoutBoundsRefreshAndRevoke: refresh and revocation are bounded
// too, and a slow refresh is transient (the session is kept).
func TestTimeoutBoundsRefreshAndRevoke(t *testing.T) {
	s := newStub(t)
	s.set(slow, nil)
	cfg := s.config()
	cfg.Timeout = 150 * time.Millisecond
	cfg.RevokeURL = s.srv.URL + "/token" // slow too
	p := mustNew(t, cfg)
	start := time.Now()
	_, err := p.Refresh(context.Background(), "RT-1")
	if err == nil || errors.Is(err, provider.ErrInvalidGrant) || !provider.IsTimeout(err) {
		t.Errorf("slow refresh: err = %v, want a transient timeout", err)
	}
	if err := p.Revoke(context.Background(), &provider.Tokens{RefreshToken: "RT-1"}); err == nil || !provider.IsTimeout(err) {
		t.Errorf("slow revoke: err = %v, want a timeout", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("refresh and revoke took %v", took)
	}
}

func TestNegativeTimeoutRefused(t *testing.T) {
	cfg := oauth2login.Config{AuthURL: "https://p.example/a", TokenURL: "https://p.example/t", UserinfoURL: "https://p.example/u",
		ClientID: "c", Timeout: -time.Second}
	if _, err := oauth2login.New(cfg); err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("New with a negative timeout: %v", err)
	}
}
