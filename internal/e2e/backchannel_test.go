package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/devidp"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
)

// backchannelPath is where the provider corp sends its logout tokens.
const backchannelPath = "/.gatehouse/backchannel-logout/corp"

// registerBackchannel registers the site's client at the development
// provider with the back-channel logout URI of provider corp, as an
// operator does at Keycloak or Hydra; the client is registered without it
// again when the test ends.
func registerBackchannel(t *testing.T) {
	t.Helper()
	c := devidp.Client{
		ID: clientID, Secret: clientSecret,
		RedirectURIs: []string{site + "/.gatehouse/callback/corp", site + "/.gatehouse/callback/other"},
	}
	t.Cleanup(func() { _ = idp.Provider.AddClient(c) })
	c.BackchannelLogoutURI = site + backchannelPath
	if err := idp.Provider.AddClient(c); err != nil {
		t.Fatal(err)
	}
}

// signInAt signs a new browser in as user and returns its session token
// and the development provider's session (sid) the sign-in started.
func signInAt(t *testing.T, user string) (tok, sid string) {
	t.Helper()
	if err := idp.Provider.SetAutoLogin(user); err != nil {
		t.Fatal(err)
	}
	_, tok = login(t, browsertest.NewBrowser(t), "/")
	sessions := idp.Provider.Sessions()
	return tok, sessions[len(sessions)-1].ID
}

// sendLogout POSTs form to the back-channel logout endpoint of provider
// corp and returns the status and the JSON answer.
func sendLogout(t *testing.T, form url.Values) (int, map[string]string, http.Header) {
	t.Helper()
	resp := request(t, http.MethodPost, backchannelPath, "", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, form.Encode())
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]string
	_ = json.Unmarshal(body, &m)
	return resp.StatusCode, m, resp.Header
}

// signLogout signs claims as the development provider's logout token.
func signLogout(t *testing.T, claims map[string]any, typ string) string {
	t.Helper()
	raw, err := idp.Provider.SignLogoutToken(claims, typ)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// live reports whether tok is a live session on the site.
func live(t *testing.T, tok string) bool {
	t.Helper()
	code := status(t, request(t, http.MethodGet, "/", tok, map[string]string{"Accept": "application/json"}, ""))
	if code != http.StatusOK && code != http.StatusUnauthorized {
		t.Fatalf("session check: %d", code)
	}
	return code == http.StatusOK
}

// TestBackchannelLogoutEveryInstance: two sessions of one user, each from
// its own sign-in at the provider, on two instances sharing Redis (each
// with the sessions in its cache). The provider ends one of its sessions
// and sends its logout token: that Gatehouse session ends on both
// instances within a second; the other session stays.
func TestBackchannelLogoutEveryInstance(t *testing.T) {
	if err := idp.Provider.SetAutoLogin("alice"); err != nil {
		t.Fatal(err)
	}
	portA, portB := startTwoInstances(t)
	registerBackchannel(t)
	ended, endedSID := signInAt(t, "alice")
	kept, keptSID := signInAt(t, "alice")
	if endedSID == keptSID {
		t.Fatal("the two sign-ins share a provider session")
	}
	for _, p := range []int{portA, portB} {
		for _, tok := range []string{ended, kept} {
			if code := status(t, instanceRequest(t, p, tok)); code != http.StatusOK {
				t.Fatalf("session on the instance at %d: %d", p, code)
			}
		}
	}

	deliveries, err := idp.Provider.EndSession(context.Background(), endedSID)
	if err != nil || len(deliveries) != 1 || deliveries[0].Status != http.StatusOK || deliveries[0].Err != nil {
		t.Fatalf("the provider's back-channel logout: %+v, %v", deliveries, err)
	}
	sent := time.Now()
	var lag time.Duration
	for _, p := range []int{portA, portB} {
		testsupport.WaitFor(t, time.Second-time.Since(sent), fmt.Sprintf("the instance at %d still serves the ended session a second after the logout", p), func() bool {
			return status(t, instanceRequest(t, p, ended)) == http.StatusUnauthorized
		})
		lag = max(lag, time.Since(sent))
		if code := status(t, instanceRequest(t, p, kept)); code != http.StatusOK {
			t.Fatalf("the other session on the instance at %d: %d", p, code)
		}
	}
	t.Logf("back-channel logout through the balancer ended the session on both instances within %v", lag.Round(time.Millisecond))
}

// TestBackchannelLogout: the endpoint accepts logout tokens in the spec's
// form and in Ory Hydra's, ends what they name, and refuses with 400 —
// changing nothing — every token it must not trust.
func TestBackchannelLogout(t *testing.T) {
	logFile := filepath.Join(t.TempDir(), "caddy.log")
	load(t, config{store: "redis", logTo: logFile})
	registerBackchannel(t)
	t.Cleanup(func() { idp.Provider.SetHydraLogoutTokens(false) })
	alice, _ := idp.Provider.User("alice")

	t.Run("spec form from the provider", func(t *testing.T) {
		tok, sid := signInAt(t, "alice")
		other, _ := signInAt(t, "alice")
		d, err := idp.Provider.EndSession(context.Background(), sid)
		if err != nil || len(d) != 1 || d[0].Status != http.StatusOK {
			t.Fatalf("delivery %+v, %v", d, err)
		}
		if live(t, tok) || !live(t, other) {
			t.Fatal("not exactly the provider session's Gatehouse session ended")
		}
	})

	t.Run("Hydra form from the provider", func(t *testing.T) {
		idp.Provider.SetHydraLogoutTokens(true)
		defer idp.Provider.SetHydraLogoutTokens(false)
		tok, sid := signInAt(t, "alice")
		other, _ := signInAt(t, "alice")
		d, err := idp.Provider.EndSession(context.Background(), sid)
		if err != nil || len(d) != 1 || d[0].Status != http.StatusOK {
			t.Fatalf("delivery %+v, %v", d, err)
		}
		if live(t, tok) || !live(t, other) {
			t.Fatal("not exactly the provider session's Gatehouse session ended")
		}
	})

	t.Run("Hydra form: typ JWT, no sub, no exp", func(t *testing.T) {
		tok, sid := signInAt(t, "alice")
		c := map[string]any{
			"iss": idp.URL, "aud": []string{clientID}, "iat": time.Now().Unix(), "jti": "hydra-" + sid, "sid": sid,
			"events": map[string]any{devidp.BackchannelLogoutEvent: map[string]any{}},
		}
		code, body, h := sendLogout(t, url.Values{"logout_token": {signLogout(t, c, "JWT")}})
		if code != http.StatusOK || h.Get("Cache-Control") != "no-store" {
			t.Fatalf("%d %v, Cache-Control %q", code, body, h.Get("Cache-Control"))
		}
		if live(t, tok) {
			t.Fatal("the session survived")
		}
	})

	t.Run("sub only ends all the user's sessions", func(t *testing.T) {
		a1, _ := signInAt(t, "alice")
		a2, _ := signInAt(t, "alice")
		bob, _ := signInAt(t, "bob")
		c := idp.Provider.LogoutTokenClaims(clientID, "", alice.Subject)
		code, body, _ := sendLogout(t, url.Values{"logout_token": {signLogout(t, c, devidp.TypLogoutJWT)}})
		if code != http.StatusOK {
			t.Fatalf("%d %v", code, body)
		}
		if live(t, a1) || live(t, a2) || !live(t, bob) {
			t.Fatal("not exactly alice's sessions ended")
		}
	})

	t.Run("sid with another user's sub ends nothing", func(t *testing.T) {
		tok, sid := signInAt(t, "alice")
		bob, _ := idp.Provider.User("bob")
		c := idp.Provider.LogoutTokenClaims(clientID, sid, bob.Subject)
		if code, body, _ := sendLogout(t, url.Values{"logout_token": {signLogout(t, c, devidp.TypLogoutJWT)}}); code != http.StatusOK {
			t.Fatalf("%d %v", code, body)
		}
		if !live(t, tok) {
			t.Fatal("alice's session ended on a logout of bob's")
		}
	})

	t.Run("a session no longer there: 200", func(t *testing.T) {
		c := idp.Provider.LogoutTokenClaims(clientID, "no-such-session", "")
		if code, body, _ := sendLogout(t, url.Values{"logout_token": {signLogout(t, c, devidp.TypLogoutJWT)}}); code != http.StatusOK {
			t.Fatalf("%d %v", code, body)
		}
	})

	t.Run("a replayed jti is refused", func(t *testing.T) {
		signInAt(t, "alice")
		replayed := signLogout(t, idp.Provider.LogoutTokenClaims(clientID, "", alice.Subject), devidp.TypLogoutJWT)
		if code, body, _ := sendLogout(t, url.Values{"logout_token": {replayed}}); code != http.StatusOK {
			t.Fatalf("first use: %d %v", code, body)
		}
		tok, _ := signInAt(t, "alice") // signed in again since
		code, body, _ := sendLogout(t, url.Values{"logout_token": {replayed}})
		if code != http.StatusBadRequest || body["error"] != "invalid_request" || !strings.Contains(body["error_description"], "already used") {
			t.Fatalf("replay: %d %v", code, body)
		}
		if !live(t, tok) {
			t.Fatal("the replay ended the new session")
		}
	})

	// Each refused token names the live session's sid and alice's sub:
	// were it accepted, the session would end.
	tok, sid := signInAt(t, "alice")
	valid := func(edit func(c map[string]any)) map[string]any {
		c := idp.Provider.LogoutTokenClaims(clientID, sid, alice.Subject)
		if edit != nil {
			edit(c)
		}
		return c
	}
	spec := func(edit func(c map[string]any)) string { return signLogout(t, valid(edit), devidp.TypLogoutJWT) }
	forge := func(sign devidp.SignerFunc) string {
		raw, err := sign(valid(nil))
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	refused := []struct {
		name, token, why string
	}{
		{"signed by another key", forge(idp.Provider.SignUnknownKid), "verifying"},
		{"alg none", forge(idp.Provider.SignNone), "malformed"},
		{"HS256 with the public key", forge(idp.Provider.SignHS256WithPublicKey), "malformed"},
		{"wrong iss", spec(func(c map[string]any) { c["iss"] = "https://elsewhere.example" }), "issued by"},
		{"wrong aud", spec(func(c map[string]any) { c["aud"] = "another-client" }), "audience"},
		{"iat too old", spec(func(c map[string]any) { c["iat"] = time.Now().Add(-10 * time.Minute).Unix() }), "ago"},
		{"no iat", spec(func(c map[string]any) { delete(c, "iat") }), "no iat"},
		{"exp past", spec(func(c map[string]any) { c["exp"] = time.Now().Add(-3 * time.Minute).Unix() }), "expired"},
		{"carrying a nonce", spec(func(c map[string]any) { c["nonce"] = "n-1" }), "nonce"},
		{"missing events", spec(func(c map[string]any) { delete(c, "events") }), "events"},
		{"wrong events value", spec(func(c map[string]any) { c["events"] = map[string]any{devidp.BackchannelLogoutEvent: "yes"} }), "not a JSON object"},
		{"another event", spec(func(c map[string]any) {
			c["events"] = map[string]any{"http://schemas.openid.net/event/other": map[string]any{}}
		}), "events"},
		{"neither sid nor sub", spec(func(c map[string]any) { delete(c, "sid"); delete(c, "sub") }), "neither sid nor sub"},
		{"no jti", spec(func(c map[string]any) { delete(c, "jti") }), "no jti"},
		{"an access token's typ", signLogout(t, valid(nil), "at+jwt"), "typ"},
		{"malformed JWT", "eyJhbGciOiJSUzI1NiJ9.not-a-jwt", "malformed"},
	}
	var tokens []string
	for _, c := range refused {
		tokens = append(tokens, c.token)
		t.Run("refused: "+c.name, func(t *testing.T) {
			code, body, _ := sendLogout(t, url.Values{"logout_token": {c.token}})
			if code != http.StatusBadRequest || body["error"] != "invalid_request" || !strings.Contains(body["error_description"], c.why) {
				t.Fatalf("%d %v, want 400 invalid_request mentioning %q", code, body, c.why)
			}
			if !live(t, tok) {
				t.Fatal("a refused token ended the session")
			}
		})
	}

	t.Run("refused requests", func(t *testing.T) {
		for name, form := range map[string]url.Values{
			"no logout_token":    {},
			"empty logout_token": {"logout_token": {""}},
			"two logout_tokens":  {"logout_token": {spec(nil), spec(nil)}},
		} {
			if code, body, _ := sendLogout(t, form); code != http.StatusBadRequest || body["error"] != "invalid_request" {
				t.Errorf("%s: %d %v", name, code, body)
			}
		}
		// The token as JSON, not a form.
		resp := request(t, http.MethodPost, backchannelPath, "", map[string]string{"Content-Type": "application/json"},
			`{"logout_token":"`+spec(nil)+`"}`)
		if code := status(t, resp); code != http.StatusBadRequest {
			t.Errorf("JSON body: %d", code)
		}
		resp = request(t, http.MethodPost, backchannelPath, "", map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			"logout_token="+strings.Repeat("a", 70<<10))
		if code := status(t, resp); code != http.StatusRequestEntityTooLarge {
			t.Errorf("a 70 KiB body: %d", code)
		}
		for path, want := range map[string]int{
			"/.gatehouse/backchannel-logout/nope":     http.StatusNotFound,
			"/.gatehouse/backchannel-logout/corp/x":   http.StatusNotFound,
			"/.gatehouse/backchannel-logout/":         http.StatusNotFound,
			"/.gatehouse/backchannel-logout/corp?x=1": http.StatusBadRequest, // no token
		} {
			resp := request(t, http.MethodPost, path, "", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}, "")
			if code := status(t, resp); code != want {
				t.Errorf("POST %s: %d, want %d", path, code, want)
			}
		}
		resp = request(t, http.MethodGet, backchannelPath, "", map[string]string{"Accept": "application/json"}, "")
		if code := status(t, resp); code != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodPost {
			t.Errorf("GET: %d, Allow %q", code, resp.Header.Get("Allow"))
		}
		if !live(t, tok) {
			t.Fatal("a refused request ended the session")
		}
	})

	// Refusals are logged with their reason, never with the token.
	logs := readFile(t, logFile)
	if !strings.Contains(logs, "back-channel logout refused") || !strings.Contains(logs, "has a nonce") {
		t.Error("the refusals are not logged with their reason")
	}
	assertNowhere(t, logFile, tokens)
}

// readFile returns the text of path.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
