package module

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/gatehouse-auth/gatehouse/internal/identity"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
	"github.com/gatehouse-auth/gatehouse/internal/session"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/fakegithub"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/fakenango"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/redistest"
)

// secretFile writes value and a trailing newline, as editors and
// `echo value > file` leave it, to a file in dir, and returns the {file.*}
// placeholder that reads it.
func secretFile(t *testing.T, dir, name, value string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(value+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return "{file." + p + "}"
}

// provisionT provisions h and cleans it up when the test ends.
func provisionT(t *testing.T, h *Handler) {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	if err := h.Provision(ctx); err != nil {
		t.Fatalf("provision: %v", err)
	}
	t.Cleanup(func() { _ = h.Cleanup() })
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
}

// Caddy's {file.*} placeholder (caddy v2.11.9 replacer.go,
// fileReplacementProvider) drops one trailing "\n" and then one "\r" of
// the file, so a secret file ending in a newline or CRLF yields the secret
// alone; a second newline is kept. A file that cannot be read yields "".
func TestFilePlaceholderTrimsOneNewline(t *testing.T) {
	dir := t.TempDir()
	repl := caddy.NewReplacer()
	for content, want := range map[string]string{
		"s3cret": "s3cret", "s3cret\n": "s3cret", "s3cret\r\n": "s3cret", "s3cret\n\n": "s3cret\n", " s3cret \n": " s3cret ",
	} {
		p := filepath.Join(dir, "f")
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := repl.ReplaceKnown("{file."+p+"}", ""); got != want {
			t.Errorf("{file.*} of %q = %q, want %q", content, got, want)
		}
	}
	if got := repl.ReplaceKnown("{file."+filepath.Join(dir, "missing")+"}", ""); got != "" {
		t.Errorf("{file.*} of a missing file = %q, want empty", got)
	}
}

// tokenCapture is a token endpoint that records the client secret of each
// request and refuses the code.
type tokenCapture struct {
	mu      sync.Mutex
	secrets []string
}

func (c *tokenCapture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	secret := r.PostForm.Get("client_secret")
	if _, pw, ok := r.BasicAuth(); ok {
		secret, _ = url.QueryUnescape(pw)
	}
	c.mu.Lock()
	c.secrets = append(c.secrets, secret)
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"test"}`))
}

func (c *tokenCapture) last() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.secrets) == 0 {
		return ""
	}
	return c.secrets[len(c.secrets)-1]
}

// webhook posts body to the handler's path, signed with header set by
// sign, and returns the status.
func webhook(t *testing.T, h *Handler, path string, body []byte, sign func(http.Header)) int {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "http://app.example.com"+path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	sign(r.Header)
	repl := caddyhttp.NewTestReplacer(r)
	ctx := context.WithValue(r.Context(), caddy.ReplacerCtxKey, repl)
	ctx = context.WithValue(ctx, caddyhttp.VarsCtxKey, map[string]any{})
	w := httptest.NewRecorder()
	if err := h.ServeHTTP(w, r.WithContext(ctx), okNext); err != nil {
		t.Fatal(err)
	}
	return w.Code
}

// Every secret can come from a {file.*} placeholder, resolved at
// provision; the file's trailing newline is not part of the secret.
func TestProvisionSecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	const (
		secret            = "file-secret-0123456789abcdef0123456789"
		oauth2Secret      = "oauth2-client-secret"
		githubSecret      = "github-client-secret"
		gitlabSecret      = "gitlab-client-secret"
		appClientSecret   = "app-client-secret"
		appWebhookSecret  = "app-webhook-secret"
		connectionsSecret = "connections-secret"
	)
	tokens := &tokenCapture{}
	srv := httptest.NewServer(tokens)
	defer srv.Close()

	literal := &Handler{Secret: secret, ProvidersRaw: oidcProvider()}
	providerEnv(t)
	provisionT(t, literal)

	h := &Handler{
		Secret: secretFile(t, dir, "secret", secret),
		ProvidersRaw: providersJSON(
			providerObj{"type": "oidc", "name": "corp", "issuer": "https://login.example.com", "client_id": "c",
				"client_secret": secretFile(t, dir, "oidc", "oidc-client-secret")},
			providerObj{"type": "oauth2", "name": "fit", "auth_url": srv.URL + "/auth", "token_url": srv.URL + "/token", "userinfo_url": srv.URL + "/user",
				"client_id": "c", "client_secret": secretFile(t, dir, "oauth2", oauth2Secret)},
			providerObj{"type": "github", "client_id": "c", "client_secret": secretFile(t, dir, "github", githubSecret), "base_url": srv.URL, "api_url": srv.URL},
			providerObj{"type": "gitlab", "client_id": "c", "client_secret": secretFile(t, dir, "gitlab", gitlabSecret), "base_url": srv.URL},
		),
		GitHubApp: &GitHubAppConfig{ClientID: "Iv1.c",
			ClientSecret:  secretFile(t, dir, "app-client", appClientSecret),
			WebhookSecret: secretFile(t, dir, "app-webhook", appWebhookSecret)},
		Connections: []ConnectionConfig{
			{Name: "whoop", Type: "oauth2", AuthURL: srv.URL + "/auth", TokenURL: srv.URL + "/token", ClientID: "c",
				ClientSecret: secretFile(t, dir, "whoop", "whoop-client-secret")},
			{Name: "garmin", Type: "oauth1", RequestTokenURL: srv.URL + "/request", AuthorizeURL: srv.URL + "/authorize",
				AccessTokenURL: srv.URL + "/access", ConsumerKey: "k", ConsumerSecret: secretFile(t, dir, "garmin", "garmin-consumer-secret")},
		},
		ConnectionsSecret: secretFile(t, dir, "connections", connectionsSecret),
	}
	provisionT(t, h)

	// secret: the keys derived from it are those of the literal secret.
	got, _ := h.gate.Assertion.JWKS()
	want, _ := literal.gate.Assertion.JWKS()
	if !bytes.Equal(got, want) {
		t.Error("the JWKS of the secret read from a file differs from that of the same secret written literally")
	}
	// connections_secret: the token endpoint takes the secret without the
	// newline (the user has no link: 404), and refuses anything else.
	for secret, want := range map[string]int{connectionsSecret: http.StatusNotFound, connectionsSecret + "x": http.StatusUnauthorized} {
		r := httptest.NewRequest(http.MethodGet, "http://app.example.com/.gatehouse/connections/whoop/token?user_id=corp:1", nil)
		r.Header.Set("X-Gatehouse-Secret", secret)
		r.Header.Set("Accept", "application/json")
		ctx := context.WithValue(r.Context(), caddyhttp.ExtraLogFieldsCtxKey, new(caddyhttp.ExtraLogFields))
		r = r.WithContext(context.WithValue(ctx, caddyhttp.VarsCtxKey, map[string]any{}))
		r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddyhttp.NewTestReplacer(r)))
		w := httptest.NewRecorder()
		_ = h.ServeHTTP(w, r, okNext)
		if w.Code != want {
			t.Errorf("token endpoint with secret %q: %d, want %d: %s", secret, w.Code, want, w.Body)
		}
	}

	// Provider client secrets reach the token endpoint without the newline.
	for name, want := range map[string]string{"fit": oauth2Secret, "github": githubSecret, "gitlab": gitlabSecret} {
		var auth provider.Provider
		for _, p := range h.gate.Providers {
			if p.Name == name {
				auth = p.Auth
			}
		}
		if auth == nil {
			t.Fatalf("provider %s not provisioned", name)
		}
		if _, _, err := auth.Exchange(context.Background(), "code", srv.URL+"/callback", "verifier-0123456789abcdef0123456789abcdef0123", "nonce"); err == nil {
			t.Fatalf("provider %s: the exchange was refused, yet succeeded", name)
		}
		if got := tokens.last(); got != want {
			t.Errorf("provider %s sent client_secret %q, want %q", name, got, want)
		}
	}

	// github_app webhook_secret: deliveries signed with the file's secret
	// are accepted (202: verified, an event Gatehouse ignores); with the
	// newline kept they would not be.
	body := []byte(`{"zen":"test"}`)
	for key, status := range map[string]int{appWebhookSecret: http.StatusAccepted, appWebhookSecret + "\n": http.StatusUnauthorized} {
		code := webhook(t, h, "/.gatehouse/webhooks/github", body, func(hd http.Header) {
			hd.Set("X-GitHub-Event", "star")
			hd.Set("X-GitHub-Delivery", "d-1")
			hd.Set("X-Hub-Signature-256", fakegithub.SignGitHubBody(key, body))
		})
		if code != status {
			t.Errorf("github webhook signed with %q: status %d, want %d", key, code, status)
		}
	}
}

// The nango block's secret_key, webhook_secret and previous_webhook_secret
// can come from files too.
func TestProvisionNangoSecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	const current, previous = "nango-webhook-current", "nango-webhook-previous"
	h := &Handler{
		Secret: secretFile(t, dir, "secret", strings.Repeat("s", 40)),
		Nango: &NangoConfig{
			SecretKey:             secretFile(t, dir, "key", "nango-secret-key"),
			WebhookSecret:         secretFile(t, dir, "current", current),
			PreviousWebhookSecret: secretFile(t, dir, "previous", previous),
		},
	}
	provisionT(t, h)
	body := []byte(`{"type":"gatehouse-test","from":"nango"}`)
	for key, status := range map[string]int{
		current: http.StatusAccepted, previous: http.StatusAccepted,
		current + "\n": http.StatusUnauthorized, previous + "\n": http.StatusUnauthorized,
	} {
		code := webhook(t, h, "/.gatehouse/webhooks/nango", body, func(hd http.Header) {
			sig, _ := fakenango.NangoSign([]byte(key), body)
			hd.Set("X-Nango-Hmac-Sha256", sig)
		})
		if code != status {
			t.Errorf("nango webhook signed with %q: status %d, want %d", key, code, status)
		}
	}
}

// The store's password, and a Redis URL carrying one, can come from files:
// a user whose password is the file's content (newline excluded) signs in.
func TestProvisionRedisPasswordFromFile(t *testing.T) {
	if !redistest.Shared.Real {
		t.Skip("needs redis-server for ACL users")
	}
	const user, password = "gatehouse-file-test", "redis-file-password"
	ctx := context.Background()
	c := redistest.Shared.Client()
	if err := c.Do(ctx, "ACL", "SETUSER", user, "on", ">"+password, "~*", "&*", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Do(ctx, "ACL", "DELUSER", user).Err() })
	dir := t.TempDir()
	for name, st := range map[string]*StoreConfig{
		"password": {Type: "redis", Addresses: []string{redistest.Shared.Addr}, Username: user,
			Password: secretFile(t, dir, "password", password), KeyPrefix: "gatehouse-file-test:"},
		"url": {Type: "redis", URL: secretFile(t, dir, "url", "redis://"+user+":"+password+"@"+redistest.Shared.Addr+"/0"),
			KeyPrefix: "gatehouse-file-test:"},
	} {
		t.Run(name, func(t *testing.T) {
			h := &Handler{Secret: strings.Repeat("s", 40), Store: st, ProvidersRaw: oidcProvider()}
			providerEnv(t)
			provisionT(t, h)
			if _, err := h.gate.Sessions.Create(ctx, &session.Session{User: identity.User{UserID: "corp:1", Provider: "corp"}}); err != nil {
				t.Fatalf("writing to Redis as %s: %v", user, err)
			}
		})
	}
}
