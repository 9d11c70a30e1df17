package caddyfile_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	cf "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddytest"
	_ "github.com/caddyserver/caddy/v2/modules/standard"
	"go.uber.org/zap"

	gcf "github.com/gatehouse-auth/gatehouse/caddyfile"
	_ "github.com/gatehouse-auth/gatehouse/module"
	"github.com/gatehouse-auth/gatehouse/providers"
)

// goldenFiles returns testdata/*.caddyfiletest split into Caddyfile and
// expected JSON, keyed by file name.
func goldenFiles(t *testing.T) map[string][2]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.caddyfiletest"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden files in testdata: %v", err)
	}
	newlines := regexp.MustCompile(`\r?\n`)
	out := map[string][2]string{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(newlines.ReplaceAllString(string(data), "\n"), "----------")
		if len(parts) != 2 {
			t.Fatalf("%s: want one ---------- separator, got %d parts", p, len(parts))
		}
		out[filepath.Base(p)] = [2]string{strings.TrimSpace(parts[0]) + "\n", strings.TrimSpace(parts[1])}
	}
	return out
}

// TestCaddyfileAdapt adapts each golden Caddyfile and compares it with the
// JSON that follows the separator, as Caddy's and caddy-l4's tests do.
func TestCaddyfileAdapt(t *testing.T) {
	for name, f := range goldenFiles(t) {
		t.Run(name, func(t *testing.T) {
			caddyfileText, expected := f[0], f[1]
			if strings.Contains(caddyfileText, "order ") {
				t.Errorf("%s: golden Caddyfiles must not need an order line", name)
			}
			if !caddytest.CompareAdapt(t, name, caddyfileText, "caddyfile", expected) {
				t.Errorf("adapted JSON of %s differs from the golden file (diff above)", name)
			}
			// The directive is ordered before reverse_proxy without help.
			g := strings.Index(expected, `"handler": "gatehouse"`)
			r := strings.Index(expected, `"handler": "reverse_proxy"`)
			if g < 0 || r < 0 || g > r {
				t.Errorf("%s: want the gatehouse handler before reverse_proxy (at %d and %d)", name, g, r)
			}
		})
	}
}

// TestGoldenFormatted keeps the golden Caddyfiles as `caddy fmt` writes
// them, except minimal.caddyfiletest, which is the product contract's
// example verbatim (aligned comments included).
func TestGoldenFormatted(t *testing.T) {
	for name, f := range goldenFiles(t) {
		if name == "minimal.caddyfiletest" {
			continue
		}
		if out := string(cf.Format([]byte(f[0]))); out != f[0] {
			t.Errorf("%s is not formatted; caddy fmt gives:\n%s", name, out)
		}
	}
}

// TestGoldenCoverage checks that every subdirective appears in at least one
// golden file.
func TestGoldenCoverage(t *testing.T) {
	var all strings.Builder
	for _, f := range goldenFiles(t) {
		all.WriteString(f[0])
	}
	text := all.String()
	for block, names := range gcf.Subdirectives() {
		for _, n := range names {
			if !regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(n) + `(\s|$)`).MatchString(text) {
				t.Errorf("subdirective %q of block %q is in no golden file", n, block)
			}
		}
	}
}

func TestSubdirectives(t *testing.T) {
	got := gcf.Subdirectives()
	want := map[string][]string{
		"": {"secret", "previous_secrets", "assertion_key", "previous_assertion_keys", "store", "prefix", "provider", "allow", "public", "github_app", "nango", "connection", "jwt_issuer", "device_login", "connections_secret",
			"title", "logo", "pass_access_token", "session_cache", "logins_per_minute", "cookie", "headers", "external_url", "redirect_domains"},
		"connection": {"type", "request_token_url", "authorize_url", "access_token_url", "consumer_key", "consumer_secret",
			"auth_url", "token_url", "revoke_url", "client_id", "client_secret", "scopes", "auth_style", "integration"},
		"nango": {"secret_key", "base_url", "connect_url", "webhook_secret", "previous_webhook_secret", "login_integration",
			"repo_integration", "syncs", "sync_forward", "label", "github_api_url", "recheck_interval"},
		"store redis": {"url", "address", "master_name", "username", "password", "sentinel_password",
			"db", "tls", "key_prefix", "timeout"},
		"provider": {"issuer", "client_id", "client_secret", "scopes", "base_url", "api_url", "redirect_url", "label",
			"hosted_domain", "tenant", "auth_url", "token_url", "userinfo_url", "claims", "timeout"},
		"claims": {"id", "login", "email", "email_verified", "name", "avatar"},
		"github_app": {"app_id", "client_id", "client_secret", "webhook_secret", "private_key_file", "base_url",
			"api_url", "recheck_interval"},
		"jwt_issuer":        {"issuer", "audience", "jwks_url", "base_url", "timeout", "claims"},
		"jwt_issuer claims": {"id", "login", "email", "name", "groups", "repos"},
		"cookie":            {"name", "domain", "lifetime", "idle_timeout", "same_site"},
		"device_login":      {"lifetime"},
		"headers":           {"user_id", "user", "email", "name", "avatar", "provider", "groups", "repos", "connections", "jwt", "access_token"},
	}
	if len(got) != len(want) {
		t.Errorf("Subdirectives() has blocks %v, want %v", keys(got), keys(want))
	}
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			t.Errorf("Subdirectives()[%q] = %v, want %v", k, got[k], w)
		}
	}
	// The result is a copy.
	got[""][0] = "mutated"
	if gcf.Subdirectives()[""][0] != "secret" {
		t.Error("Subdirectives() returned the parser's own slice")
	}
}

// TestDocumented checks that the package documentation's syntax block
// lists every subdirective the parser accepts.
func TestDocumented(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	start := strings.Index(text, "//\tgatehouse [<matcher>] {")
	end := strings.Index(text[start+1:], "\n//\n")
	if start < 0 || end < 0 {
		t.Fatal("syntax block not found in doc.go")
	}
	syntax := text[start : start+1+end]
	for block, names := range gcf.Subdirectives() {
		for _, n := range names {
			if !regexp.MustCompile(`(^|[\s|])` + regexp.QuoteMeta(n) + `($|[\s|])`).MatchString(syntax) {
				t.Errorf("subdirective %q of block %q is missing from the syntax in doc.go", n, block)
			}
		}
	}
}

func keys(m map[string][]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// TestParseDirect exercises Parse on a dispenser, as other packages may.
func TestParseDirect(t *testing.T) {
	h, err := gcf.Parse(cf.NewTestDispenser(`gatehouse {
		secret 0123456789abcdef0123456789abcdef
		provider oidc {
			issuer https://login.example.com
			client_id c
		}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	if h.Secret != "0123456789abcdef0123456789abcdef" || len(h.ProvidersRaw) != 1 || !strings.Contains(string(h.ProvidersRaw[0]), `"name":"oidc"`) {
		t.Errorf("unexpected handler %+v", h)
	}
	if _, err := gcf.Parse(cf.NewTestDispenser("")); err == nil ||
		!strings.Contains(err.Error(), "expected the gatehouse directive") {
		t.Errorf("empty input: got %v", err)
	}
}

// The adapter knows exactly the provider types Caddy's registry holds
// (the modules of package providers), so the two cannot drift apart.
func TestProviderTypesAreTheModules(t *testing.T) {
	var names []string
	for _, m := range caddy.GetModules(providers.Namespace) {
		names = append(names, m.ID.Name())
	}
	slices.Sort(names)
	if got, want := gcf.ProviderTypes(), strings.Join(names, ", "); got != want {
		t.Fatalf("the adapter's provider types %q, the registry's %q", got, want)
	}
}

// TestMain keeps the adapter's warnings (secrets written literally, which
// the golden files do on purpose) out of the test output; the tests that
// are about warnings capture them with SetWarnLogger.
func TestMain(m *testing.M) {
	restore := gcf.SetWarnLogger(zap.NewNop())
	code := m.Run()
	restore()
	os.Exit(code)
}
