package main

import (
	"bytes"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/providers"
)

// TestVersionCommand runs "gatehouse version" in process, as the binary
// does, and checks that it prints Caddy's version line unchanged, then
// "Gatehouse <version>".
func TestVersionCommand(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		out := runMain(t, "gatehouse", arg)
		_, caddyVersion := caddy.Version()
		want := caddyVersion + "\nGatehouse " + gatehouse.Version() + "\n"
		if out != want {
			t.Errorf("gatehouse %s printed:\n%s\nwant:\n%s", arg, out, want)
		}
	}
}

// TestVersionOnlyForVersion leaves every other command's output alone.
func TestVersionOnlyForVersion(t *testing.T) {
	for _, args := range [][]string{nil, {"run"}, {"help", "version"}, {"version", "extra"}, {"build-info"}} {
		var b bytes.Buffer
		printGatehouseVersion(&b, args)
		if b.Len() != 0 {
			t.Errorf("gatehouse %q adds %q", args, b.String())
		}
	}
}

// runMain runs main with args as os.Args and returns what it wrote to
// standard output.
func runMain(t *testing.T, args ...string) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	savedArgs, savedStdout := os.Args, os.Stdout
	os.Args, os.Stdout = args, w
	defer func() { os.Args, os.Stdout = savedArgs, savedStdout }()
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	main()
	w.Close()
	out := <-done
	r.Close()
	return strings.ReplaceAll(out, "\r\n", "\n")
}

// TestListModules runs "gatehouse list-modules" in process and checks
// that it lists the handler and every provider type's module.
func TestListModules(t *testing.T) {
	out := runMain(t, "gatehouse", "list-modules")
	want := []string{"http.handlers.gatehouse", "admin.api.gatehouse"}
	for _, typ := range providers.Types() {
		want = append(want, providers.Namespace+"."+typ)
	}
	if len(want) < 10 {
		t.Fatalf("only %d modules registered: %v", len(want), want)
	}
	lines := strings.Split(out, "\n")
	for _, id := range want {
		if !slices.Contains(lines, id) {
			t.Errorf("gatehouse list-modules does not list %s; it printed:\n%s", id, out)
		}
	}
}

// "gatehouse sessions …" is short for the registered "gatehouse gatehouse
// sessions …"; nothing else changes.
func TestSessionsShorthand(t *testing.T) {
	got := expandShorthand([]string{"gatehouse", "sessions", "list", "--user", "u"})
	if strings.Join(got, " ") != "gatehouse gatehouse sessions list --user u" {
		t.Fatalf("expanded to %q", got)
	}
	for _, args := range [][]string{{"gatehouse"}, {"gatehouse", "run"}, {"gatehouse", "gatehouse", "sessions"}} {
		if got := expandShorthand(args); !slices.Equal(got, args) {
			t.Fatalf("%q changed to %q", args, got)
		}
	}
	out := runMain(t, "gatehouse", "sessions", "list", "--help")
	if !strings.Contains(out, "gatehouse sessions list --user <id>") {
		t.Fatalf("gatehouse sessions list --help printed:\n%s", out)
	}
}
