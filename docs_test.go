package gatehouse_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

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

// TestSecurityTestsDocIsCurrent keeps docs/security-tests.md from drifting:
// its table has one row for each of the 30 cases of the security test plan,
// numbered in order, each case named once; every row names at least one
// test in internal/e2e (the real Caddy handler chain); and every test the
// page names as dir.TestName exists as a func in that directory's
// _test.go files. The README links the page.
func TestSecurityTestsDocIsCurrent(t *testing.T) {
	doc, err := os.ReadFile("docs/security-tests.md")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "(docs/security-tests.md)") {
		t.Error("README.md does not link docs/security-tests.md")
	}
	row := regexp.MustCompile("^\\| (\\d+) \\| `(Test\\w+)` \\| (.+) \\| (.+) \\|$")
	ref := regexp.MustCompile("`((?:[a-z0-9_-]+/)*[a-z0-9_-]+)\\.(Test\\w+)(/[^`]*)?`")
	funcs := map[string]string{} // directory → its test files' source
	exists := func(dir, name string) bool {
		src, ok := funcs[dir]
		if !ok {
			files, _ := filepath.Glob(filepath.Join(filepath.FromSlash(dir), "*_test.go"))
			var b strings.Builder
			for _, f := range files {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				b.Write(data)
				b.WriteByte('\n')
			}
			src = b.String()
			funcs[dir] = src
		}
		return regexp.MustCompile(`(?m)^func ` + name + `\(t \*testing\.T\) \{`).MatchString(src)
	}
	rows := 0
	cases := map[string]bool{}
	for _, line := range strings.Split(string(doc), "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| # ") {
			continue
		}
		m := row.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("table row not in the form | n | `TestCase` | tests | what |: %.80s", line)
			continue
		}
		rows++
		if n, _ := strconv.Atoi(m[1]); n != rows {
			t.Errorf("row %d is numbered %s", rows, m[1])
		}
		if cases[m[2]] {
			t.Errorf("case %s has two rows", m[2])
		}
		cases[m[2]] = true
		e2e := false
		for _, r := range ref.FindAllStringSubmatch(m[3], -1) {
			e2e = e2e || r[1] == "internal/e2e"
		}
		if !e2e {
			t.Errorf("case %s names no test in internal/e2e", m[2])
		}
		for _, r := range ref.FindAllStringSubmatch(line, -1) {
			if !exists(r[1], r[2]) {
				t.Errorf("case %s: %s.%s does not exist", m[2], r[1], r[2])
			}
		}
	}
	if rows != 30 {
		t.Errorf("the table has %d rows, want the plan's 30", rows)
	}
}
