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
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dghubble/oauth1"
	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/fakenango"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/fakeoauth"
)

const linkSecret = "upstream-link-secret-0123456789"

// linkToken asks the token endpoint as the upstream does.
func linkToken(t *testing.T, name, userID, secret string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, site+"/.gatehouse/connections/"+name+"/token?user_id="+url.QueryEscape(userID), nil)
	if secret != "" {
		req.Header.Set("X-Gatehouse-Secret", secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body := map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// link links connection name for b's user, following the provider's
// redirects, and returns the headers the upstream then saw.
func link(t *testing.T, b *browsertest.Browser, name string) http.Header {
	t.Helper()
	resp, visited := b.Follow(site + "/.gatehouse/connect/" + name + "?rd=/linked")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || visited[len(visited)-1] != site+"/linked" {
		t.Fatalf("linking %s: %d after %v\n%s", name, resp.StatusCode, visited, body)
	}
	var echo testsupport.Echo
	if err := json.Unmarshal(body, &echo); err != nil {
		t.Fatal(err)
	}
	return http.Header(echo.Headers)
}

func oauth2Connection(f *fakeoauth.OAuth2Fake) string {
	return fmt.Sprintf(`connection whoop {
			type oauth2
			auth_url %[1]s/oauth/authorize
			token_url %[1]s/oauth/token
			revoke_url %[1]s/oauth/revoke
			client_id whoop-client
			client_secret whoop-secret
			scopes read_user
		}
		connections_secret %[2]s`, f.URL, linkSecret)
}

// Link, use, refresh, unlink an OAuth 2.0 account; the token endpoint is
// the upstream's only; the tokens are in neither the logs nor the store.
func TestLinkOAuth2Account(t *testing.T) {
	f := fakeoauth.NewOAuth2Fake("gitlab")
	t.Cleanup(f.Close)
	f.AddClient("whoop-client", "whoop-secret")
	f.SetAccessTokenLifetime(3 * time.Second)
	logFile := filepath.Join(t.TempDir(), "caddy.log")
	load(t, config{store: "redis", extra: oauth2Connection(f), logTo: logFile})
	b := browsertest.NewBrowser(t)
	echo, _ := login(t, b, "/.gatehouse/login/corp?rd=/")
	uid := http.Header(echo.Headers).Get("X-Auth-User-Id")

	if status, _ := linkToken(t, "whoop", uid, linkSecret); status != http.StatusNotFound {
		t.Errorf("token before linking: %d, want 404 not_linked", status)
	}
	h := link(t, b, "whoop")
	if h.Get("X-Auth-Connections") != "whoop" {
		t.Errorf("X-Auth-Connections = %q", h.Get("X-Auth-Connections"))
	}
	if q := f.LastAuthorize(); q.Get("code_challenge_method") != "S256" || q.Get("state") == "" {
		t.Errorf("authorization request: %v", q)
	}

	// Only the upstream gets tokens.
	for _, secret := range []string{"", "wrong", linkSecret + "x"} {
		if status, _ := linkToken(t, "whoop", uid, secret); status != http.StatusUnauthorized {
			t.Errorf("token endpoint with secret %q: %d, want 401", secret, status)
		}
	}
	status, tok := linkToken(t, "whoop", uid, linkSecret)
	first, _ := tok["access_token"].(string)
	if status != 200 || first == "" || tok["token_type"] != "Bearer" {
		t.Fatalf("token: %d %v", status, tok)
	}

	// Refreshed once when it is about to expire, however many callers.
	time.Sleep(2100 * time.Millisecond)
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[string]int{}
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, tok := linkToken(t, "whoop", uid, linkSecret)
			mu.Lock()
			got[fmt.Sprint(tok["access_token"])]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if n := f.TokenRequests("refresh_token"); n != 1 || len(got) != 1 || got[first] != 0 {
		t.Errorf("%d refreshes for 20 callers, tokens %v", n, got)
	}

	// No token, refresh token or secret in the store in plaintext, nor in
	// the logs.
	var secrets []string
	for tok := range got {
		secrets = append(secrets, tok)
	}
	secrets = append(secrets, first, "whoop-secret")
	assertNowhere(t, logFile, secrets)
	// Structured lines that name their request.
	logs, _ := os.ReadFile(logFile)
	if !regexp.MustCompile(`"msg":"account linked".*"request_id":"[0-9a-f-]{36}"`).Match(logs) {
		t.Errorf("the link's log line carries no request id:\n%s", logs)
	}

	// Unlink: gone from the sessions and the token endpoint, revoked at
	// the provider.
	req, _ := http.NewRequest(http.MethodPost, site+"/.gatehouse/connections/whoop/unlink", nil)
	req.Header.Set("Origin", "https://evil.example")
	if resp, _ := b.Do(req); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site unlink: %d", resp.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodPost, site+"/.gatehouse/connections/whoop/unlink", nil)
	req.Header.Set("Origin", site)
	resp, err := b.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("unlink: %v %v", resp, err)
	}
	resp.Body.Close()
	if h := upstreamHeaders(t, b, "/"); h.Get("X-Auth-Connections") != "" {
		t.Errorf("after unlinking X-Auth-Connections = %q", h.Get("X-Auth-Connections"))
	}
	if status, body := linkToken(t, "whoop", uid, linkSecret); status != http.StatusNotFound || body["error"] != "not_linked" {
		t.Errorf("token after unlinking: %d %v", status, body)
	}
	if len(f.Revoked()) == 0 {
		t.Error("unlinking did not revoke the token at the provider")
	}

	// A refresh token the provider refuses removes the link. The refusal
	// took one request: the client authentication is pinned, never
	// retried the other way (which would redeem a rotating refresh
	// token twice).
	link(t, b, "whoop")
	time.Sleep(2100 * time.Millisecond)
	f.RevokeRefreshTokens()
	before := f.TokenRequests("refresh_token")
	if status, body := linkToken(t, "whoop", uid, linkSecret); status != http.StatusGone || body["error"] != "link_revoked" {
		t.Errorf("token after the provider revoked the link: %d %v", status, body)
	}
	if n := f.TokenRequests("refresh_token") - before; n != 1 {
		t.Errorf("a refused refresh reached the provider %d times, want once", n)
	}
	if h := upstreamHeaders(t, b, "/"); h.Get("X-Auth-Connections") != "" {
		t.Errorf("a revoked link is still announced: %q", h.Get("X-Auth-Connections"))
	}
}

// A link callback works once, only in the browser (and for the user)
// that started it.
func TestLinkCallbackBoundAndSingleUse(t *testing.T) {
	f := fakeoauth.NewOAuth2Fake("gitlab")
	t.Cleanup(f.Close)
	f.AddClient("whoop-client", "whoop-secret")
	load(t, config{extra: oauth2Connection(f)})
	victim := browsertest.NewBrowser(t)
	login(t, victim, "/.gatehouse/login/corp?rd=/")
	_, authorize := victim.Hop(site + "/.gatehouse/connect/whoop?rd=/linked")
	back := browsertest.NewBrowser(t).Get(authorize.String()) // the provider answers whoever asks
	back.Body.Close()
	callback, _ := back.Location()
	if callback == nil || !strings.HasPrefix(callback.String(), site+"/.gatehouse/connect/whoop/callback") {
		t.Fatalf("provider redirect: %v", callback)
	}

	// Someone else, signed in, presents the victim's callback.
	attacker := browsertest.NewBrowser(t)
	login(t, attacker, "/.gatehouse/login/corp?rd=/")
	resp := attacker.Get(callback.String())
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "foreign_link") {
		t.Errorf("foreign callback: %d\n%s", resp.StatusCode, body)
	}
	if h := upstreamHeaders(t, attacker, "/"); h.Get("X-Auth-Connections") != "" {
		t.Errorf("a refused callback linked an account: %q", h.Get("X-Auth-Connections"))
	}
	// The victim's own session without the browser binding cookie (the
	// callback opened elsewhere, or cookies blocked) is refused the same way.
	req, _ := http.NewRequest(http.MethodGet, callback.String(), nil)
	req.Header.Set("Accept", "application/json")
	req.AddCookie(&http.Cookie{Name: cookieName, Value: victim.Cookie(site, cookieName)})
	if resp, body := testsupport.Do(t, req); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "foreign_link") {
		t.Errorf("callback without the binding cookie: %d\n%s", resp.StatusCode, body)
	}
	// That did not use it up: the victim's own callback links, once.
	resp = victim.Get(callback.String())
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Errorf("the owner's callback after a foreign one: %d", resp.StatusCode)
	}
	if h := upstreamHeaders(t, victim, "/"); h.Get("X-Auth-Connections") != "whoop" {
		t.Errorf("the owner's link: X-Auth-Connections %q", h.Get("X-Auth-Connections"))
	}
	resp = victim.Get(callback.String())
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "link_expired") {
		t.Errorf("replayed callback: %d\n%s", resp.StatusCode, body)
	}
	// Signed out, linking is not possible at all.
	if resp := browsertest.NewBrowser(t).Get(site + "/.gatehouse/connect/whoop"); resp.StatusCode != http.StatusFound {
		t.Errorf("connect without a session: %d, want a redirect to sign in", resp.StatusCode)
	}
}

// assertNowhere fails if any of secrets appears in the log file or in any
// value of the test Redis.
func assertNowhere(t *testing.T, logFile string, secrets []string) {
	t.Helper()
	logs, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) == 0 {
		t.Fatal("the log is empty: the check would prove nothing")
	}
	rdb := redis.NewClient(&redis.Options{Addr: redisSrv.Addr})
	defer rdb.Close()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("redis keys: %v %v", keys, err)
	}
	var dump strings.Builder
	for _, k := range keys {
		if v, err := rdb.Get(ctx, k).Result(); err == nil {
			dump.WriteString(v)
		}
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(string(logs), s) {
			t.Errorf("a token or secret is in the log")
		}
		if strings.Contains(dump.String(), s) {
			t.Errorf("a token or secret is in Redis in plaintext")
		}
	}
}

// A connection through a Nango integration: linked in the Connect UI,
// recorded by Nango's webhook, tokens read from Nango, deleted at unlink.
func TestLinkNangoAccount(t *testing.T) {
	gh := newGitHub(t)
	n := fakenango.NewNango(fakenango.NangoOptions{
		SecretKey: nangoKey, WebhookKey: nangoHookKey, GitHub: gh, RetryDelay: 20 * time.Millisecond,
		Integrations: map[string]fakenango.NangoIntegration{"github-data": {Provider: "github", ClientID: ghOAuthID}},
	})
	t.Cleanup(n.Close)
	n.SetLogin("alice")
	load(t, config{store: "redis", extra: fmt.Sprintf(`nango {
			secret_key %s
			base_url %s
			connect_url %s
			webhook_secret %s
			login_integration off
			repo_integration off
		}
		connection ghdata {
			type nango
			integration github-data
		}
		connections_secret %s`, nangoKey, n.URL, n.ConnectURL, nangoHookKey, linkSecret)})
	n.SetWebhookURL(site + "/.gatehouse/webhooks/nango")
	b := browsertest.NewBrowser(t)
	echo, _ := login(t, b, "/.gatehouse/login/corp?rd=/")
	uid := http.Header(echo.Headers).Get("X-Auth-User-Id")

	page := b.Get(site + "/.gatehouse/connect/ghdata?rd=/linked")
	page.Body.Close()
	if page.StatusCode != 200 || !strings.Contains(page.Header.Get("Content-Security-Policy"), "frame-src "+n.ConnectURL) {
		t.Fatalf("connect page: %d", page.StatusCode)
	}
	_, body, _ := fetchJSON(t, b, "/.gatehouse/connect/ghdata/session")
	res, err := n.Connect(fmt.Sprint(body["token"]), "github-data")
	if err != nil {
		t.Fatal(err)
	}
	if s := n.Sessions(); s[0].Tags["end_user_id"] != uid || s[0].AllowedIntegrations[0] != "github-data" {
		t.Errorf("connect session: %+v", s[0])
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, st, _ := fetchJSON(t, b, "/.gatehouse/connect/ghdata/status/"+res.ConnectionID+"?rd=/linked")
		if st["ready"] == true {
			if st["redirect"] != "/linked" {
				t.Errorf("status: %v", st)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the link was never recorded")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if h := upstreamHeaders(t, b, "/"); h.Get("X-Auth-Connections") != "ghdata" {
		t.Errorf("X-Auth-Connections = %q", h.Get("X-Auth-Connections"))
	}
	status, tok := linkToken(t, "ghdata", uid, linkSecret)
	if status != 200 || !strings.HasPrefix(fmt.Sprint(tok["access_token"]), "gho_") {
		t.Fatalf("token from Nango: %d %v", status, tok)
	}
	req, _ := http.NewRequest(http.MethodDelete, site+"/.gatehouse/connections/ghdata", nil)
	req.Header.Set("Origin", site)
	if resp, err := b.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("unlink: %v %v", resp, err)
	}
	if _, ok := n.Connection(res.ConnectionID); ok {
		t.Error("unlinking did not delete the Nango connection")
	}
}

// An OAuth 1.0a account (Garmin's flow): linked with a request token whose
// secret stays in Gatehouse, used by the upstream with the token it gets
// (the fake verifies every signature), and a request token that expired or
// was replayed ends with a clear error.
func TestLinkOAuth1Account(t *testing.T) {
	f := fakeoauth.NewOAuth1Fake()
	t.Cleanup(f.Close)
	f.AddConsumer("garmin-key", "garmin-secret")
	f.SetUser("garmin-user-1")
	logFile := filepath.Join(t.TempDir(), "caddy.log")
	load(t, config{store: "redis", logTo: logFile, extra: fmt.Sprintf(`connection garmin {
			type oauth1
			request_token_url %[1]s/oauth-service/oauth/request_token
			authorize_url %[1]s/oauthConfirm
			access_token_url %[1]s/oauth-service/oauth/access_token
			consumer_key garmin-key
			consumer_secret garmin-secret
		}
		connections_secret %[2]s`, f.URL, linkSecret)})
	b := browsertest.NewBrowser(t)
	echo, _ := login(t, b, "/.gatehouse/login/corp?rd=/")
	uid := http.Header(echo.Headers).Get("X-Auth-User-Id")

	if h := link(t, b, "garmin"); h.Get("X-Auth-Connections") != "garmin" {
		t.Errorf("X-Auth-Connections = %q", h.Get("X-Auth-Connections"))
	}
	status, tok := linkToken(t, "garmin", uid, linkSecret)
	if status != 200 || tok["token_type"] != "OAuth1" || tok["consumer_key"] != "garmin-key" || tok["token_secret"] == "" {
		t.Fatalf("token: %d %v", status, tok)
	}
	// The upstream signs a call with it; the fake checks the signature.
	api := oauth1.NewConfig("garmin-key", "garmin-secret").Client(context.Background(),
		oauth1.NewToken(fmt.Sprint(tok["access_token"]), fmt.Sprint(tok["token_secret"])))
	resp, err := api.Get(f.URL + "/wellness-api/rest/user/id")
	if err != nil {
		t.Fatal(err)
	}
	user, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(user), "garmin-user-1") {
		t.Errorf("the upstream's signed call with the token: %d %s", resp.StatusCode, user)
	}
	if f.BadSignatures() != 0 {
		t.Errorf("%d requests with a bad signature", f.BadSignatures())
	}
	assertNowhere(t, logFile, []string{fmt.Sprint(tok["access_token"]), fmt.Sprint(tok["token_secret"]), "garmin-secret"})

	// A replayed callback (the same request token again).
	b2 := browsertest.NewBrowser(t)
	login(t, b2, "/.gatehouse/login/corp?rd=/")
	_, authz := b2.Hop(site + "/.gatehouse/connect/garmin?rd=/")
	_, callback := b2.Hop(authz.String())
	first := b2.Get(callback.String())
	first.Body.Close()
	if first.StatusCode != http.StatusFound {
		t.Fatalf("first callback: %d", first.StatusCode)
	}
	replay := b2.Get(callback.String())
	body, _ := io.ReadAll(replay.Body)
	replay.Body.Close()
	if replay.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "link_expired") {
		t.Errorf("replayed callback: %d\n%s", replay.StatusCode, body)
	}

	// A request token that expired at the provider before the user came
	// back.
	f.SetRequestTokenTTL(time.Second)
	_, authz = b2.Hop(site + "/.gatehouse/connect/garmin?rd=/")
	_, callback = b2.Hop(authz.String())
	f.Advance(2 * time.Second)
	late := b2.Get(callback.String())
	body, _ = io.ReadAll(late.Body)
	late.Body.Close()
	if late.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "expired") {
		t.Errorf("expired request token: %d\n%s", late.StatusCode, body)
	}

	// Denied at the provider.
	f.SetRequestTokenTTL(10 * time.Minute)
	f.DenyAuthorization(true)
	resp, _ = b2.Follow(site + "/.gatehouse/connect/garmin?rd=/")
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "access_denied") {
		t.Errorf("denied: %d\n%s", resp.StatusCode, body)
	}
}

// headers { connections … } renames X-Auth-Connections or turns it off,
// as for every other identity header; the placeholder, /userinfo and the
// X-Auth-Jwt claims carry the connections either way.
func TestConnectionsHeaderRenamedAndOff(t *testing.T) {
	f := fakeoauth.NewOAuth2Fake("gitlab")
	t.Cleanup(f.Close)
	f.AddClient("whoop-client", "whoop-secret")
	for _, tc := range []struct{ setting, header string }{{"X-Linked", "X-Linked"}, {"off", ""}} {
		t.Run(tc.setting, func(t *testing.T) {
			load(t, config{
				extra: oauth2Connection(f) + "\n\t\theaders {\n\t\t\tconnections " + tc.setting + "\n\t\t}",
				site:  "request_header X-Placeholder-Connections {http.auth.user.connections}",
			})
			b := browsertest.NewBrowser(t)
			login(t, b, "/.gatehouse/login/corp?rd=/")
			h := link(t, b, "whoop")
			if got := h.Values("X-Auth-Connections"); len(got) != 0 {
				t.Errorf("X-Auth-Connections sent although renamed/off: %q", got)
			}
			if tc.header != "" && h.Get(tc.header) != "whoop" {
				t.Errorf("%s = %q, want whoop", tc.header, h.Get(tc.header))
			}
			if tc.header == "" && h.Get("X-Linked") != "" {
				t.Errorf("X-Linked sent while off")
			}
			if got := h.Get("X-Placeholder-Connections"); got != "whoop" {
				t.Errorf("{http.auth.user.connections} = %q", got)
			}
			claims := jwtClaims(t, h.Get("X-Auth-Jwt"))
			if c, _ := claims["connections"].([]any); len(c) != 1 || c[0] != "whoop" {
				t.Errorf("X-Auth-Jwt connections claim = %v", claims["connections"])
			}
			resp := b.Get(site + "/.gatehouse/userinfo")
			var info map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&info)
			resp.Body.Close()
			if c, _ := info["connections"].([]any); len(c) != 1 || c[0] != "whoop" {
				t.Errorf("/userinfo connections = %v", info["connections"])
			}
		})
	}
}
