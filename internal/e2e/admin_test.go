package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/admin"
	"github.com/gatehouse-auth/gatehouse/internal/devidp"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
)

// gatehouseCLI runs "gatehouse <args>" (this test binary as Caddy's
// command line, a process of its own) and returns its output and exit
// code; it fails the test if the command does not end within 30 s.
func gatehouseCLI(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), cliEnv(t.TempDir())...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("gatehouse %s did not end within 30 s:\n%s", strings.Join(args, " "), out)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("gatehouse %s: %v", strings.Join(args, " "), err)
	}
	return string(out), code
}

// adminCall sends method to Caddy's admin API at addr.
func adminCall(t *testing.T, method, addr, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestAdminOffboarding: an operator lists and ends a person's sessions
// through Caddy's admin API (admin.api.gatehouse) and the "gatehouse
// sessions" command, on two real Caddy processes (started with "caddy
// run") sharing Redis. Revoking through one instance ends the sessions on
// both within a second and revokes their provider tokens; another
// person's session is untouched; an unknown user or a wrong method gets a
// clear error and changes nothing.
func TestAdminOffboarding(t *testing.T) {
	in := startInstances(t, instanceOptions{admin: true, separate: true})
	portA, portB, adminA, adminB := in.portA, in.portB, in.adminA, in.adminB

	signIn := func(user string) (string, string) {
		if err := idp.Provider.SetAutoLogin(user); err != nil {
			t.Fatal(err)
		}
		echo, tok := login(t, browsertest.NewBrowser(t), "/")
		return http.Header(echo.Headers).Get("X-Auth-User-Id"), tok
	}
	alice, tok1 := signIn(fresh("alice"))
	_, tok2 := signIn(fresh("alice"))
	bob, bobTok := signIn(fresh("bob"))
	works := func(tok string) {
		t.Helper()
		for _, p := range []int{portA, portB} {
			if code := status(t, instanceRequest(t, p, tok)); code != http.StatusOK {
				t.Fatalf("session on the instance at %d: %d", p, code)
			}
		}
	}
	for _, tok := range []string{tok1, tok2, bobTok} {
		works(tok) // and cached on both
	}

	// List, through the command (a table, or the JSON) and the API of
	// either instance.
	out, code := gatehouseCLI(t, "gatehouse", "sessions", "list", "--user", alice, "--address", adminA)
	if code != 0 || strings.Count(out, "\ncorp") != 0 || !strings.HasPrefix(out, "ID") || strings.Count(out, " corp ") != 2 {
		t.Fatalf("gatehouse sessions list: exit %d:\n%s", code, out)
	}
	out, code = gatehouseCLI(t, "gatehouse", "sessions", "list", "--json", "--user", alice, "--address", adminB)
	var listed admin.Sessions
	if err := json.Unmarshal([]byte(out), &listed); code != 0 || err != nil || listed.UserID != alice || len(listed.Sessions) != 2 {
		t.Fatalf("gatehouse sessions list --json: exit %d, %v:\n%s", code, err, out)
	}
	for _, s := range listed.Sessions {
		if len(s.ID) != 22 || strings.Contains(tok1+tok2, s.ID) || s.Provider != "corp" || s.IP != "127.0.0.1" || s.UserAgent == "" ||
			s.CreatedAt.IsZero() || s.LastSeenAt.IsZero() || s.Host == "" {
			t.Fatalf("listed session: %+v", s)
		}
	}
	code, body := adminCall(t, http.MethodGet, adminB, "/gatehouse/users/"+strings.ReplaceAll(alice, ":", "%3A")+"/sessions")
	if code != 200 || !strings.Contains(body, listed.Sessions[0].ID) {
		t.Fatalf("GET through the admin API: %d %s", code, body)
	}
	// The answer has exactly the documented fields.
	var raw struct {
		UserID   string           `json:"user_id"`
		Sessions []map[string]any `json:"sessions"`
	}
	if err := json.Unmarshal([]byte(body), &raw); err != nil || raw.UserID != alice || len(raw.Sessions) != 2 {
		t.Fatalf("GET answer: %v %s", err, body)
	}
	wantKeys(t, "an admin API session", raw.Sessions[0], "id", "created_at", "last_seen_at", "expires_at", "ip", "user_agent", "provider", "host")

	// Bad calls: a clear error, and nothing changes.
	out, code = gatehouseCLI(t, "gatehouse", "sessions", "revoke", "--user", "corp:nobody", "--address", adminA)
	if code == 0 || !strings.Contains(out, `user \"corp:nobody\" has no live session`) {
		t.Fatalf("revoke of an unknown user: exit %d:\n%s", code, out)
	}
	if out, code = gatehouseCLI(t, "gatehouse", "sessions", "list", "--address", adminA); code == 0 || !strings.Contains(out, "--user is required") {
		t.Fatalf("list without --user: exit %d:\n%s", code, out)
	}
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{http.MethodPost, "/gatehouse/users/" + alice + "/sessions", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/gatehouse/users//sessions", http.StatusNotFound},
		{http.MethodDelete, "/gatehouse/users/" + alice, http.StatusNotFound},
		{http.MethodDelete, "/gatehouse/users/" + alice + "/sessions/x", http.StatusNotFound},
		{http.MethodDelete, "/gatehouse/users/" + strings.Repeat("x", 513) + "/sessions", http.StatusNotFound},
	} {
		if code, body := adminCall(t, c.method, adminA, c.path); code != c.want || !strings.Contains(body, `"error"`) {
			t.Fatalf("%s %s: %d %s, want %d with an error", c.method, c.path, code, body, c.want)
		}
	}
	for _, tok := range []string{tok1, tok2, bobTok} {
		works(tok)
	}

	// Revoke through instance A: both sessions end on both instances within
	// a second, their provider tokens are revoked, and Bob stays.
	revokes := idp.Provider.Requests(devidp.EndpointRevoke)
	out, code = gatehouseCLI(t, "gatehouse", "sessions", "revoke", "--user", alice, "--address", adminA)
	revoked := time.Now()
	if code != 0 || !strings.Contains(out, "ended 2 session(s) of "+alice+"; provider tokens revoked for 2") {
		t.Fatalf("gatehouse sessions revoke: exit %d:\n%s", code, out)
	}
	refusedEverywhere(t, "revoked through A", revoked, []int{portA, portB}, tok1, tok2)
	if n := idp.Provider.Requests(devidp.EndpointRevoke) - revokes; n != 2 {
		t.Fatalf("%d revocation requests at the provider, want 2", n)
	}
	works(bobTok)
	if _, code := gatehouseCLI(t, "gatehouse", "sessions", "list", "--user", bob, "--address", adminB); code != 0 {
		t.Fatal("Bob's sessions are gone")
	}
	if code, _ := adminCall(t, http.MethodGet, adminB, "/gatehouse/users/"+alice+"/sessions"); code != http.StatusNotFound {
		t.Fatalf("Alice's sessions after the revoke: %d, want 404", code)
	}
	// DELETE through the API answers with exactly the documented fields.
	code, body = adminCall(t, http.MethodDelete, adminA, "/gatehouse/users/"+bob+"/sessions")
	var ended map[string]any
	if err := json.Unmarshal([]byte(body), &ended); code != 200 || err != nil || ended["user_id"] != bob || ended["ended"] != float64(1) {
		t.Fatalf("DELETE through the admin API: %d %s", code, body)
	}
	wantKeys(t, "the admin API's DELETE answer", ended, "user_id", "ended", "tokens_revoked")
	refusedEverywhere(t, "Bob's session after DELETE", time.Now(), []int{portA, portB}, bobTok)
}

// wantKeys fails unless m has exactly keys.
func wantKeys(t *testing.T, what string, m map[string]any, keys ...string) {
	t.Helper()
	if len(m) != len(keys) {
		t.Fatalf("%s has keys %v, want exactly %v", what, m, keys)
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Fatalf("%s has no %q: %v", what, k, m)
		}
	}
}
