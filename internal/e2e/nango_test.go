package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/fakegithub"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/fakenango"
)

const (
	nangoKey        = "nango-e2e-secret-key"
	nangoHookKey    = "nango-e2e-webhook-key"
	nangoOldHookKey = "nango-e2e-previous-webhook-key"
)

// nangoWorld is the fake GitHub behind a fake Nango, with the two
// integrations of the seed design.
type nangoWorld struct {
	gh    *fakegithub.GitHub
	nango *fakenango.Nango
	// recheck is the nango block's recheck_interval.
	recheck string
}

func newNangoWorld(t *testing.T) *nangoWorld {
	t.Helper()
	gh := newGitHub(t)
	n := fakenango.NewNango(fakenango.NangoOptions{
		SecretKey: nangoKey, WebhookKey: nangoHookKey, GitHub: gh, RetryDelay: 20 * time.Millisecond,
		Integrations: map[string]fakenango.NangoIntegration{
			"github":           {Provider: "github", ClientID: ghOAuthID},
			"github-app-oauth": {Provider: "github-app-oauth", ClientID: ghAppClient},
		},
	})
	t.Cleanup(n.Close)
	n.SetLogin("alice")
	return &nangoWorld{gh: gh, nango: n, recheck: "1h"}
}

// config is a site with the nango block (plus extra), its webhooks
// pointed at the site.
func (w *nangoWorld) load(t *testing.T, store, extra string) {
	t.Helper()
	w.loadConfig(t, config{store: store}, extra)
}

func (w *nangoWorld) loadConfig(t *testing.T, c config, extra string) {
	t.Helper()
	c.extra = fmt.Sprintf(`nango {
			secret_key %s
			base_url %s
			connect_url %s
			webhook_secret %s
			previous_webhook_secret %s
			github_api_url %s/api/v3
			syncs repos
			recheck_interval %s
			%s
		}`, nangoKey, w.nango.URL, w.nango.ConnectURL, nangoHookKey, nangoOldHookKey, w.gh.URL, w.recheck, extra)
	load(t, c)
	w.nango.SetWebhookURL(site + "/.gatehouse/webhooks/nango")
}

// fetchJSON makes the request the connect page's script makes: same-origin
// fetch, JSON, the browser's cookies.
func fetchJSON(t *testing.T, b *browsertest.Browser, path string) (int, map[string]any, *http.Response) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, site+path, nil)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body := map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body, resp
}

// startNangoLogin opens the login page and creates the connect session, as
// the page's script does; it returns the connect session token.
func startNangoLogin(t *testing.T, w *nangoWorld, b *browsertest.Browser, rd string) string {
	t.Helper()
	resp := b.Get(site + "/.gatehouse/login/nango?rd=" + rd)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-src "+w.nango.ConnectURL) {
		t.Fatalf("login page: %d, CSP %q\n%s", resp.StatusCode, resp.Header.Get("Content-Security-Policy"), page)
	}
	status, body, _ := fetchJSON(t, b, "/.gatehouse/nango/session?rd="+rd)
	tok, _ := body["token"].(string)
	if status != 200 || !strings.HasPrefix(tok, "nango_connect_session_") {
		t.Fatalf("nango/session: %d %v", status, body)
	}
	return tok
}

// connectNango starts a login in b (to rd) and connects GitHub through
// the fake Nango's Connect UI.
func connectNango(t *testing.T, w *nangoWorld, b *browsertest.Browser, rd string) fakenango.NangoConnectResult {
	t.Helper()
	res, err := w.nango.Connect(startNangoLogin(t, w, b, rd), "github")
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// connectedNango loads a Nango world (with store) and connects GitHub
// in a new browser (to /), once Nango's webhook is delivered.
func connectedNango(t *testing.T, store string) (*nangoWorld, *browsertest.Browser, fakenango.NangoConnectResult) {
	t.Helper()
	w := newNangoWorld(t)
	w.load(t, store, "")
	b := browsertest.NewBrowser(t)
	res := connectNango(t, w, b, "/")
	w.nango.WaitDeliveries(t, 1)
	return w, b, res
}

// pollNango polls the login's status until it is no longer "not ready".
func pollNango(t *testing.T, b *browsertest.Browser, connID string) (int, map[string]any, *http.Response) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, body, resp := fetchJSON(t, b, "/.gatehouse/nango/status/"+connID)
		if status != 200 || body["ready"] != false || time.Now().After(deadline) {
			return status, body, resp
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// nangoLogin signs b in through the Nango Connect flow and returns the
// connection id the Connect UI reported.
func nangoLogin(t *testing.T, w *nangoWorld, b *browsertest.Browser) string {
	t.Helper()
	res := connectNango(t, w, b, "/dashboard")
	status, body, resp := pollNango(t, b, res.ConnectionID)
	if status != 200 || body["ready"] != true || body["redirect"] != "/dashboard" {
		t.Fatalf("status poll: %d %v", status, body)
	}
	if !hasCookie(resp.Header.Values("Set-Cookie"), "__Host-gatehouse") {
		t.Fatal("no session cookie after the login was ready")
	}
	if _, ok := body["token"]; ok {
		t.Error("a browser's poll received the session token in JSON; the HttpOnly cookie is enough")
	}
	return res.ConnectionID
}

// wantHeaders checks the identity headers the upstream got.
func wantHeaders(t *testing.T, h http.Header, want map[string]string) {
	t.Helper()
	testsupport.WantEach(t, "header", want, h.Get)
}

// upstreamHeaders requests path with b and returns what the upstream saw.
func upstreamHeaders(t *testing.T, b *browsertest.Browser, path string) http.Header {
	t.Helper()
	resp := b.Get(site + path)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, body)
	}
	var echo testsupport.Echo
	if err := json.Unmarshal(body, &echo); err != nil {
		t.Fatal(err)
	}
	return http.Header(echo.Headers)
}

func TestNangoLoginNewAndReturningUser(t *testing.T) {
	for _, st := range []string{"", "redis"} {
		t.Run(cmpOr(st, "memory"), func(t *testing.T) {
			w := newNangoWorld(t)
			w.load(t, st, "")

			// A new user: the connection is tagged with a temporary id at
			// first, then with the real user id.
			first := nangoLogin(t, w, browsertest.NewBrowser(t))
			sessions := w.nango.Sessions()
			if len(sessions) != 1 || !strings.HasPrefix(sessions[0].Tags["end_user_id"], "login-") ||
				!slices.Equal(sessions[0].AllowedIntegrations, []string{"github"}) {
				t.Fatalf("connect session: %+v", sessions)
			}
			c, ok := w.nango.Connection(first)
			if !ok || c.EndUserID != "github:1001" || c.Tags["end_user_email"] != "alice@acme.example" {
				t.Fatalf("the new user's connection was not re-tagged with the user id: %+v", c)
			}

			// A returning user from another browser: the duplicate
			// connection is deleted, the first one kept.
			b := browsertest.NewBrowser(t)
			second := nangoLogin(t, w, b)
			if second == first {
				t.Fatal("the fake reused the connection id")
			}
			if _, ok := w.nango.Connection(second); ok {
				t.Error("the returning user's duplicate connection was not deleted")
			}
			if _, ok := w.nango.Connection(first); !ok {
				t.Error("the returning user's original connection was deleted")
			}
			h := upstreamHeaders(t, b, "/dashboard")
			wantHeaders(t, h, map[string]string{
				"X-Auth-User-Id":  "github:1001",
				"X-Auth-User":     "alice",
				"X-Auth-Email":    "alice@acme.example",
				"X-Auth-Name":     "Alice Liddell",
				"X-Auth-Provider": "nango",
				"X-Auth-Groups":   "acme,acme/backend",
			})
			for k, vs := range h {
				for _, v := range vs {
					if strings.Contains(v, "gho_") || strings.Contains(v, nangoKey) {
						t.Errorf("a token reached the upstream in %s", k)
					}
				}
			}
		})
	}
}

// A connection id alone never yields a session: the poll must come from
// the browser that opened the login, and it works once.
func TestNangoPollFromAnotherBrowserRefused(t *testing.T) {
	w, victim, res := connectedNango(t, "redis")

	// No cookies at all.
	bare := browsertest.NewBrowser(t)
	status, body, resp := fetchJSON(t, bare, "/.gatehouse/nango/status/"+res.ConnectionID)
	if status != http.StatusForbidden || hasCookie(resp.Header.Values("Set-Cookie"), "__Host-gatehouse") {
		t.Errorf("poll without a login: %d %v", status, body)
	}
	// A browser with a login of its own in progress.
	attacker := browsertest.NewBrowser(t)
	startNangoLogin(t, w, attacker, "/")
	status, body, resp = fetchJSON(t, attacker, "/.gatehouse/nango/status/"+res.ConnectionID)
	if status != http.StatusForbidden || body["error"] != "foreign_login" || hasCookie(resp.Header.Values("Set-Cookie"), "__Host-gatehouse") {
		t.Errorf("poll from another browser: %d %v", status, body)
	}
	// Junk ids.
	for _, id := range []string{"..%2F..%2Fhealthz", strings.Repeat("a", 300), "a%20b"} {
		if status, _, _ := fetchJSON(t, attacker, "/.gatehouse/nango/status/"+id); status != http.StatusNotFound {
			t.Errorf("poll of %q: %d", id, status)
		}
	}

	// The victim still finishes, once.
	status, body, _ = pollNango(t, victim, res.ConnectionID)
	if status != 200 || body["ready"] != true {
		t.Fatalf("the victim's own poll: %d %v", status, body)
	}
	if status, _, _ := fetchJSON(t, victim, "/.gatehouse/nango/status/"+res.ConnectionID); status != http.StatusNotFound {
		t.Errorf("a second poll after the login finished: %d, want 404", status)
	}
	if resp := attacker.Get(site + "/"); resp.StatusCode != http.StatusFound {
		t.Errorf("the attacker has a session: %d", resp.StatusCode)
	}
}

// An API client (no browser fetch metadata) gets the session as a bearer
// token too.
func TestNangoLoginBearerForAPIClients(t *testing.T) {
	_, b, res := connectedNango(t, "")
	req, _ := http.NewRequest(http.MethodGet, site+"/.gatehouse/nango/status/"+res.ConnectionID, nil)
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Ready bool   `json:"ready"`
		Token string `json:"token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if !body.Ready || len(body.Token) != 64 {
		t.Fatalf("API client poll: %+v", body)
	}
	req, _ = http.NewRequest(http.MethodGet, site+"/.gatehouse/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+body.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("bearer token from the poll: userinfo %d", resp.StatusCode)
	}
}

// connectRepos connects repositories for the signed-in browser b through
// the repository integration and returns the connection.
func connectRepos(t *testing.T, w *nangoWorld, b *browsertest.Browser) fakenango.NangoConnectResult {
	t.Helper()
	resp := b.Get(site + "/.gatehouse/github-app/connect?rd=/repos-page")
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("repository connect page: %d", resp.StatusCode)
	}
	status, body, _ := fetchJSON(t, b, "/.gatehouse/github-app/session")
	tok, _ := body["token"].(string)
	if status != 200 || tok == "" {
		t.Fatalf("github-app/session: %d %v", status, body)
	}
	res, err := w.nango.Connect(tok, "github-app-oauth")
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// repoReady is the state after an installed repository connection.
func repoReady(m map[string]any) bool { return m["ready"] == true && m["pendingApproval"] == false }

// repoStatus polls the repository connection until its webhook has been
// processed and want holds.
func repoStatus(t *testing.T, b *browsertest.Browser, connID string, want func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, body, _ := fetchJSON(t, b, "/.gatehouse/github-app/status/"+connID+"?rd=/repos-page")
		if status != 200 {
			t.Fatalf("github-app/status: %d %v", status, body)
		}
		if want(body) {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("repository status never became as wanted: %v", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestNangoRepoConnectionWithPendingApproval(t *testing.T) {
	w := newNangoWorld(t)
	w.load(t, "redis", "")
	b := browsertest.NewBrowser(t)
	nangoLogin(t, w, b)

	// alice asked an owner of acme to install the App: pending.
	res := connectRepos(t, w, b)
	if !res.IsPending {
		t.Fatal("the fake did not make the connection pending")
	}
	// As the seed's front end expects: not ready while an approval is
	// pending (it polls until ready or pendingApproval).
	body := repoStatus(t, b, res.ConnectionID, func(m map[string]any) bool { return m["pendingApproval"] == true })
	if body["ready"] != false || len(body["repos"].([]any)) != 0 {
		t.Fatalf("pending status: %v", body)
	}
	if st := appStatus(t, b.Cookie(site, cookieName)); st["ready"] != false || st["pendingApproval"] != true {
		t.Fatalf("github-app/status while pending: %v", st)
	}
	if got := w.nango.SyncTriggers(); len(got) != 0 {
		t.Errorf("syncs triggered while the installation is pending: %+v", got)
	}
	sessions := w.nango.Sessions()
	if last := sessions[len(sessions)-1]; last.Tags["end_user_id"] != "github:1001" || !slices.Equal(last.AllowedIntegrations, []string{"github-app-oauth"}) {
		t.Errorf("repository connect session: %+v", last)
	}

	// The owner approves: Nango sends the override webhook.
	w.gh.GrantInstallation("alice", 77)
	if err := w.nango.Approve(res.ConnectionID); err != nil {
		t.Fatal(err)
	}
	body = repoStatus(t, b, res.ConnectionID, repoReady)
	if fmt.Sprint(body["repos"]) != "[acme/api acme/web]" || body["redirect"] != "/repos-page" {
		t.Fatalf("status after approval: %v", body)
	}
	if h := upstreamHeaders(t, b, "/"); h.Get("X-Auth-Repos") != "acme/api,acme/web" {
		t.Errorf("X-Auth-Repos = %q", h.Get("X-Auth-Repos"))
	}
	trig := w.nango.SyncTriggers()
	if len(trig) != 1 || trig[0].Integration != "github-app-oauth" || trig[0].ConnectionID != res.ConnectionID || !slices.Equal(trig[0].Syncs, []string{"repos"}) {
		t.Errorf("sync triggers: %+v", trig)
	}
	// The connection holds the installation token in credentials; the
	// repositories were listed with the user token (the installation
	// token cannot list /user/installations).
	if c, _ := w.nango.Connection(res.ConnectionID); c.InstallationID != 77 {
		t.Errorf("connection: %+v", c)
	}

	// Connecting again replaces the previous repository connection.
	again := connectRepos(t, w, b)
	repoStatus(t, b, again.ConnectionID, repoReady)
	// The status is ready once the repositories are recorded; the old
	// connection is deleted just after, by the same webhook.
	testsupport.WaitFor(t, 10*time.Second, "the previous repository connection was not deleted within 10s", func() bool {
		_, ok := w.nango.Connection(res.ConnectionID)
		return !ok
	})
	// Another user's status poll of this connection says nothing.
	bob := browsertest.NewBrowser(t)
	w.nango.SetLogin("bob")
	nangoLogin(t, w, bob)
	if _, body, _ := fetchJSON(t, bob, "/.gatehouse/github-app/status/"+again.ConnectionID); body["ready"] != false || len(body["repos"].([]any)) != 0 {
		t.Errorf("bob sees alice's repository connection: %v", body)
	}
}

func TestNangoRepoConnectionInstalled(t *testing.T) {
	w := newNangoWorld(t)
	w.load(t, "", "")
	w.gh.GrantInstallation("alice", 77, "acme/api")
	b := browsertest.NewBrowser(t)
	nangoLogin(t, w, b)
	res := connectRepos(t, w, b)
	if res.IsPending {
		t.Fatal("pending although the installation is granted")
	}
	body := repoStatus(t, b, res.ConnectionID, repoReady)
	if fmt.Sprint(body["repos"]) != "[acme/api]" {
		t.Fatalf("repos: %v", body["repos"])
	}
	if h := upstreamHeaders(t, b, "/"); h.Get("X-Auth-Repos") != "acme/api" {
		t.Errorf("X-Auth-Repos = %q", h.Get("X-Auth-Repos"))
	}
	// Signed out users cannot create repository sessions.
	if status, _, _ := fetchJSON(t, browsertest.NewBrowser(t), "/.gatehouse/github-app/session"); status != http.StatusUnauthorized {
		t.Errorf("github-app/session without a session: %d", status)
	}
}

// receiver is the application's webhook endpoint for sync_forward; it
// answers status until told otherwise.
type receiver struct {
	mu     sync.Mutex
	status int
	got    []*http.Request
	bodies [][]byte
	ok     int
}

func newReceiver(t *testing.T, status int) (*receiver, string) {
	r := &receiver{status: status}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got, r.bodies = append(r.got, req), append(r.bodies, body)
		st := r.status
		if st == 200 {
			r.ok++
		}
		r.mu.Unlock()
		w.WriteHeader(st)
	}))
	t.Cleanup(srv.Close)
	return r, srv.URL
}

func (r *receiver) set(status int) { r.mu.Lock(); r.status = status; r.mu.Unlock() }
func (r *receiver) counts() (attempts, ok int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got), r.ok
}

func TestNangoSyncWebhookForwardedAfterUpstreamReturns(t *testing.T) {
	w := newNangoWorld(t)
	recv, url := newReceiver(t, http.StatusServiceUnavailable)
	w.load(t, "redis", "sync_forward "+url+"/nango")
	b := browsertest.NewBrowser(t)
	conn := nangoLogin(t, w, b)

	w.nango.SendSync("github-app-oauth", conn, "repos", "Repo")
	d := w.nango.WaitDeliveries(t, 2)[1]
	if !slices.Equal(d.Statuses, []int{200}) {
		t.Fatalf("Nango's delivery: %v; the webhook must be acknowledged once persisted", d.Statuses)
	}
	// The application is down: retried.
	deadline := time.Now().Add(10 * time.Second)
	testsupport.WaitFor(t, time.Until(deadline), "no retry while the application answered 503",
		func() bool { n, _ := recv.counts(); return n >= 2 })
	recv.set(http.StatusOK)
	testsupport.WaitFor(t, time.Until(deadline), "not delivered after the application came back",
		func() bool { _, ok := recv.counts(); return ok >= 1 })
	// The same delivery again (Nango retrying) is not forwarded twice.
	resend(t, d.Body, d.Header)
	// Forward webhooks (GitHub events Nango passes on), attributed or not,
	// go the same way, with the provider's event headers.
	w.nango.SendForward("github-app-oauth", conn, "installation_repositories", []byte(`{"action":"added","installation":{"id":77}}`))
	// (A unique body: identical bodies are one delivery.)
	w.nango.SendForwardUnattributed("github-app-oauth", "ping", []byte(`{"zen":"Keep it logically awesome.","hook_id":`+fmt.Sprint(time.Now().UnixNano())+`}`))
	w.nango.WaitDeliveries(t, 4)
	for _, ok := recv.counts(); ok < 3; _, ok = recv.counts() {
		if time.Now().After(deadline) {
			t.Fatal("forward webhooks not delivered")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	recv.mu.Lock()
	defer recv.mu.Unlock()
	if recv.ok != 3 {
		t.Errorf("%d deliveries succeeded, want 3 (the repeated sync webhook is not forwarded again)", recv.ok)
	}
	events := map[string]bool{}
	for _, req := range recv.got {
		events[req.Header.Get("X-GitHub-Event")] = true
	}
	if !events["installation_repositories"] || !events["ping"] {
		t.Errorf("GitHub event headers of forwarded webhooks: %v", events)
	}
	recv.got, recv.bodies = recv.got[:len(recv.got)-2], recv.bodies[:len(recv.bodies)-2]
	ids := map[string]bool{}
	for i, req := range recv.got {
		ids[req.Header.Get("X-Gatehouse-Delivery")] = true
		if !bytes.Equal(recv.bodies[i], d.Body) {
			t.Errorf("attempt %d carried another body", i+1)
		}
		if sig, _ := fakenango.NangoSign([]byte(nangoHookKey), d.Body); req.Header.Get("X-Nango-Hmac-Sha256") != sig {
			t.Errorf("attempt %d lacks Nango's signature", i+1)
		}
	}
	if len(ids) != 1 || ids[""] {
		t.Errorf("delivery ids across attempts: %v", ids)
	}
}

// resend posts a webhook body with the given headers to the site.
func resend(t *testing.T, body []byte, h http.Header) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, site+"/.gatehouse/webhooks/nango", bytes.NewReader(body))
	for k, vs := range h {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// signed returns Nango's headers for body signed with key.
func signed(key string, body []byte) http.Header {
	hm, legacy := fakenango.NangoSign([]byte(key), body)
	return http.Header{"X-Nango-Hmac-Sha256": {hm}, "X-Nango-Signature": {legacy}}
}

// Every signature failure gets 401 and changes nothing; the current and
// the previous key are both accepted.
func TestNangoWebhookSignatures(t *testing.T) {
	w := newNangoWorld(t)
	w.load(t, "redis", "")
	b := browsertest.NewBrowser(t)
	tok := startNangoLogin(t, w, b, "/")
	// Capture the auth webhook instead of delivering it.
	w.nango.SetWebhookURL("http://127.0.0.1:1/unreachable")
	res, err := w.nango.Connect(tok, "github")
	if err != nil {
		t.Fatal(err)
	}
	body := w.nango.WaitDeliveries(t, 1)[0].Body
	hm, legacy := fakenango.NangoSign([]byte(nangoHookKey), body)
	tampered := bytes.Replace(body, []byte(`"success":true`), []byte(`"success":false`), 1)
	upper := strings.ToUpper(hm)
	cases := []struct {
		name   string
		body   []byte
		header http.Header
	}{
		{"no signature", body, http.Header{}},
		{"legacy signature only", body, http.Header{"X-Nango-Signature": {legacy}}},
		{"wrong key", body, signed("another-key", body)},
		{"tampered body", tampered, http.Header{"X-Nango-Hmac-Sha256": {hm}, "X-Nango-Signature": {legacy}}},
		{"empty signature", body, http.Header{"X-Nango-Hmac-Sha256": {""}}},
		{"signature of another body", body, signed(nangoHookKey, []byte(`{"type":"auth"}`))},
		{"truncated signature", body, http.Header{"X-Nango-Hmac-Sha256": {hm[:32]}}},
		{"sha256= prefix", body, http.Header{"X-Nango-Hmac-Sha256": {"sha256=" + hm}}},
		{"key as signature", body, http.Header{"X-Nango-Hmac-Sha256": {nangoHookKey}}},
	}
	for _, c := range cases {
		if got := resend(t, c.body, c.header); got != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", c.name, got)
		}
	}
	if status, body, _ := fetchJSON(t, b, "/.gatehouse/nango/status/"+res.ConnectionID); status != 200 || body["ready"] != false {
		t.Fatalf("a refused webhook changed the login: %d %v", status, body)
	}
	if c, _ := w.nango.Connection(res.ConnectionID); c.EndUserID == "github:1001" {
		t.Fatal("a refused webhook re-tagged the connection")
	}

	// Upper-case hex of the right HMAC is accepted; so is the previous key.
	if got := resend(t, body, http.Header{"X-Nango-Hmac-Sha256": {upper}}); got != 200 {
		t.Fatalf("valid webhook: %d", got)
	}
	if status, body, _ := pollNango(t, b, res.ConnectionID); status != 200 || body["ready"] != true {
		t.Fatalf("after the valid webhook: %d %v", status, body)
	}

	// Key rotation: Nango still signs with the old key for a while.
	w.nango.SetWebhookURL(site + "/.gatehouse/webhooks/nango")
	w.nango.RotateWebhookKey(nangoOldHookKey)
	b2 := browsertest.NewBrowser(t)
	nangoLogin(t, w, b2)
	if d := w.nango.Deliveries(); !slices.Equal(d[len(d)-1].Statuses, []int{200}) {
		t.Errorf("webhook signed with the previous key: %v", d[len(d)-1].Statuses)
	}

	// Unknown types are acknowledged and ignored; a repeated delivery has
	// no second effect.
	unknown := fakenango.NangoWebhookBody(map[string]any{"type": "async_action", "from": "nango"})
	if got := resend(t, unknown, signed(nangoHookKey, unknown)); got/100 != 2 {
		t.Errorf("unknown type: %d", got)
	}
	if got := resend(t, body, signed(nangoHookKey, body)); got != 200 {
		t.Errorf("repeated delivery: %d", got)
	}
	if status, _, _ := fetchJSON(t, b, "/.gatehouse/nango/status/"+res.ConnectionID); status != http.StatusNotFound {
		t.Errorf("a repeated delivery revived a finished login: %d", status)
	}
}

// Failures Nango reports are recorded and never crash anything: a failed
// refresh keeps the session; a failed login connection ends the login with
// Nango's reason; a login whose state is gone leaves no orphan connection.
func TestNangoFailuresReported(t *testing.T) {
	w := newNangoWorld(t)
	w.load(t, "redis", "")
	b := browsertest.NewBrowser(t)
	conn := nangoLogin(t, w, b)

	w.nango.SendRefreshFailure("github", conn)
	if d := w.nango.WaitDeliveries(t, 2)[1]; !slices.Equal(d.Statuses, []int{200}) {
		t.Errorf("refresh failure webhook: %v", d.Statuses)
	}
	if resp := b.Get(site + "/"); resp.StatusCode != 200 {
		t.Errorf("after a refresh failure the session answers %d", resp.StatusCode)
	}

	// A login whose connection failed.
	b2 := browsertest.NewBrowser(t)
	startNangoLogin(t, w, b2, "/")
	sessions := w.nango.Sessions()
	temp := sessions[len(sessions)-1].Tags["end_user_id"]
	w.nango.Send(map[string]any{
		"type": "auth", "operation": "creation", "success": false, "from": "nango", "environment": "dev",
		"authMode": "OAUTH2", "provider": "github", "providerConfigKey": "github", "connectionId": "failed-conn-1",
		"tags": map[string]any{"end_user_id": temp}, "error": map[string]any{"type": "callback_err", "description": "denied"},
	})
	w.nango.WaitDeliveries(t, 3)
	status, body, resp := fetchJSON(t, b2, "/.gatehouse/nango/status/failed-conn-1")
	if status != http.StatusBadGateway || body["error"] != "callback_err" || hasCookie(resp.Header.Values("Set-Cookie"), "__Host-gatehouse") {
		t.Errorf("poll of a failed connection: %d %v", status, body)
	}

	// A connect session Gatehouse has no login for (expired, or not
	// Gatehouse's): its connection is deleted rather than left orphaned.
	req, _ := http.NewRequest(http.MethodPost, w.nango.URL+"/connect/sessions",
		strings.NewReader(`{"tags":{"end_user_id":"login-unknown"},"allowed_integrations":["github"]}`))
	req.Header.Set("Authorization", "Bearer "+nangoKey)
	req.Header.Set("Content-Type", "application/json")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		Data struct {
			Token string `json:"token"`
		} `json:"data"`
	}
	_ = json.NewDecoder(r.Body).Decode(&created)
	r.Body.Close()
	res, err := w.nango.Connect(created.Data.Token, "github")
	if err != nil {
		t.Fatal(err)
	}
	w.nango.WaitDeliveries(t, 4)
	if _, ok := w.nango.Connection(res.ConnectionID); ok {
		t.Error("the orphaned login connection was not deleted")
	}
}

// The re-check reads membership through the login connection: when the
// connection is deleted in Nango, the session ends; signing in again works.
func TestNangoRecheckEndsSessionWhenConnectionDeleted(t *testing.T) {
	w := newNangoWorld(t)
	w.recheck = "1s"
	w.load(t, "", "")
	b := browsertest.NewBrowser(t)
	conn := nangoLogin(t, w, b)
	req, _ := http.NewRequest(http.MethodDelete, w.nango.URL+"/connections/"+conn+"?provider_config_key=github", nil)
	req.Header.Set("Authorization", "Bearer "+nangoKey)
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != 200 {
		t.Fatalf("deleting the connection: %v %v", r, err)
	}
	time.Sleep(1100 * time.Millisecond)
	if resp := b.Get(site + "/"); resp.StatusCode != http.StatusFound {
		t.Fatalf("after the connection was deleted the session answers %d", resp.StatusCode)
	}
	// A new login keeps the new connection (the old one is gone).
	second := nangoLogin(t, w, b)
	if c, ok := w.nango.Connection(second); !ok || c.EndUserID != "github:1001" {
		t.Errorf("the new login connection: %+v %v", c, ok)
	}
	if h := upstreamHeaders(t, b, "/"); h.Get("X-Auth-User-Id") != "github:1001" {
		t.Errorf("user id %q", h.Get("X-Auth-User-Id"))
	}
}

// With Nango as the only sign-in, visitors go straight to its page.
func TestNangoOnlySignIn(t *testing.T) {
	w := newNangoWorld(t)
	w.loadConfig(t, config{noOIDC: true}, "")
	resp, visited := browsertest.NewBrowser(t).Follow(site + "/docs?page=2")
	resp.Body.Close()
	if resp.StatusCode != 200 || visited[len(visited)-1] != site+"/.gatehouse/login/nango?rd=%2Fdocs%3Fpage%3D2" {
		t.Fatalf("%d after %v", resp.StatusCode, visited)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
