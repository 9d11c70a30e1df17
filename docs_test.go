package gatehouse_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/caddyfile"
)

// TestReadmeDocumentsEverySubdirective fails when the parser accepts a
// subdirective the README's Caddyfile reference does not show.
func TestReadmeDocumentsEverySubdirective(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	ref := between(string(readme), "## Caddyfile reference", "\n## ")
	if ref == "" {
		t.Fatal("README has no Caddyfile reference section")
	}
	for block, names := range caddyfile.Subdirectives() {
		for _, name := range names {
			if !regexp.MustCompile(`(?m)(^|[\s|{` + "`" + `])` + regexp.QuoteMeta(name) + `([\s|` + "`" + `]|$)`).MatchString(ref) {
				t.Errorf("README reference does not document %q (block %q)", name, block)
			}
		}
	}
}

func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	if j := strings.Index(s, end); j >= 0 {
		return s[:j]
	}
	return s
}

// TestExamplesAdapt checks that every example Caddyfile adapts.
func TestExamplesAdapt(t *testing.T) {
	files, _ := filepath.Glob("examples/*/Caddyfile")
	if len(files) == 0 {
		t.Fatal("no example Caddyfiles found")
	}
	for k, v := range map[string]string{
		"DEMO_HTTP_PORT": "8080", "DEMO_HOST": "localhost:8080",
		"DEMO_ISSUER": "http://127.0.0.1:9000", "DEMO_UPSTREAM": "127.0.0.1:9001",
	} {
		t.Setenv(k, v)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt(src, map[string]any{"filename": f})
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range warnings {
				t.Errorf("warning: %s", w.String())
			}
			if !strings.Contains(string(out), `"handler":"gatehouse"`) {
				t.Fatalf("%s does not use gatehouse", f)
			}
		})
	}
}
