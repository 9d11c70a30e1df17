package gatehouse_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"
	"github.com/caddyserver/certmagic"

	_ "github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/module"
)

// The environment of an example is the table of its README's
// "## Environment" section, whose header row starts with "variable" and
// whose rows each name one variable in backquotes:
//
//	## Environment
//
//	| variable | value |
//	|---|---|
//	| `GATEHOUSE_SECRET` | 32 bytes or more: `openssl rand -base64 48` |
//
// Everything the Caddyfile reads from the environment ({env.NAME} when the
// config loads, {$NAME} when it is adapted) must be in that table, and
// nothing else.

// TestExamplesValidate runs Caddy's own validation (adapting, then
// provisioning every module, Gatehouse included, as `gatehouse validate`
// does) on every example Caddyfile, with exactly the environment variables
// its README lists, each set to a dummy value of its kind, and every other
// variable the Caddyfile reads unset. It fails when:
//
//   - an example has no README, or its README has no environment table;
//   - the Caddyfile reads a variable the table does not list, or the
//     table lists one the Caddyfile does not read;
//   - validation fails with only the listed variables (it needs a file or
//     a variable the README does not name);
//   - validation resolves a host name (it must work offline);
//   - validation still passes with GATEHOUSE_SECRET unset (it did not
//     provision Gatehouse);
//   - the README does not name what to register at each provider: the
//     redirect URI /.gatehouse/callback/<name> of each provider, the GitHub
//     App's callback and webhook URLs, Nango's webhook URL and its OAuth
//     callback (https://api.nango.dev/oauth/callback) instead of
//     Gatehouse's; or does not quote each allow rule and the nango syncs
//     (to explain them).
//
// Redis URLs and Sentinel addresses point at local listeners that close
// every connection: validation must not need a server.
func TestExamplesValidate(t *testing.T) {
	files, _ := filepath.Glob("examples/*/Caddyfile")
	if len(files) == 0 {
		t.Fatal("no example Caddyfiles found")
	}
	isolateCaddyStorage(t)
	lookups := trackDNS(t)

	for _, file := range files {
		dir := filepath.Dir(file)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
			if err != nil {
				t.Fatalf("%s has a Caddyfile but no README.md: %v", dir, err)
			}
			listed, err := readmeVariables(string(readme))
			if err != nil {
				t.Fatalf("%s/README.md: %v", dir, err)
			}
			used := caddyfileVariables(string(src))
			for _, name := range used {
				if !slices.Contains(listed, name) {
					t.Errorf("the Caddyfile reads %s, which README.md's environment table does not list", name)
				}
			}
			for _, name := range listed {
				if !slices.Contains(used, name) {
					t.Errorf("README.md lists %s, which the Caddyfile does not read", name)
				}
			}

			// Only the listed variables are set; whatever else the
			// Caddyfile reads is unset for the test.
			for _, name := range used {
				unsetenv(t, name)
			}
			redis := newFakeRedis(t)
			env := dummyEnv{t: t, redis: redis}
			for _, name := range listed {
				t.Setenv(name, env.value(name))
			}

			before := lookups.count()
			cfg := adapt(t, file, src)
			if err := validate(cfg); err != nil {
				t.Errorf("validation with only the variables README.md lists (%s) fails: %v", strings.Join(listed, ", "), err)
			}
			if names := lookups.since(before); len(names) > 0 {
				slices.Sort(names)
				t.Errorf("validation resolved host names %q: it must work without DNS", slices.Compact(names))
			}
			if n := redis.connections(); n > 0 {
				t.Logf("note: provisioning dialled Redis %d times (failures are tolerated)", n)
			}

			unsetenv(t, "GATEHOUSE_SECRET")
			if err := validate(adapt(t, file, src)); err == nil {
				t.Error("validation passes without GATEHOUSE_SECRET: Gatehouse was not provisioned")
			}

			for _, h := range gatehouseHandlers(t, cfg) {
				checkReadmeNamesRegistrations(t, string(readme), h)
			}
		})
	}
}

// envSection finds the README's environment table.
var envSection = regexp.MustCompile(`(?ms)^## Environment\n(.*?)(?:^## |\z)`)

// envRow is a row of the environment table.
var envRow = regexp.MustCompile("^\\| `([A-Z][A-Z0-9_]*)` \\|")

// readmeVariables returns the variables of readme's environment table.
func readmeVariables(readme string) ([]string, error) {
	m := envSection.FindStringSubmatch(readme)
	if m == nil {
		return nil, errors.New(`no "## Environment" section`)
	}
	var names []string
	table := false
	for _, line := range strings.Split(m[1], "\n") {
		switch {
		case strings.HasPrefix(line, "| variable |"):
			table = true
		case !table || !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|---"):
		default:
			r := envRow.FindStringSubmatch(line)
			if r == nil {
				return nil, fmt.Errorf("environment table row does not start with a `NAME` cell: %s", line)
			}
			if slices.Contains(names, r[1]) {
				return nil, fmt.Errorf("environment table lists %s twice", r[1])
			}
			names = append(names, r[1])
		}
	}
	if !table {
		return nil, errors.New(`the "## Environment" section has no table with a "| variable |" header`)
	}
	return names, nil
}

// caddyfileVariables returns the environment variables a Caddyfile reads,
// at load time ({env.NAME}) or adapt time ({$NAME}, {$NAME:default}).
func caddyfileVariables(src string) []string {
	var names []string
	for _, line := range strings.Split(src, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, m := range regexp.MustCompile(`\{(?:env\.|\$)([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}`).FindAllStringSubmatch(line, -1) {
			if !slices.Contains(names, m[1]) {
				names = append(names, m[1])
			}
		}
	}
	return names
}

// unsetenv unsets name for the rest of the test.
func unsetenv(t *testing.T, name string) {
	t.Setenv(name, "") // restored after the test
	os.Unsetenv(name)
}

// dummyEnv makes the dummy value of each variable.
type dummyEnv struct {
	t     *testing.T
	redis *fakeRedis
}

// value returns a value for the variable name that is valid for its kind
// and needs no network. Add a case for a new kind of variable here.
func (e dummyEnv) value(name string) string {
	switch name {
	case "GITHUB_APP_ID":
		return "123456"
	case "GITHUB_APP_PRIVATE_KEY_FILE":
		return githubAppKeyFile(e.t)
	case "REDIS_URL":
		return "redis://" + e.redis.addr(0) + "/0"
	case "REDIS_SENTINELS":
		return e.redis.addr(0) + " " + e.redis.addr(1) + " " + e.redis.addr(2)
	case "DEMO_HTTP_PORT":
		return "8080"
	case "DEMO_HOST":
		return "localhost:8080"
	case "DEMO_ISSUER":
		return "http://127.0.0.1:9000"
	case "DEMO_UPSTREAM":
		return "127.0.0.1:9001"
	}
	switch {
	case strings.HasSuffix(name, "_CLIENT_ID"):
		return "dummy-client-id"
	case strings.HasSuffix(name, "_SECRET"), strings.HasSuffix(name, "_SECRET_KEY"), strings.HasSuffix(name, "_PASSWORD"):
		b := make([]byte, 48)
		_, _ = rand.Read(b)
		return base64.StdEncoding.EncodeToString(b)
	}
	e.t.Fatalf("README.md lists %s, and the test knows no dummy value for it: add one to dummyEnv.value", name)
	return ""
}

// githubAppKeyFile writes a fresh RSA key in the PEM form GitHub issues.
func githubAppKeyFile(t *testing.T) string {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "github-app.pem")
	data := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// fakeRedis is a few local listeners that count and close every
// connection: a Redis (or Sentinel) address that needs no server.
type fakeRedis struct {
	t     *testing.T
	lns   []net.Listener
	conns atomic.Int64
}

func newFakeRedis(t *testing.T) *fakeRedis {
	return &fakeRedis{t: t}
}

// addr returns the address of the i-th listener, starting it if needed.
func (f *fakeRedis) addr(i int) string {
	for len(f.lns) <= i {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			f.t.Fatal(err)
		}
		f.t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				f.conns.Add(1)
				c.Close()
			}
		}()
		f.lns = append(f.lns, ln)
	}
	return f.lns[i].Addr().String()
}

func (f *fakeRedis) connections() int64 { return f.conns.Load() }

// dnsLog records the names looked up through DNS.
type dnsLog struct {
	mu    sync.Mutex
	names []string
}

func (l *dnsLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.names)
}

func (l *dnsLog) since(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.names[n:])
}

// trackDNS makes every DNS query of this process fail, and records the
// names asked for, until the test ends. Names in /etc/hosts (localhost)
// are still found.
func trackDNS(t *testing.T) *dnsLog {
	l := &dnsLog{}
	savedPreferGo, savedDial := net.DefaultResolver.PreferGo, net.DefaultResolver.Dial
	net.DefaultResolver.PreferGo = true
	net.DefaultResolver.Dial = func(context.Context, string, string) (net.Conn, error) {
		client, server := net.Pipe()
		go func() {
			defer server.Close()
			buf := make([]byte, 1500)
			n, err := server.Read(buf)
			if err != nil {
				return
			}
			// A conn that is no PacketConn gets DNS over TCP's framing:
			// a two-byte length, then the message.
			l.mu.Lock()
			l.names = append(l.names, queryName(buf[min(n, 2):n]))
			l.mu.Unlock()
		}()
		return client, nil
	}
	t.Cleanup(func() { net.DefaultResolver.PreferGo, net.DefaultResolver.Dial = savedPreferGo, savedDial })
	return l
}

// queryName returns the question name of a DNS query message.
func queryName(msg []byte) string {
	var labels []string
	for i := 12; i < len(msg) && msg[i] != 0; {
		n := int(msg[i])
		if i+1+n > len(msg) {
			break
		}
		labels = append(labels, string(msg[i+1:i+1+n]))
		i += 1 + n
	}
	return strings.Join(labels, ".")
}

// isolateCaddyStorage keeps validation from touching the user's Caddy
// data directory.
func isolateCaddyStorage(t *testing.T) {
	saved := caddy.DefaultStorage
	caddy.DefaultStorage = &certmagic.FileStorage{Path: t.TempDir()}
	t.Cleanup(func() { caddy.DefaultStorage = saved })
}

// adapt turns a Caddyfile into JSON, failing on warnings.
func adapt(t *testing.T, file string, src []byte) []byte {
	t.Helper()
	cfg, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt(src, map[string]any{"filename": file})
	if err != nil {
		t.Fatalf("adapting: %v", err)
	}
	for _, w := range warnings {
		t.Errorf("adapter warning: %s", w.String())
	}
	return cfg
}

// validate runs Caddy's validation of a JSON config, as `caddy validate`
// does: every module is provisioned, then cleaned up.
func validate(cfgJSON []byte) error {
	var cfg *caddy.Config
	if err := caddy.StrictUnmarshalJSON(cfgJSON, &cfg); err != nil {
		return err
	}
	return caddy.Validate(cfg)
}

// gatehouseHandlers decodes every gatehouse handler of a JSON config.
func gatehouseHandlers(t *testing.T, cfg []byte) []module.Handler {
	var tree any
	if err := json.Unmarshal(cfg, &tree); err != nil {
		t.Fatal(err)
	}
	var out []module.Handler
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if v["handler"] == "gatehouse" {
				raw, _ := json.Marshal(v)
				var h module.Handler
				if err := json.Unmarshal(raw, &h); err != nil {
					t.Fatal(err)
				}
				out = append(out, h)
				return
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(tree)
	if len(out) == 0 {
		t.Fatal("the Caddyfile does not use gatehouse")
	}
	return out
}

// checkReadmeNamesRegistrations checks that readme names the URLs to
// register for h and quotes its allow rules and syncs.
func checkReadmeNamesRegistrations(t *testing.T, readme string, h module.Handler) {
	t.Helper()
	prefix := h.Prefix
	if prefix == "" {
		prefix = module.DefaultPrefix
	}
	want := func(s, why string) {
		t.Helper()
		if !strings.Contains(readme, s) {
			t.Errorf("README.md does not mention %q (%s)", s, why)
		}
	}
	for _, raw := range h.ProvidersRaw {
		var p struct{ Type, Name string }
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Fatal(err)
		}
		name := p.Name
		if name == "" {
			name = p.Type
		}
		want(prefix+"/callback/"+name, "the redirect URI to register for provider "+name)
	}
	if h.GitHubApp != nil {
		want(prefix+"/github-app/callback", "the GitHub App's callback URL")
		want(prefix+"/webhooks/github", "the GitHub App's webhook URL")
	}
	if h.Nango != nil {
		want(prefix+"/webhooks/nango", "Nango's webhook URL")
		want("https://api.nango.dev/oauth/callback", "the OAuth callback of the GitHub apps behind Nango's integrations")
		if len(h.Nango.Syncs) > 0 {
			want("`syncs "+strings.Join(h.Nango.Syncs, " ")+"`", "what the syncs are")
		}
	}
	for _, a := range h.Allow {
		want("`allow "+a.Kind+" "+strings.Join(a.Values, " ")+"`", "what the allow rule admits")
	}
}

// TestReadmeVariables checks the parsing of the environment table.
func TestReadmeVariables(t *testing.T) {
	got, err := readmeVariables("# x\n\n## Environment\n\nText.\n\n| variable | value |\n|---|---|\n| `A_B` | x |\n| `C` | `y` |\n\n## Next\n\n| variable | v |\n|---|---|\n| `D` | z |\n")
	if err != nil || strings.Join(got, ",") != "A_B,C" {
		t.Errorf("got %q, %v", got, err)
	}
	for _, bad := range []string{
		"# x\n",
		"## Environment\n\nNo table.\n",
		"## Environment\n\n| variable | value |\n|---|---|\n| A | x |\n",
		"## Environment\n\n| variable | value |\n|---|---|\n| `A` | x |\n| `A` | y |\n",
	} {
		if _, err := readmeVariables(bad); err == nil {
			t.Errorf("no error for %q", bad)
		}
	}
	vars := caddyfileVariables("# {env.COMMENTED}\na {env.X} {$Y} {$Z:default}\n{env.X}\n")
	if strings.Join(vars, ",") != "X,Y,Z" {
		t.Errorf("caddyfileVariables = %q", vars)
	}
}
