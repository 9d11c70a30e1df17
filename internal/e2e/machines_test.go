package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-auth/gatehouse/internal/jwks"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/fakegithub"
)

// bearerGet sends GET path with "Authorization: Bearer tok".
func bearerGet(t *testing.T, path, tok string) (*http.Response, string) {
	t.Helper()
	resp := request(t, "GET", path, "", map[string]string{"Authorization": "Bearer " + tok, "Accept": "application/json"}, "")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

// TestGitHubActionsBearer: a GitHub Actions workflow calls the app with
// its OIDC token (shaped like GitHub's documented example, from a GitHub
// Enterprise Server-style issuer at base_url). The workflow gets an
// identity without a session or cookie, allow repo admits its repository
// and no other, and its claims reach the upstream; every invalid token
// gets 401 with a reason and nothing reaches the upstream.
func TestGitHubActionsBearer(t *testing.T) {
	actions := fakegithub.NewActions()
	defer actions.Close()
	const aud = "https://app.example.com"
	load(t, config{store: "redis", extra: fmt.Sprintf(`jwt_issuer github_actions {
			audience %s
			base_url %s
		}
		allow repo octo-org/octo-repo
		allow user alice`, aud, actions.BaseURL()),
		site: "header >X-Seen-Ref {http.auth.user.claim.ref}\n\theader >X-Seen-Workflow {http.auth.user.workflow}"})

	tok := actions.Token(aud, nil)
	resp, body := bearerGet(t, "/deploy", tok)
	if resp.StatusCode != 200 {
		t.Fatalf("workflow token: %d %s", resp.StatusCode, body)
	}
	var echo testsupport.Echo
	if err := json.Unmarshal([]byte(body), &echo); err != nil {
		t.Fatal(err)
	}
	h := http.Header(echo.Headers)
	for k, want := range map[string]string{
		"X-Auth-Provider": "github_actions", "X-Auth-User": "octocat", "X-Auth-Repos": "octo-org/octo-repo",
		"X-Auth-Groups": "octo-org", "X-Auth-User-Id": "github_actions:repo:octo-org/octo-repo:environment:prod",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("upstream %s = %q, want %q", k, got, want)
		}
	}
	if h.Get("Authorization") != "" || len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("the token went upstream (%q) or a cookie was set (%v)", h.Get("Authorization"), resp.Header.Values("Set-Cookie"))
	}
	claims := jwtClaims(t, h.Get("X-Auth-Jwt"))
	if claims["ref"] != "refs/heads/main" || claims["workflow"] != "example-workflow" || claims["environment"] != "prod" ||
		claims["repos"] == nil || claims["sub"] != "github_actions:repo:octo-org/octo-repo:environment:prod" {
		t.Fatalf("X-Auth-Jwt claims: %v", claims)
	}
	if resp.Header.Get("X-Seen-Ref") != "refs/heads/main" || resp.Header.Get("X-Seen-Workflow") != "example-workflow" {
		t.Fatalf("claim placeholders: ref %q, workflow %q", resp.Header.Get("X-Seen-Ref"), resp.Header.Get("X-Seen-Workflow"))
	}
	// The verification is remembered: the keys were fetched once.
	for range 3 {
		if resp, _ := bearerGet(t, "/again", tok); resp.StatusCode != 200 {
			t.Fatalf("the same token again: %d", resp.StatusCode)
		}
	}
	if n := actions.JWKSFetches(); n != 1 {
		t.Fatalf("the keys were fetched %d times, want 1", n)
	}
	// Concurrent requests share the remembered identity (and its
	// projection): make test runs this under the race detector.
	fresh := actions.Token(aud, map[string]any{"jti": "concurrent"})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				resp, err := tryRequest("GET", site+"/concurrent", "", map[string]string{"Authorization": "Bearer " + fresh}, "")
				if err != nil {
					t.Errorf("concurrent request: %v", err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("concurrent request: %d", resp.StatusCode)
				}
			}
		}()
	}
	wg.Wait()
	// Forward auth answers for the workflow too.
	if resp, _ := bearerGet(t, "/.gatehouse/auth", tok); resp.StatusCode != 200 || resp.Header.Get("X-Auth-Repos") != "octo-org/octo-repo" {
		t.Fatalf("/auth with the workflow's token: %d %v", resp.StatusCode, resp.Header)
	}

	// A workflow of another repository is not admitted.
	upstream.Reset()
	other := actions.Token(aud, map[string]any{"repository": "evil-org/app", "repository_owner": "evil-org", "sub": "repo:evil-org/app:ref:refs/heads/main"})
	if resp, body := bearerGet(t, "/deploy", other); resp.StatusCode != http.StatusForbidden || upstream.Hits() != 0 {
		t.Fatalf("another repository's workflow: %d %s (upstream hit %d times)", resp.StatusCode, body, upstream.Hits())
	}

	// A workflow whose actor has a person's login does not pass that
	// person's user rule: anyone can run a workflow in a repository of
	// their own under any GitHub name (or be made its actor by a star).
	upstream.Reset()
	impostor := actions.Token(aud, map[string]any{"repository": "evil-org/app", "repository_owner": "evil-org", "actor": "alice", "sub": "repo:evil-org/app:ref:refs/heads/main"})
	if resp, body := bearerGet(t, "/deploy", impostor); resp.StatusCode != http.StatusForbidden || upstream.Hits() != 0 {
		t.Fatalf("a workflow with actor alice: %d %s (upstream hit %d times)", resp.StatusCode, body, upstream.Hits())
	}

	// Invalid tokens: 401 with the reason, and nothing upstream.
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	valid := fakegithub.ActionsClaims(aud)
	valid["iss"], valid["iat"], valid["exp"] = actions.Issuer(), time.Now().Unix(), time.Now().Add(10*time.Minute).Unix()
	bad := map[string]struct {
		tok, reason string
	}{
		"expired":                   {actions.Token(aud, map[string]any{"iat": time.Now().Add(-time.Hour).Unix(), "nbf": time.Now().Add(-time.Hour).Unix(), "exp": time.Now().Add(-time.Minute).Unix()}), "expired"},
		"wrong audience":            {actions.Token("https://other.example.com", nil), "audience"},
		"no exp":                    {actions.Token(aud, map[string]any{"exp": nil}), "expired"},
		"alg none":                  {fakegithub.Unsigned(valid), "algorithm"},
		"HS256 with the public key": {actions.Sign(valid, jose.HS256, actions.PublicKeyPEM(), "cc413527-173f-5a05-976e-9c52b1d7b431"), "algorithm"},
		"ES256 by another key":      {actions.Sign(valid, jose.ES256, ecKey, "cc413527-173f-5a05-976e-9c52b1d7b431"), "algorithm"},
		"forged, the service's kid": {actions.Sign(valid, jose.RS256, otherKey, "cc413527-173f-5a05-976e-9c52b1d7b431"), "signature"},
		"unknown kid":               {actions.Sign(valid, jose.RS256, otherKey, "not-a-github-kid"), "kid"},
		"damaged signature":         {tok[:len(tok)-4] + "AAAA", "signature"},
	}
	for name, c := range bad {
		upstream.Reset()
		resp, body := bearerGet(t, "/deploy", c.tok)
		if resp.StatusCode != http.StatusUnauthorized || upstream.Hits() != 0 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) ||
			!strings.Contains(body, `"error":"invalid_token"`) || !strings.Contains(body, c.reason) {
			t.Errorf("%s: %d %s (WWW-Authenticate %q; upstream hit %d times)", name, resp.StatusCode, body, resp.Header.Get("WWW-Authenticate"), upstream.Hits())
		}
	}
	// A token of an issuer nobody trusts, or whose issuer cannot be read,
	// is not Gatehouse's: the request has no identity, as without a token.
	upstream.Reset()
	if resp, body := bearerGet(t, "/deploy", strings.Replace(tok, ".", ".x", 1)); resp.StatusCode != http.StatusUnauthorized ||
		!strings.Contains(body, `"error":"unauthenticated"`) || upstream.Hits() != 0 {
		t.Fatalf("unreadable token: %d %s", resp.StatusCode, body)
	}
	stranger := maps.Clone(valid)
	stranger["iss"] = "https://token.actions.githubusercontent.com"
	upstream.Reset()
	if resp, body := bearerGet(t, "/deploy", actions.Sign(stranger, jose.RS256, otherKey, "k")); resp.StatusCode != http.StatusUnauthorized ||
		!strings.Contains(body, `"error":"unauthenticated"`) || upstream.Hits() != 0 {
		t.Fatalf("wrong issuer: %d %s", resp.StatusCode, body)
	}
	// Forgeries make the keys be fetched again only within the limit.
	for range 20 {
		if resp, body := bearerGet(t, "/deploy", actions.Sign(valid, jose.RS256, otherKey, "not-a-github-kid")); !strings.Contains(body, "invalid_token") {
			t.Fatalf("forgery: %d %s", resp.StatusCode, body)
		}
	}
	if n := actions.JWKSFetches(); n > 1+jwks.RefetchBurst {
		t.Fatalf("the keys were fetched %d times for %d forged tokens", n, len(bad)+20)
	}
	// A person's session still works beside the issuer.
	if _, tok := login(t, browsertest.NewBrowser(t), "/"); tok == "" {
		t.Fatal("no session")
	}
}

// A trusted issuer of your own: its keys at jwks_url, its claims mapped
// by claims { }, through Caddy. An issuer whose keys cannot be fetched
// gets 502 with Retry-After, never a pass without identity.
func TestJWTIssuerWithJWKSURLAndClaims(t *testing.T) {
	actions := fakegithub.NewActions()
	defer actions.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	load(t, config{extra: fmt.Sprintf(`jwt_issuer ci {
			issuer %s
			audience ci-app
			jwks_url %s/.well-known/jwks
			claims {
				id repository_id
				login actor
				groups repository_owner
			}
		}
		jwt_issuer flaky {
			issuer https://flaky.example.com
			audience ci-app
			jwks_url %s/keys
		}`, actions.Issuer(), actions.Issuer(), down.URL)})

	resp, body := bearerGet(t, "/build", actions.Token("ci-app", nil))
	var echo testsupport.Echo
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &echo) != nil {
		t.Fatalf("token of the ci issuer: %d %s", resp.StatusCode, body)
	}
	h := http.Header(echo.Headers)
	for k, want := range map[string]string{"X-Auth-Provider": "ci", "X-Auth-User-Id": "ci:74", "X-Auth-User": "octocat", "X-Auth-Groups": "octo-org", "X-Auth-Repos": ""} {
		if got := h.Get(k); got != want {
			t.Errorf("upstream %s = %q, want %q", k, got, want)
		}
	}

	claims := fakegithub.ActionsClaims("ci-app")
	claims["iss"], claims["iat"], claims["exp"] = "https://flaky.example.com", time.Now().Unix(), time.Now().Add(time.Minute).Unix()
	upstream.Reset()
	resp, body = bearerGet(t, "/build", actions.Sign(claims, jose.RS256, testsupport.RSAKey(), "k"))
	if resp.StatusCode != http.StatusBadGateway || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "provider_unavailable") || upstream.Hits() != 0 {
		t.Fatalf("issuer whose keys cannot be fetched: %d %s (Retry-After %q, upstream hit %d times)", resp.StatusCode, body, resp.Header.Get("Retry-After"), upstream.Hits())
	}
}
