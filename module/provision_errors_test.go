package module

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// unset is a placeholder of an environment variable no test sets.
const unset = "{env.GATEHOUSE_TEST_UNSET}"

// TestProvisionErrorsNamePlaceholders: every error found at provision
// starts with "gatehouse:" (Caddy prints it at the end of a long chain of
// module names), names the subdirective, and, when the value came from a
// placeholder that resolved to nothing, names that placeholder, instead of
// falling back to a default (a Redis at 127.0.0.1:6379, any Google
// account, a public client).
func TestProvisionErrorsNamePlaceholders(t *testing.T) {
	providerEnv(t)
	t.Setenv("GATEHOUSE_TEST_SHORT_SECRET", "sh0rt-s3cret")
	t.Setenv("GATEHOUSE_TEST_KEY_FILE", "/nonexistent/gatehouse/key.pem")
	secret := strings.Repeat("s", 40)
	dir := t.TempDir()
	shortFile := filepath.Join(dir, "short")
	if err := os.WriteFile(shortFile, []byte("sh0rt-s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	app := func(a GitHubAppConfig) *GitHubAppConfig {
		if a.ClientID == "" {
			a.ClientID = "Iv1.x"
		}
		if a.ClientSecret == "" {
			a.ClientSecret = "s"
		}
		if a.WebhookSecret == "" {
			a.WebhookSecret = "w"
		}
		return &a
	}
	with := func(f func(h *Handler)) Handler {
		h := Handler{Secret: secret, ProvidersRaw: oidcProvider()}
		f(&h)
		return h
	}
	cases := map[string]struct {
		h    Handler
		want []string // each must be in the message, the first right after "gatehouse: "
	}{
		// secret: its length, and what to set; never its value.
		"secret missing": {with(func(h *Handler) { h.Secret = "" }),
			[]string{"secret is required: at least 32 bytes, e.g. secret {env.GATEHOUSE_SECRET}"}},
		"secret short, literal": {with(func(h *Handler) { h.Secret = "sh0rt-s3cret" }),
			[]string{"secret is 12 bytes; it must be at least 32 (generate one with openssl rand -base64 48"}},
		"secret short, env": {with(func(h *Handler) { h.Secret = "{env.GATEHOUSE_TEST_SHORT_SECRET}" }),
			[]string{"secret is 12 bytes after placeholders are resolved; it must be at least 32 (set GATEHOUSE_TEST_SHORT_SECRET, e.g. openssl rand -base64 48)"}},
		"secret short, file": {with(func(h *Handler) { h.Secret = "{file." + shortFile + "}" }),
			[]string{"secret is 12 bytes after placeholders are resolved; it must be at least 32 (write it to " + shortFile + ", e.g. openssl rand -base64 48)"}},
		"secret unset": {with(func(h *Handler) { h.Secret = unset }),
			[]string{"secret is empty after placeholders are resolved ({env.GATEHOUSE_TEST_UNSET} unset?); it must be at least 32 bytes (set GATEHOUSE_TEST_UNSET"}},
		"secret file missing": {with(func(h *Handler) { h.Secret = "{file." + filepath.Join(dir, "none") + "}" }),
			[]string{"secret is empty after placeholders are resolved ({file." + filepath.Join(dir, "none") + "} missing or empty?)"}},

		"previous secret short": {with(func(h *Handler) { h.PreviousSecrets = []string{strings.Repeat("p", 40), "sh0rt-s3cret"} }),
			[]string{"previous_secrets (value 2) is 12 bytes; it must be at least 32"}},
		"previous secret unset": {with(func(h *Handler) { h.PreviousSecrets = []string{unset} }),
			[]string{"previous_secrets (value 1) is empty after placeholders are resolved ({env.GATEHOUSE_TEST_UNSET} unset?)"}},
		"previous secret is the secret": {with(func(h *Handler) { h.PreviousSecrets = []string{secret} }),
			[]string{"previous_secrets (value 1) is the current secret; after a rotation, secret is the new value and previous_secrets the old one"}},

		// Providers.
		"provider client_id unset": {with(func(h *Handler) { h.ProvidersRaw = providersJSON(corp("client_id", unset)) }),
			[]string{"provider corp: client_id is empty after placeholders are resolved ({env.GATEHOUSE_TEST_UNSET} unset?)"}},
		"provider client_secret unset": {with(func(h *Handler) { h.ProvidersRaw = providersJSON(corp("client_secret", unset)) }),
			[]string{"provider corp: client_secret is empty after placeholders are resolved ({env.GATEHOUSE_TEST_UNSET} unset?)"}},
		"provider issuer unset": {with(func(h *Handler) { h.ProvidersRaw = providersJSON(corp("issuer", unset)) }),
			[]string{"provider corp: issuer is empty after placeholders are resolved ({env.GATEHOUSE_TEST_UNSET} unset?)"}},
		"provider issuer partly unset": {with(func(h *Handler) {
			h.ProvidersRaw = providersJSON(corp("issuer", "{env.GATEHOUSE_TEST_UNSET_SCHEME}"+unset))
		}),
			[]string{"provider corp: issuer is empty after placeholders are resolved ({env.GATEHOUSE_TEST_UNSET_SCHEME} unset? {env.GATEHOUSE_TEST_UNSET} unset?)"}},
		"google hosted_domain unset": {with(func(h *Handler) {
			h.ProvidersRaw = providersJSON(providerObj{"type": "google", "client_id": "c", "client_secret": "s", "hosted_domain": unset})
		}), []string{"provider google: hosted_domain is empty after placeholders are resolved ({env.GATEHOUSE_TEST_UNSET} unset?)"}},
		"microsoft tenant unset": {with(func(h *Handler) {
			h.ProvidersRaw = providersJSON(providerObj{"type": "microsoft", "client_id": "c", "client_secret": "s", "tenant": unset})
		}), []string{"provider microsoft: tenant is empty after placeholders are resolved"}},
		"github base_url unset": {with(func(h *Handler) {
			h.ProvidersRaw = providersJSON(providerObj{"type": "github", "name": "ghe", "client_id": "c", "client_secret": "s", "base_url": unset})
		}), []string{"provider ghe: base_url is empty after placeholders are resolved"}},
		"oauth2 token_url unset": {with(func(h *Handler) {
			h.ProvidersRaw = providersJSON(providerObj{"type": "oauth2", "name": "fit", "client_id": "c", "auth_url": "https://o.example.com/a",
				"token_url": unset, "userinfo_url": "https://o.example.com/u"})
		}), []string{"provider fit: token_url is empty after placeholders are resolved"}},

		// The store.
		"store redis url unset": {with(func(h *Handler) { h.Store = &StoreConfig{Type: "redis", URL: "{env.GATEHOUSE_TEST_REDIS_URL}"} }),
			[]string{"store redis url is empty after placeholders are resolved ({env.GATEHOUSE_TEST_REDIS_URL} unset?)"}},
		"store redis address unset": {with(func(h *Handler) { h.Store = &StoreConfig{Type: "redis", Addresses: []string{"a:1", unset}} }),
			[]string{"store redis address is empty after placeholders are resolved ({env.GATEHOUSE_TEST_UNSET} unset?)"}},
		"store redis master_name unset": {with(func(h *Handler) {
			h.Store = &StoreConfig{Type: "redis", Addresses: []string{"a:1", "b:2"}, MasterName: unset}
		}), []string{"store redis master_name is empty after placeholders are resolved"}},
		"store redis key_prefix unset": {with(func(h *Handler) { h.Store = &StoreConfig{Type: "redis", URL: "redis://a:1", KeyPrefix: unset} }),
			[]string{"store redis key_prefix is empty after placeholders are resolved"}},
		"store redis bad url": {with(func(h *Handler) { h.Store = &StoreConfig{Type: "redis", URL: "http://cache:6379"} }),
			[]string{`store redis: url scheme "http": want redis, rediss or unix`}},

		// Other top-level values.
		"external_url unset": {with(func(h *Handler) { h.ExternalURL = unset }),
			[]string{"external_url is empty after placeholders are resolved ({env.GATEHOUSE_TEST_UNSET} unset?)"}},
		"external_url with a path, from env": {with(func(h *Handler) { h.ExternalURL = "{env.GH_TEST_CLIENT_ID}" }),
			[]string{"external_url (from {env.GH_TEST_CLIENT_ID}): \"client\" must be an origin"}},
		"allow value unset": {with(func(h *Handler) { h.Allow = []AllowRule{{Kind: "email", Values: []string{"a@example.com", unset}}} }),
			[]string{"allow email is empty after placeholders are resolved ({env.GATEHOUSE_TEST_UNSET} unset?)"}},
		"redirect_domains unset": {with(func(h *Handler) { h.RedirectDomains = []string{unset} }),
			[]string{"redirect_domains is empty after placeholders are resolved"}},
		"connections_secret unset": {with(func(h *Handler) {
			h.ConnectionsSecret = unset
			h.Connections = []ConnectionConfig{{Name: "whoop", Type: "oauth2", AuthURL: "https://w.example.com/a",
				TokenURL: "https://w.example.com/t", ClientID: "c", ClientSecret: "s"}}
		}),
			[]string{"connections_secret is empty after placeholders are resolved ({env.GATEHOUSE_TEST_UNSET} unset?)"}},

		// Key files.
		"assertion_key missing": {with(func(h *Handler) { h.AssertionKey = "/nonexistent/gatehouse/assertion.pem" }),
			[]string{"assertion_key: open /nonexistent/gatehouse/assertion.pem: no such file or directory", "openssl genpkey",
				"the path is read on the machine that runs Caddy"}},
		"assertion_key unset": {with(func(h *Handler) { h.AssertionKey = unset }),
			[]string{"assertion_key is empty after placeholders are resolved ({env.GATEHOUSE_TEST_UNSET} unset?)"}},
		"assertion_key from env, missing": {with(func(h *Handler) { h.AssertionKey = "{env.GATEHOUSE_TEST_KEY_FILE}" }),
			[]string{"assertion_key (from {env.GATEHOUSE_TEST_KEY_FILE}): open /nonexistent/gatehouse/key.pem: no such file or directory"}},
		"previous_assertion_keys unset": {with(func(h *Handler) { h.PreviousAssertionKeys = []string{unset} }),
			[]string{"previous_assertion_keys is empty after placeholders are resolved"}},
		"github_app private_key_file missing": {with(func(h *Handler) {
			h.GitHubApp = app(GitHubAppConfig{AppID: "1", PrivateKeyFile: "/x.pem"})
		}), []string{"github_app private_key_file: open /x.pem: no such file or directory", "download a private key from the App's settings page"}},
		"github_app private_key_file unset": {with(func(h *Handler) { h.GitHubApp = app(GitHubAppConfig{AppID: "1", PrivateKeyFile: unset}) }),
			[]string{"github_app private_key_file is empty after placeholders are resolved ({env.GATEHOUSE_TEST_UNSET} unset?)"}},
		"github_app app_id unset": {with(func(h *Handler) { h.GitHubApp = app(GitHubAppConfig{AppID: unset, PrivateKeyFile: "/x.pem"}) }),
			[]string{"github_app app_id is empty after placeholders are resolved ({env.GATEHOUSE_TEST_UNSET} unset?)"}},
		"github_app app_id missing": {with(func(h *Handler) { h.GitHubApp = app(GitHubAppConfig{PrivateKeyFile: "/x.pem"}) }),
			[]string{"github_app app_id is required with private_key_file"}},
		"github_app client_id unset": {with(func(h *Handler) { h.GitHubApp = app(GitHubAppConfig{ClientID: unset}) }),
			[]string{"github_app client_id is empty after placeholders are resolved ({env.GATEHOUSE_TEST_UNSET} unset?)"}},
		"github_app webhook_secret unset": {with(func(h *Handler) { h.GitHubApp = app(GitHubAppConfig{WebhookSecret: unset}) }),
			[]string{"github_app webhook_secret is empty after placeholders are resolved"}},

		// Nango and connections.
		"nango secret_key unset": {with(func(h *Handler) { h.Nango = &NangoConfig{SecretKey: unset, WebhookSecret: "w"} }),
			[]string{"nango secret_key is empty after placeholders are resolved ({env.GATEHOUSE_TEST_UNSET} unset?)"}},
		"nango sync_forward unset": {with(func(h *Handler) { h.Nango = &NangoConfig{SecretKey: "k", WebhookSecret: "w", SyncForward: unset} }),
			[]string{"nango sync_forward is empty after placeholders are resolved"}},
		"connection client_id unset": {with(func(h *Handler) {
			h.Connections = []ConnectionConfig{{Name: "whoop", Type: "oauth2", AuthURL: "https://w.example.com/a",
				TokenURL: "https://w.example.com/t", ClientID: unset}}
		}), []string{"connection whoop: client_id is empty after placeholders are resolved ({env.GATEHOUSE_TEST_UNSET} unset?)"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			h := c.h
			err := provision(&h)
			if err == nil {
				t.Fatal("provisioned")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "gatehouse: "+c.want[0]) {
				t.Errorf("error\n  %s\ndoes not start with\n  gatehouse: %s", msg, c.want[0])
			}
			for _, w := range c.want[1:] {
				if !strings.Contains(msg, w) {
					t.Errorf("error\n  %s\ndoes not contain\n  %s", msg, w)
				}
			}
			if strings.Contains(msg, "sh0rt-s3cret") {
				t.Errorf("error %q gives the secret away", msg)
			}
		})
	}
}

// Optional values may resolve to nothing: they are then not set.
func TestProvisionOptionalPlaceholdersMayBeEmpty(t *testing.T) {
	providerEnv(t)
	h := &Handler{
		Secret: strings.Repeat("s", 40), ProvidersRaw: oidcProvider(), Title: unset, Logo: unset,
		Nango: &NangoConfig{SecretKey: "k", WebhookSecret: "w", PreviousWebhookSecret: unset, Label: unset},
	}
	provisionT(t, h)
	if h.gate.Brand.Title != "" || h.gate.Brand.Logo != "" {
		t.Errorf("brand %+v, want none", h.gate.Brand)
	}
}
