package github_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/internal/github"
)

func TestAuthURL(t *testing.T) {
	o := &github.OAuth{ClientID: "cid", Endpoints: github.Endpoints{WebURL: "https://ghe.example.com"}}
	tests := []struct {
		name      string
		challenge string
		scopes    []string
		want      url.Values
	}{
		{"scopes and PKCE", "chal", []string{"read:org", "user:email"}, url.Values{
			"client_id": {"cid"}, "redirect_uri": {redirectURI}, "scope": {"read:org user:email"}, "state": {"st"},
			"code_challenge": {"chal"}, "code_challenge_method": {"S256"}}},
		{"no scopes", "chal", nil, url.Values{
			"client_id": {"cid"}, "redirect_uri": {redirectURI}, "state": {"st"},
			"code_challenge": {"chal"}, "code_challenge_method": {"S256"}}},
		{"no challenge", "", []string{"read:org"}, url.Values{
			"client_id": {"cid"}, "redirect_uri": {redirectURI}, "scope": {"read:org"}, "state": {"st"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(o.AuthURL(redirectURI, "st", tt.challenge, tt.scopes))
			if err != nil {
				t.Fatal(err)
			}
			if u.Scheme+"://"+u.Host+u.Path != "https://ghe.example.com/login/oauth/authorize" {
				t.Errorf("endpoint %s", u)
			}
			if got := u.Query(); got.Encode() != tt.want.Encode() {
				t.Errorf("query %s, want %s", got.Encode(), tt.want.Encode())
			}
		})
	}
	if got := (&github.OAuth{ClientID: "c"}).AuthURL(redirectURI, "s", "", nil); !strings.HasPrefix(got, "https://github.com/login/oauth/authorize?") {
		t.Errorf("default endpoint: %s", got)
	}
}

func TestExchangeOAuthApp(t *testing.T) {
	g := newFake(t)
	o := oauthApp(g)
	verifier := oauth2.GenerateVerifier()
	code := authorize(t, g, o, "octocat", "st", oauth2.S256ChallengeFromVerifier(verifier))
	if got := g.LastAuthorize(); got.Get("code_challenge_method") != "S256" || got.Get("scope") != "read:org user:email" {
		t.Errorf("authorize request %v", got)
	}
	tok, err := o.Exchange(t.Context(), code, redirectURI, verifier)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.AccessToken, "gho_") || len(tok.AccessToken) != 40 {
		t.Errorf("access token %q, want gho_ and 40 characters", tok.AccessToken)
	}
	if tok.RefreshToken != "" || !tok.Expiry.IsZero() || !tok.RefreshExpiry.IsZero() {
		t.Errorf("OAuth App token has refresh/expiry: %+v", tok)
	}
	if tok.Scope != "read:org,user:email" {
		t.Errorf("scope %q", tok.Scope)
	}
	u, err := (&github.Client{Endpoints: g.Endpoints()}).User(t.Context(), tok.AccessToken)
	if err != nil || u.Login != "octocat" {
		t.Fatalf("User = %+v, %v", u, err)
	}
}

func TestExchangeGitHubApp(t *testing.T) {
	g := newFake(t)
	o := gitHubApp(g)
	before := time.Now()
	tok := login(t, g, o, "octocat")
	if !strings.HasPrefix(tok.AccessToken, "ghu_") || !strings.HasPrefix(tok.RefreshToken, "ghr_") {
		t.Errorf("tokens %q %q", tok.AccessToken, tok.RefreshToken)
	}
	if d := tok.Expiry.Sub(before); d < 8*time.Hour-time.Minute || d > 8*time.Hour+time.Minute {
		t.Errorf("expiry in %v, want 8h", d)
	}
	if d := tok.RefreshExpiry.Sub(before); d < 15811200*time.Second-time.Minute || d > 15811200*time.Second+time.Minute {
		t.Errorf("refresh expiry in %v, want 15811200s", d)
	}
	if tok.Scope != "" {
		t.Errorf("GitHub App scope %q, want empty", tok.Scope)
	}
}

func TestExchangeErrors(t *testing.T) {
	tests := []struct {
		name     string
		run      func(t *testing.T, g testFake) error
		wantCode string
	}{
		{"unknown code", func(t *testing.T, g testFake) error {
			_, err := oauthApp(g.GitHub).Exchange(t.Context(), "0123456789abcdef0123", redirectURI, "")
			return err
		}, "bad_verification_code"},
		{"code used twice", func(t *testing.T, g testFake) error {
			o := oauthApp(g.GitHub)
			code := authorize(t, g.GitHub, o, "octocat", "s", "")
			if _, err := o.Exchange(t.Context(), code, redirectURI, ""); err != nil {
				t.Fatal(err)
			}
			_, err := o.Exchange(t.Context(), code, redirectURI, "")
			return err
		}, "bad_verification_code"},
		{"code expired after 10 minutes", func(t *testing.T, g testFake) error {
			o := oauthApp(g.GitHub)
			code := authorize(t, g.GitHub, o, "octocat", "s", "")
			g.Advance(10*time.Minute + time.Second)
			_, err := o.Exchange(t.Context(), code, redirectURI, "")
			return err
		}, "bad_verification_code"},
		{"wrong PKCE verifier", func(t *testing.T, g testFake) error {
			o := oauthApp(g.GitHub)
			code := authorize(t, g.GitHub, o, "octocat", "s", oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
			_, err := o.Exchange(t.Context(), code, redirectURI, oauth2.GenerateVerifier())
			return err
		}, "bad_verification_code"},
		{"missing PKCE verifier", func(t *testing.T, g testFake) error {
			o := oauthApp(g.GitHub)
			code := authorize(t, g.GitHub, o, "octocat", "s", oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
			_, err := o.Exchange(t.Context(), code, redirectURI, "")
			return err
		}, "bad_verification_code"},
		{"code of another app", func(t *testing.T, g testFake) error {
			code := authorize(t, g.GitHub, oauthApp(g.GitHub), "octocat", "s", "")
			_, err := gitHubApp(g.GitHub).Exchange(t.Context(), code, redirectURI, "")
			return err
		}, "bad_verification_code"},
		{"redirect_uri differs", func(t *testing.T, g testFake) error {
			o := oauthApp(g.GitHub)
			code := authorize(t, g.GitHub, o, "octocat", "s", "")
			_, err := o.Exchange(t.Context(), code, "https://evil.example/cb", "")
			return err
		}, "redirect_uri_mismatch"},
		{"wrong client secret", func(t *testing.T, g testFake) error {
			o := oauthApp(g.GitHub)
			code := authorize(t, g.GitHub, o, "octocat", "s", "")
			o.ClientSecret = "wrong"
			_, err := o.Exchange(t.Context(), code, redirectURI, "")
			return err
		}, "incorrect_client_credentials"},
		{"unknown client", func(t *testing.T, g testFake) error {
			o := &github.OAuth{ClientID: "nope", ClientSecret: "x", Endpoints: g.Endpoints()}
			_, err := o.Exchange(t.Context(), "c", redirectURI, "")
			return err
		}, "incorrect_client_credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run(t, testFake{newFake(t)})
			var oe *github.OAuthError
			if !errors.As(err, &oe) {
				t.Fatalf("err = %v, want *OAuthError", err)
			}
			if oe.Code != tt.wantCode {
				t.Errorf("code %q, want %q", oe.Code, tt.wantCode)
			}
			if oe.Description == "" || !strings.HasPrefix(oe.URI, "https://docs.github.com/") {
				t.Errorf("description %q uri %q", oe.Description, oe.URI)
			}
			wantInvalidGrant := tt.wantCode == "bad_verification_code"
			if github.IsInvalidGrant(err) != wantInvalidGrant {
				t.Errorf("IsInvalidGrant = %v, want %v", !wantInvalidGrant, wantInvalidGrant)
			}
		})
	}
}

func TestExchangeHTTPFailure(t *testing.T) {
	g := newFake(t)
	g.FailNext("/login/oauth/access_token", 502)
	_, err := oauthApp(g).Exchange(t.Context(), "code", redirectURI, "")
	var ae *github.APIError
	if !errors.As(err, &ae) || ae.Status != 502 {
		t.Fatalf("err = %v, want APIError 502", err)
	}
	if github.IsInvalidGrant(err) {
		t.Error("a 502 counted as a dead grant")
	}
}

func TestRefreshRotation(t *testing.T) {
	_, o, c, first := appSignIn(t, "octocat")

	second, err := o.Refresh(t.Context(), first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if second.AccessToken == first.AccessToken || second.RefreshToken == first.RefreshToken {
		t.Fatal("refresh did not rotate the tokens")
	}
	if _, err := c.User(t.Context(), second.AccessToken); err != nil {
		t.Errorf("new access token: %v", err)
	}
	if _, err := c.User(t.Context(), first.AccessToken); !github.IsUnauthorized(err) {
		t.Errorf("old access token after refresh: err = %v, want 401", err)
	}

	_, err = o.Refresh(t.Context(), first.RefreshToken)
	var oe *github.OAuthError
	if !errors.As(err, &oe) || oe.Code != "bad_refresh_token" || !github.IsInvalidGrant(err) {
		t.Fatalf("reusing the old refresh token: err = %v, want bad_refresh_token", err)
	}

	third, err := o.Refresh(t.Context(), second.RefreshToken)
	if err != nil {
		t.Fatalf("the current refresh token stopped working: %v", err)
	}
	if third.RefreshToken == second.RefreshToken {
		t.Error("no rotation on the second refresh")
	}
}

func TestRefreshAfterExpiryAndRevocation(t *testing.T) {
	g, o, c, tok := appSignIn(t, "octocat")

	g.ExpireUserTokens("octocat")
	if _, err := c.User(t.Context(), tok.AccessToken); !github.IsUnauthorized(err) {
		t.Fatalf("expired token: err = %v, want 401", err)
	}
	tok, err := o.Refresh(t.Context(), tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh after expiry: %v", err)
	}
	if _, err := c.User(t.Context(), tok.AccessToken); err != nil {
		t.Fatalf("refreshed token: %v", err)
	}

	g.Advance(8*time.Hour + time.Second)
	if _, err := c.User(t.Context(), tok.AccessToken); !github.IsUnauthorized(err) {
		t.Fatalf("token after 8h: err = %v, want 401", err)
	}
	if tok, err = o.Refresh(t.Context(), tok.RefreshToken); err != nil {
		t.Fatalf("refresh after 8h: %v", err)
	}

	g.RevokeAuthorization("octocat")
	if _, err := c.User(t.Context(), tok.AccessToken); !github.IsUnauthorized(err) {
		t.Errorf("revoked token: err = %v, want 401", err)
	}
	if _, err := o.Refresh(t.Context(), tok.RefreshToken); !github.IsInvalidGrant(err) {
		t.Errorf("refresh after revocation: err = %v, want bad_refresh_token", err)
	}
}

func TestRefreshWithOAuthAppFails(t *testing.T) {
	g := newFake(t)
	tok := login(t, g, gitHubApp(g), "octocat")
	if _, err := oauthApp(g).Refresh(t.Context(), tok.RefreshToken); !github.IsInvalidGrant(err) {
		t.Errorf("refresh with another app's credentials: err = %v, want bad_refresh_token", err)
	}
	if _, err := gitHubApp(g).Refresh(t.Context(), ""); err == nil {
		t.Error("empty refresh token accepted")
	}
}

func TestConcurrentRefreshOnlyOneWins(t *testing.T) {
	g := newFake(t)
	o := gitHubApp(g)
	tok := login(t, g, o, "octocat")
	g.SetTokenDelay(50 * time.Millisecond)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = o.Refresh(t.Context(), tok.RefreshToken)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !github.IsInvalidGrant(err):
			t.Errorf("unexpected error %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d refreshes succeeded, want exactly 1", ok)
	}
	if got := g.Requests("/login/oauth/access_token"); got != n+1 {
		t.Errorf("%d token requests, want %d", got, n+1)
	}
}

func TestExchangeHonoursContext(t *testing.T) {
	g := newFake(t)
	g.SetTokenDelay(5 * time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := oauthApp(g).Exchange(ctx, "code", redirectURI, "")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Error("Exchange did not stop at the deadline")
	}
}

func TestExchangeErrorHidesSecrets(t *testing.T) {
	g := newFake(t)
	o := oauthApp(g)
	o.ClientSecret = "wrong-but-secret-value"
	_, err := o.Exchange(t.Context(), "the-code-value", redirectURI, "the-verifier-value")
	if err == nil {
		t.Fatal("no error")
	}
	for _, s := range []string{"wrong-but-secret-value", "the-code-value", "the-verifier-value"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q contains %q", err, s)
		}
	}
}
