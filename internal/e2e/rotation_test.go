package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
)

// TestSecretRotationUnderLoad rotates the secret of two instances sharing
// Redis (one in this process, one a separate Caddy process, behind a
// round-robin balancer) with `caddy reload` while a client keeps using a
// session: no request fails or loses its identity, every session, a login
// in progress and a sign-out form's CSRF token made under the old secret
// keep working, and sessions made after the rotation work on both. Once
// the old secret is dropped from previous_secrets, the sessions made
// under it end on both instances.
func TestSecretRotationUnderLoad(t *testing.T) {
	newSecret := "rotated-e2e-secret-" + strings.Repeat("n", 32)
	in := startInstances(t, instanceOptions{admin: true})
	portA, portB := in.portA, in.portB
	if err := idp.Provider.SetAutoLogin("alice"); err != nil {
		t.Fatal(err)
	}

	// Under the old secret: three sessions, a login waiting on the
	// provider's page, and a sign-out form.
	var browsers []*browsertest.Browser
	var toks []string
	var user string
	for range 3 {
		b := browsertest.NewBrowser(t)
		echo, tok := login(t, b, "/")
		user = http.Header(echo.Headers).Get("X-Auth-User-Id")
		browsers, toks = append(browsers, b), append(toks, tok)
	}
	pending := browsertest.NewBrowser(t)
	callback := pendingLogin(t, pending, "/begun-before")
	page := browsers[2].Get(site + "/.gatehouse/logout")
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	csrf := between(string(body), `name="csrf" value="`, `"`)
	if csrf == "" {
		t.Fatalf("logout page without a CSRF token: %s", body)
	}

	// Rotate under load: B first, then A (the balancer is part of A's
	// config, so it is reloaded with it).
	load := startLoad(t, toks[0], user, 2, 1)
	load.warmUp(t, 30, "the rotation")
	rotated := "secret " + newSecret + "\n\t\tprevious_secrets " + secret
	in.reload(t, rotated)
	before := load.counts().ok
	load.warmUp(t, before+50, "the end of the rotation")
	load.halt()
	n := load.counts()
	// As in TestReloadUnderLoad: no HTTP error and no answer without the
	// identity; a connection opened at the instant of a switch may close
	// unanswered, at most once per client and reload.
	if n.nbad != n.nerr || n.n503 > 0 || n.nerr > 3*2 {
		t.Fatalf("during the rotation: %d failures, of which %d HTTP answers, %d 503s (first: %v)", n.nbad, n.nbad-n.nerr, n.n503, load.firstBad())
	}

	// Every session made under the old secret works on both instances.
	for i, tok := range toks {
		for _, p := range []int{portA, portB} {
			testsupport.WaitFor(t, 5*time.Second, fmt.Sprintf("old session %d on the instance at %d after the rotation", i, p), func() bool {
				return status(t, instanceRequest(t, p, tok)) == http.StatusOK
			})
		}
	}
	// The login begun under the old secret finishes under the new one, and
	// its session (made under the new secret) works on both instances.
	resp, visited := pending.Follow(callback)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"uri":"/begun-before"`)) {
		t.Fatalf("login begun before the rotation: %d after %v: %s", resp.StatusCode, visited, body)
	}
	fresh := pending.Cookie(site, cookieName)
	for _, p := range []int{portA, portB} {
		if code := status(t, instanceRequest(t, p, fresh)); code != http.StatusOK {
			t.Fatalf("session made after the rotation, on the instance at %d: %d", p, code)
		}
	}
	// The sign-out form from before the rotation still signs out.
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html", "Origin": site}
	if code := status(t, request(t, "POST", "/.gatehouse/logout", toks[2], form, "csrf="+url.QueryEscape(csrf))); code != http.StatusSeeOther {
		t.Fatalf("sign-out with the CSRF token of before the rotation: %d", code)
	}

	// Drop the old secret: what was made under it ends, on both.
	in.reload(t, "secret "+newSecret)
	for _, p := range []int{portA, portB} {
		testsupport.WaitFor(t, 5*time.Second, fmt.Sprintf("old sessions refused on the instance at %d once the old secret is dropped", p), func() bool {
			return status(t, instanceRequest(t, p, toks[0])) == http.StatusUnauthorized &&
				status(t, instanceRequest(t, p, toks[1])) == http.StatusUnauthorized
		})
		if code := status(t, instanceRequest(t, p, fresh)); code != http.StatusOK {
			t.Fatalf("session made under the new secret, on the instance at %d: %d", p, code)
		}
	}
	t.Logf("secret rotated on two instances under load: %d requests served, 0 failed or without identity, %d connections closed unanswered at a switch; 3 sessions, a login in progress and a CSRF token survived; dropping the old secret ended the old sessions on both",
		n.ok, n.nerr)
}
