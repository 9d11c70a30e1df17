package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/devicelogin"
	"github.com/gatehouse-auth/gatehouse/internal/devidp"
	"github.com/gatehouse-auth/gatehouse/internal/gate"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
)

// Device login for CLIs (RFC 8628): POST /.gatehouse/device/code, the
// person's page GET/POST /.gatehouse/device, and the device's polls at
// POST /.gatehouse/device/token.

// deviceGlobal makes Caddy trust the X-Forwarded-For of requests from the
// loopback address, so that each test's device and people come from
// addresses of their own (ipFor) and the counts of wrong codes kept per
// address in the shared stores never meet another test's.
const deviceGlobal = "servers {\n\t\ttrusted_proxies static 127.0.0.1/32\n\t}"

// loadDevice loads a config with device login on (with lifetime, when
// set) and extra.
func loadDevice(t *testing.T, store, lifetime, extra string) {
	t.Helper()
	dl := "device_login"
	if lifetime != "" {
		dl = "device_login {\n\t\t\tlifetime " + lifetime + "\n\t\t}"
	}
	load(t, config{store: store, extra: dl + "\n\t\t" + extra, global: deviceGlobal})
}

// ipFor is the n-th client address of the current config: its own, as
// the port is.
func ipFor(n int) string {
	seq := configSeq.Load()
	return fmt.Sprintf("10.%d.%d.%d", seq>>8&255, seq&255, n)
}

// from adds to hdr that the request comes from the client at ip.
func from(ip string, hdr map[string]string) map[string]string {
	out := map[string]string{"X-Forwarded-For": ip}
	for k, v := range hdr {
		out[k] = v
	}
	return out
}

// deviceCodes is the answer to POST /device/code.
type deviceCodes struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"`
	Interval                int    `json:"interval"`
}

var userCodeShape = regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)

// requestCodes asks for a device code as the device named client at ip,
// and checks the answer's shape.
func requestCodes(t *testing.T, ip, client string) deviceCodes {
	t.Helper()
	form := url.Values{"client_id": {"ignored"}}
	if client != "" {
		form.Set("client_name", client)
	}
	resp := request(t, "POST", "/.gatehouse/device/code", "", from(ip, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}), form.Encode())
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var c deviceCodes
	if err := json.Unmarshal(body, &c); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /device/code: %d %s", resp.StatusCode, body)
	}
	var keys map[string]any
	_ = json.Unmarshal(body, &keys)
	if len(keys) != 6 || len(c.DeviceCode) != 43 || !userCodeShape.MatchString(c.UserCode) || c.Interval != 5 ||
		c.VerificationURI != site+"/.gatehouse/device" || c.VerificationURIComplete != c.VerificationURI+"?user_code="+c.UserCode {
		t.Fatalf("POST /device/code answered %s", body)
	}
	if resp.Header.Get("Cache-Control") != "no-store" || len(resp.Header["Set-Cookie"]) != 0 {
		t.Fatalf("POST /device/code: Cache-Control %q, Set-Cookie %v", resp.Header.Get("Cache-Control"), resp.Header["Set-Cookie"])
	}
	return c
}

// poll is the device's token request for deviceCode: the status, the
// JSON answer and when it came back.
func poll(t *testing.T, ip, deviceCode string) (int, map[string]any, *http.Response) {
	t.Helper()
	form := url.Values{"grant_type": {devicelogin.GrantType}, "device_code": {deviceCode}, "client_id": {"cli"}}
	resp := request(t, "POST", "/.gatehouse/device/token", "", from(ip, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}), form.Encode())
	return resp.StatusCode, answer(t, resp), resp
}

// wantPollError fails unless the device's poll is refused with code.
func wantPollError(t *testing.T, ip, deviceCode, code string) {
	t.Helper()
	if st, m, _ := poll(t, ip, deviceCode); st != http.StatusBadRequest || m["error"] != code {
		t.Fatalf("poll: %d %v, want 400 %s", st, m, code)
	}
}

// waitInterval waits out the polling interval after a poll answered at
// last: RFC 8628 has the device wait this long between polls (the
// protocol's own pacing, which Gatehouse enforces with slow_down), so
// there is nothing sooner to wait for.
func waitInterval(last time.Time) {
	time.Sleep(time.Until(last.Add(devicelogin.Interval + 100*time.Millisecond)))
}

// devicePage is GET /device?user_code=code as the signed-in browser tok
// at ip: the status and the page.
func devicePage(t *testing.T, tok, ip, code string) (int, string) {
	t.Helper()
	resp := request(t, "GET", "/.gatehouse/device?user_code="+url.QueryEscape(code), tok, from(ip, map[string]string{"Accept": "text/html"}), "")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(body)
}

// decide posts the page's form: action on code, with csrf, from the site
// at ip.
func decide(t *testing.T, tok, ip, code, action, csrf string, hdr map[string]string) *http.Response {
	t.Helper()
	h := from(ip, formPost())
	for k, v := range hdr {
		h[k] = v
	}
	for k, v := range h {
		if v == "" {
			delete(h, k)
		}
	}
	form := url.Values{"user_code": {code}, "action": {action}}
	if csrf != "" {
		form.Set("csrf", csrf)
	}
	return request(t, "POST", "/.gatehouse/device", tok, h, form.Encode())
}

// pageCSRF is the CSRF token of the device page showing code to tok.
func pageCSRF(t *testing.T, tok, ip, code string) string {
	t.Helper()
	st, page := devicePage(t, tok, ip, code)
	csrf := between(page, `name="csrf" value="`, `"`)
	if st != http.StatusOK || csrf == "" {
		t.Fatalf("device page for %s: %d %s", code, st, page)
	}
	return csrf
}

// approve approves code as tok at ip, through the page, as a browser does.
func approve(t *testing.T, tok, ip, code, action string) {
	t.Helper()
	resp := decide(t, tok, ip, code, action, pageCSRF(t, tok, ip, code), nil)
	want := "/.gatehouse/device?result=approved"
	if action == "deny" {
		want = "/.gatehouse/device?result=denied"
	}
	if st := status(t, resp); st != http.StatusSeeOther || resp.Header.Get("Location") != want {
		t.Fatalf("%s %s: %d to %q", action, code, st, resp.Header.Get("Location"))
	}
}

// The whole flow: the CLI asks for a code and polls; the person, signed
// in in a browser, enters the code (in any case, without the dash), sees
// the CLI's name, address and time, and approves; the CLI's next poll
// gets a session token, once. The token works as a bearer token, carries
// the person's identity upstream but none of their provider tokens, is
// listed among their sessions with the CLI's address and name, and stops
// working when it is ended there.
func TestDeviceLogin(t *testing.T) {
	for _, st := range []string{"", "redis"} {
		t.Run("store="+st, func(t *testing.T) {
			loadDevice(t, st, "", "pass_access_token")
			devIP, userIP := ipFor(1), ipFor(2)
			requested := time.Now().Add(-time.Second)
			c := requestCodes(t, devIP, "my-cli on build-box")
			if c.ExpiresIn != 600 {
				t.Errorf("expires_in %d, want 600 (the default 10m)", c.ExpiresIn)
			}
			wantPollError(t, devIP, c.DeviceCode, "authorization_pending")
			lastPoll := time.Now()

			browser, echo := signInAs(t, "alice", "Laptop/1.0")
			browserAT := http.Header(echo.Headers).Get("X-Auth-Access-Token")
			if browserAT == "" {
				t.Fatal("the browser's session sent no access token upstream")
			}
			typed := strings.ToLower(strings.ReplaceAll(c.UserCode, "-", ""))
			code, page := devicePage(t, browser, userIP, typed)
			for _, want := range []string{"<title>Sign in a device</title>", "Sign in a device?", "signed in as <strong>" + fresh("alice") + "</strong>",
				"my-cli on build-box", devIP, c.UserCode, `name="action" value="approve"`, `name="action" value="deny"`, `action="/.gatehouse/device"`} {
				if !strings.Contains(page, want) {
					t.Errorf("device page lacks %q", want)
				}
			}
			if code != http.StatusOK || strings.Contains(page, c.DeviceCode) {
				t.Fatalf("device page: %d %s", code, page)
			}
			// An API client is told the same in JSON.
			resp := request(t, "GET", "/.gatehouse/device?user_code="+c.UserCode, "", from(userIP, map[string]string{"Authorization": "Bearer " + browser}), "")
			m := answer(t, resp)
			at, err := time.Parse(time.RFC3339, fmt.Sprint(m["requested_at"]))
			if resp.StatusCode != 200 || m["user_code"] != c.UserCode || m["client_name"] != "my-cli on build-box" || m["ip"] != devIP ||
				err != nil || at.Before(requested.Truncate(time.Second)) || at.After(time.Now()) {
				t.Errorf("the request in JSON: %d %v", resp.StatusCode, m)
			}

			approve(t, browser, userIP, c.UserCode, "approve")
			code, page = devicePage(t, browser, userIP, "")
			if code != http.StatusOK || !strings.Contains(page, `<form method="get" action="/.gatehouse/device">`) || !strings.Contains(page, `name="user_code"`) {
				t.Errorf("page without a code, asking for one: %d %s", code, page)
			}
			resp = request(t, "GET", "/.gatehouse/device?result=approved", browser, map[string]string{"Accept": "text/html"}, "")
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(body), "Device signed in") || !strings.Contains(string(body), `href="/.gatehouse/sessions"`) {
				t.Errorf("the approved page: %s", body)
			}
			// The user code is used up.
			if code, page := devicePage(t, browser, userIP, c.UserCode); code != http.StatusNotFound || !strings.Contains(page, "unknown_user_code") {
				t.Errorf("the used code looked up again: %d %s", code, page)
			}

			waitInterval(lastPoll)
			pst, tokAnswer, resp := poll(t, devIP, c.DeviceCode)
			token, _ := tokAnswer["access_token"].(string)
			expires, _ := tokAnswer["expires_in"].(float64)
			if pst != http.StatusOK || tokAnswer["token_type"] != "Bearer" || len(token) != 64 || len(tokAnswer) != 3 ||
				expires > (168*time.Hour).Seconds() || expires < (168*time.Hour).Seconds()-30 {
				t.Fatalf("poll after approval: %d %v", pst, tokAnswer)
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("token answer Cache-Control %q", resp.Header.Get("Cache-Control"))
			}
			if token == browser {
				t.Fatal("the device got the browser's own session")
			}
			// The device code is used up.
			wantPollError(t, devIP, c.DeviceCode, "invalid_grant")

			// The token works as a bearer token, with the person's
			// identity and without their provider tokens.
			resp = request(t, "GET", "/api/items", "", map[string]string{"Authorization": "Bearer " + token, "Accept": "application/json"}, "")
			if code := status(t, resp); code != http.StatusOK {
				t.Fatalf("the device's token on a protected route: %d", code)
			}
			got := upstream.Last().Header
			wantHeaders(t, got, map[string]string{
				"X-Auth-User": fresh("alice"), "X-Auth-Provider": "corp",
				"X-Auth-User-Id": http.Header(echo.Headers).Get("X-Auth-User-Id"),
				"X-Auth-Email":   http.Header(echo.Headers).Get("X-Auth-Email"),
			})
			if v := got.Get("X-Auth-Access-Token"); v != "" {
				t.Errorf("the device's session sent a provider access token upstream: %q", v)
			}
			if got.Get("Authorization") != "" {
				t.Error("the device's token reached the upstream")
			}

			// Listed among the person's sessions, ended there like any other.
			var deviceID string
			for _, s := range listSessions(t, browser) {
				if s.UserAgent == "device: my-cli on build-box" {
					deviceID = s.ID
					if s.IP != devIP || s.Current || s.Provider != "corp" {
						t.Errorf("the device's session is listed as %+v", s)
					}
				}
			}
			if deviceID == "" {
				t.Fatalf("the device's session is not listed: %+v", listSessions(t, browser))
			}
			if st == "redis" {
				for k, v := range redisDump(t) {
					for _, secret := range []string{c.DeviceCode, c.UserCode, strings.ReplaceAll(c.UserCode, "-", ""), token} {
						if strings.Contains(k, secret) || strings.Contains(v, secret) {
							t.Errorf("Redis holds a code or token in the clear under %s", k)
						}
					}
				}
			}
			resp = request(t, "POST", "/.gatehouse/sessions/"+deviceID+"/end", browser, formPost(), "csrf="+url.QueryEscape(sessionsCSRF(t, browser)))
			if code := status(t, resp); code != http.StatusSeeOther {
				t.Fatalf("ending the device's session: %d", code)
			}
			resp = request(t, "GET", "/api/items", "", map[string]string{"Authorization": "Bearer " + token, "Accept": "application/json"}, "")
			if code := status(t, resp); code != http.StatusUnauthorized {
				t.Fatalf("the device's token after its session ended: %d, want 401", code)
			}
			if !alive(t, browser) {
				t.Fatal("ending the device's session ended the browser's")
			}
		})
	}
}

// A denied request: the device is told access_denied once, its code is
// used up, and no session is made.
func TestDeviceLoginDenied(t *testing.T) {
	loadDevice(t, "redis", "", "")
	devIP, userIP := ipFor(1), ipFor(2)
	c := requestCodes(t, devIP, "")
	browser, _ := signInAs(t, "alice", "Laptop/1.0")
	if _, page := devicePage(t, browser, userIP, c.UserCode); !strings.Contains(page, "Unnamed device") {
		t.Errorf("a device without a name is not shown as unnamed: %s", page)
	}
	approve(t, browser, userIP, c.UserCode, "deny")
	resp := request(t, "GET", "/.gatehouse/device?result=denied", browser, map[string]string{"Accept": "text/html"}, "")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "Sign-in denied") {
		t.Errorf("the denied page: %s", body)
	}
	wantPollError(t, devIP, c.DeviceCode, "access_denied")
	wantPollError(t, devIP, c.DeviceCode, "invalid_grant")
	if code, page := devicePage(t, browser, userIP, c.UserCode); code != http.StatusNotFound || !strings.Contains(page, "Code not recognised") {
		t.Errorf("the denied code looked up again: %d %s", code, page)
	}
	if l := listSessions(t, browser); len(l) != 1 {
		t.Errorf("a denied device has a session: %+v", l)
	}
}

// A device that polls sooner than the interval is told slow_down, and
// from then on must wait 5 seconds longer.
func TestDeviceLoginSlowDown(t *testing.T) {
	loadDevice(t, "redis", "", "")
	devIP := ipFor(1)
	c := requestCodes(t, devIP, "impatient")
	wantPollError(t, devIP, c.DeviceCode, "authorization_pending")
	wantPollError(t, devIP, c.DeviceCode, "slow_down")
	last := time.Now()
	// The first interval would be over now; the grown one is not.
	waitInterval(last)
	wantPollError(t, devIP, c.DeviceCode, "slow_down")
	// Slowing down changes nothing else: the code still works.
	browser, _ := signInAs(t, "alice", "Laptop/1.0")
	if code, _ := devicePage(t, browser, ipFor(2), c.UserCode); code != http.StatusOK {
		t.Fatalf("the code of a device told to slow down: %d", code)
	}
}

// Codes expire after lifetime: the device is told expired_token, and the
// person that the code is not valid.
func TestDeviceLoginExpired(t *testing.T) {
	loadDevice(t, "redis", "2s", "")
	devIP, userIP := ipFor(1), ipFor(2)
	browser, _ := signInAs(t, "alice", "Laptop/1.0")
	c := requestCodes(t, devIP, "slow-cli")
	if c.ExpiresIn != 2 {
		t.Fatalf("expires_in %d, want 2", c.ExpiresIn)
	}
	csrf := sessionsCSRF(t, browser) // now: what follows the expiry must fit in the record's remaining life
	testsupport.WaitFor(t, 10*time.Second, "the device code never expired", func() bool {
		st, m, _ := poll(t, devIP, c.DeviceCode)
		switch {
		case st == http.StatusBadRequest && m["error"] == "expired_token":
			return true
		case st != http.StatusBadRequest || m["error"] != "authorization_pending" && m["error"] != "slow_down":
			t.Fatalf("poll before the code expired: %d %v", st, m)
		}
		return false
	})
	if code, page := devicePage(t, browser, userIP, c.UserCode); code != http.StatusNotFound || !strings.Contains(page, "has expired") {
		t.Errorf("the expired code looked up: %d %s", code, page)
	}
	if code := status(t, decide(t, browser, userIP, c.UserCode, "approve", csrf, nil)); code != http.StatusNotFound {
		t.Errorf("approving the expired code: %d, want 404", code)
	}
	wantPollError(t, devIP, c.DeviceCode, "expired_token")
	if l := listSessions(t, browser); len(l) != 1 {
		t.Errorf("an expired device has a session: %+v", l)
	}
}

// Guessing user codes is limited: after 5 wrong codes in 10 minutes a
// person, and an address, get 429 whatever they enter — the right code
// included; other people at other addresses are not held back, and what
// is not a code at all is refused without counting.
func TestDeviceLoginGuessesLimited(t *testing.T) {
	loadDevice(t, "redis", "", "")
	devIP, ipA, ipB, ipC := ipFor(1), ipFor(2), ipFor(3), ipFor(4)
	c := requestCodes(t, devIP, "target")
	alice, _ := signInAs(t, "alice", "A/1.0")
	bob, _ := signInAs(t, "bob", "B/1.0")
	carol, _ := signInAs(t, "carol", "C/1.0")

	for i := range 8 {
		if code, page := devicePage(t, carol, ipC, "NOT-A-CODE"); code != http.StatusBadRequest || !strings.Contains(page, "invalid_user_code") {
			t.Fatalf("malformed code %d: %d %s", i, code, page)
		}
	}
	csrf := sessionsCSRF(t, alice)
	for i := range devicelogin.MaxWrongCodes {
		wrong := devicelogin.FormatUserCode(devicelogin.NewUserCode())
		var code int
		var body string
		if i%2 == 0 {
			code, body = devicePage(t, alice, ipA, wrong)
		} else {
			resp := decide(t, alice, ipA, wrong, "approve", csrf, nil)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			code, body = resp.StatusCode, string(b)
		}
		if code != http.StatusNotFound || !strings.Contains(body, "unknown_user_code") {
			t.Fatalf("wrong code %d: %d %s", i+1, code, body)
		}
	}
	limited := func(what, tok, ip string) {
		t.Helper()
		resp := request(t, "GET", "/.gatehouse/device?user_code="+c.UserCode, tok, from(ip, map[string]string{"Accept": "application/json"}), "")
		if m := answer(t, resp); resp.StatusCode != http.StatusTooManyRequests || m["error"] != "too_many_attempts" || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s: %d %v, want 429 too_many_attempts with Retry-After", what, resp.StatusCode, m)
		}
	}
	limited("the right code after 5 wrong ones", alice, ipA)
	if code := status(t, decide(t, alice, ipA, c.UserCode, "approve", csrf, nil)); code != http.StatusTooManyRequests {
		t.Errorf("approving after 5 wrong codes: %d, want 429", code)
	}
	limited("another person at the same address", bob, ipA)
	limited("the same person at another address", alice, ipB)
	// Nothing happened to the device's request; carol, elsewhere, sees it.
	wantPollError(t, devIP, c.DeviceCode, "authorization_pending")
	if code, page := devicePage(t, carol, ipC, c.UserCode); code != http.StatusOK || !strings.Contains(page, "target") {
		t.Fatalf("another person at another address: %d %s", code, page)
	}
}

// The decision is held to the sign-out form's checks: from another site,
// or without the page's CSRF token, it is refused and the request stays
// pending; a bearer-token client needs no token.
func TestDeviceLoginForgedApproval(t *testing.T) {
	loadDevice(t, "", "", "")
	devIP, userIP := ipFor(1), ipFor(2)
	c := requestCodes(t, devIP, "victim-target")
	alice, _ := signInAs(t, "alice", "A/1.0")
	other, _ := signInAs(t, "alice", "A2/1.0")
	csrf := pageCSRF(t, alice, userIP, c.UserCode)
	for _, r := range []struct {
		what, csrf, code string
		hdr              map[string]string
	}{
		{"cross-origin Origin", csrf, "cross_origin", map[string]string{"Origin": "https://evil.example"}},
		{"Origin null", csrf, "cross_origin", map[string]string{"Origin": "null"}},
		{"cross-site fetch", csrf, "cross_origin", map[string]string{"Origin": "", "Sec-Fetch-Site": "cross-site"}},
		{"no CSRF token", "", "invalid_csrf", nil},
		{"a wrong CSRF token", "wrong", "invalid_csrf", nil},
		{"another session's CSRF token", sessionsCSRF(t, other), "invalid_csrf", nil},
	} {
		hdr := map[string]string{"Accept": "application/json"}
		for k, v := range r.hdr {
			hdr[k] = v
		}
		resp := decide(t, alice, userIP, c.UserCode, "approve", r.csrf, hdr)
		if m := answer(t, resp); resp.StatusCode != http.StatusForbidden || m["error"] != r.code {
			t.Errorf("%s: %d %v, want 403 %s", r.what, resp.StatusCode, m, r.code)
		}
	}
	if code := status(t, decide(t, alice, userIP, c.UserCode, "maybe", csrf, nil)); code != http.StatusBadRequest {
		t.Errorf("action maybe: %d, want 400", code)
	}
	// A GET never decides.
	resp := request(t, "GET", "/.gatehouse/device?user_code="+c.UserCode+"&action=approve&csrf="+url.QueryEscape(csrf), alice,
		from(userIP, map[string]string{"Accept": "text/html"}), "")
	status(t, resp)
	wantPollError(t, devIP, c.DeviceCode, "authorization_pending")
	if l := listSessions(t, alice); len(l) != 2 {
		t.Fatalf("a refused approval made a session: %+v", l)
	}
	// A session sent as a bearer token (a device's own, say) cannot sign
	// in another device: one session must not beget others unseen.
	resp = decide(t, "", userIP, c.UserCode, "approve", "", map[string]string{"Authorization": "Bearer " + alice, "Accept": "application/json"})
	if m := answer(t, resp); resp.StatusCode != http.StatusForbidden || m["error"] != "browser_required" {
		t.Fatalf("bearer approval: %d %v, want 403 browser_required", resp.StatusCode, m)
	}
	// Still pending: the person decides in the browser.
	resp = decide(t, alice, userIP, c.UserCode, "approve", csrf, map[string]string{"Accept": "application/json"})
	if m := answer(t, resp); resp.StatusCode != http.StatusOK || m["approved"] != true {
		t.Fatalf("approval from the browser: %d %v", resp.StatusCode, m)
	}
	var approver, device listedSession
	for _, l := range listSessions(t, alice) {
		switch {
		case l.Current:
			approver = l
		case strings.HasPrefix(l.UserAgent, "device: "):
			device = l
		}
	}
	if device.ID == "" || approver.ID == "" {
		t.Fatalf("no device session beside the approving one: %+v %+v", approver, device)
	}
}

// Without a session the page sends the browser to sign in and back, code
// included; an API client gets 401 with the login URL.
func TestDeviceLoginSignsInFirst(t *testing.T) {
	loadDevice(t, "", "", "")
	c := requestCodes(t, ipFor(1), "fresh-cli")
	if err := idp.Provider.SetAutoLogin(fresh("dana")); err != nil {
		t.Fatal(err)
	}
	b := browsertest.NewBrowser(t)
	resp, loc := b.Hop(c.VerificationURIComplete)
	want := "/.gatehouse/login?rd=" + url.QueryEscape("/.gatehouse/device?user_code="+c.UserCode)
	if resp.StatusCode != http.StatusFound || loc == nil || loc.RequestURI() != want {
		t.Fatalf("the code's page without a session: %d to %v, want %s", resp.StatusCode, loc, want)
	}
	resp, visited := b.Follow(c.VerificationURIComplete)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Sign in a device?") || !strings.Contains(string(body), "fresh-cli") ||
		!strings.Contains(string(body), fresh("dana")) {
		t.Fatalf("after signing in: %d via %v: %s", resp.StatusCode, visited, body)
	}
	resp = request(t, "GET", "/.gatehouse/device?user_code="+c.UserCode, "", map[string]string{"Accept": "application/json"}, "")
	if m := answer(t, resp); resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(fmt.Sprint(m["login_url"]), "/.gatehouse/login?rd=") {
		t.Errorf("API client without a session: %d %v", resp.StatusCode, m)
	}
	// Without a session nothing can be decided either.
	if code := status(t, decide(t, "", ipFor(2), c.UserCode, "approve", "x", nil)); code != http.StatusUnauthorized {
		t.Errorf("deciding without a session: %d, want 401", code)
	}
	wantPollError(t, ipFor(1), c.DeviceCode, "authorization_pending")
}

// What the device sends wrong gets the RFC's error, and nothing changes;
// without device_login the endpoints are not there.
func TestDeviceLoginBadRequests(t *testing.T) {
	loadDevice(t, "", "", "")
	devIP := ipFor(1)
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for _, r := range []struct{ what, path, body, code string }{
		{"a name too long", "/device/code", "client_name=" + strings.Repeat("x", 65), "invalid_request"},
		{"a name with a newline", "/device/code", "client_name=a%0Ab", "invalid_request"},
		{"a name that is not UTF-8", "/device/code", "client_name=%FF", "invalid_request"},
		{"an oversized form", "/device/code", "client_name=x&pad=" + strings.Repeat("x", 9<<10), "invalid_request"},
		{"no grant_type", "/device/token", "device_code=x", "invalid_request"},
		{"another grant_type", "/device/token", "grant_type=authorization_code&device_code=x", "unsupported_grant_type"},
		{"no device_code", "/device/token", "grant_type=" + url.QueryEscape(devicelogin.GrantType), "invalid_request"},
		{"an unknown device_code", "/device/token", "grant_type=" + url.QueryEscape(devicelogin.GrantType) + "&device_code=" + strings.Repeat("A", 43), "invalid_grant"},
		{"a huge device_code", "/device/token", "grant_type=" + url.QueryEscape(devicelogin.GrantType) + "&device_code=" + strings.Repeat("A", 4000), "invalid_grant"},
	} {
		resp := request(t, "POST", "/.gatehouse"+r.path, "", from(devIP, form), r.body)
		if m := answer(t, resp); resp.StatusCode != http.StatusBadRequest || m["error"] != r.code {
			t.Errorf("%s: %d %v, want 400 %s", r.what, resp.StatusCode, m, r.code)
		}
	}
	for _, p := range []string{"/device/code", "/device/token"} {
		resp := request(t, "GET", "/.gatehouse"+p, "", nil, "")
		if code := status(t, resp); code != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
			t.Errorf("GET %s: %d Allow %q", p, code, resp.Header.Get("Allow"))
		}
	}

	load(t, config{})
	for _, p := range []string{"/device/code", "/device/token", "/device"} {
		if code := status(t, request(t, "POST", "/.gatehouse"+p, "", form, "")); code != http.StatusNotFound {
			t.Errorf("POST %s without device_login: %d, want 404", p, code)
		}
	}
}

// A device's session comes from the approving session's sign-in at the
// provider: when the provider ends that sign-in (back-channel logout of
// its sid), the device's session ends with it; a session of another
// sign-in of the same person stays.
func TestDeviceSessionEndsWithTheProviderSession(t *testing.T) {
	loadDevice(t, "redis", "", "")
	devIP, userIP := ipFor(1), ipFor(2)
	laptop, _ := signInAs(t, "alice", "Laptop/1.0")
	sessions := idp.Provider.Sessions()
	sid := sessions[len(sessions)-1].ID
	phone, _ := signInAs(t, "alice", "Phone/1.0")
	c := requestCodes(t, devIP, "ci-box")
	approve(t, laptop, userIP, c.UserCode, "approve")
	if l := listSessions(t, phone); len(l) != 3 {
		t.Fatalf("%d sessions listed, want the laptop, the phone and the device", len(l))
	}
	code, body, _ := sendLogout(t, url.Values{"logout_token": {signLogout(t, idp.Provider.LogoutTokenClaims(clientID, sid, ""), devidp.TypLogoutJWT)}})
	if code != http.StatusOK {
		t.Fatalf("back-channel logout: %d %v", code, body)
	}
	l := listSessions(t, phone)
	if len(l) != 1 || l[0].UserAgent != "Phone/1.0" {
		t.Fatalf("after the provider ended the laptop's sign-in: %+v, want the phone's session alone", l)
	}
}

// Anyone may ask for device codes, and each request stores records: it is
// admitted by the flow limits like a sign-in. Past a client's burst its
// next request gets 429 with Retry-After, and another client is not
// held back by it.
func TestDeviceCodesLimited(t *testing.T) {
	loadDevice(t, "", "", "")
	flooder := ipFor(7)
	for range gate.FlowBurst {
		requestCodes(t, flooder, "")
	}
	resp := request(t, "POST", "/.gatehouse/device/code", "", from(flooder, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}), "")
	if m := answer(t, resp); resp.StatusCode != http.StatusTooManyRequests || m["error"] != "too_many_logins" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("device code %d from one client: %d %v (Retry-After %q)", gate.FlowBurst+1, resp.StatusCode, m, resp.Header.Get("Retry-After"))
	}
	requestCodes(t, ipFor(8), "other") // another client is still served
}
