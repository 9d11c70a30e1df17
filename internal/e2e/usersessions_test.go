package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/devidp"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
)

// A person's own sessions: GET /.gatehouse/sessions, POST
// /.gatehouse/sessions/{id}/end and /.gatehouse/sessions/end-others, and
// "Sign out everywhere" (POST /.gatehouse/logout with everywhere=1).

// listedSession is one session as GET /.gatehouse/sessions lists it.
type listedSession struct {
	ID         string `json:"id"`
	CreatedAt  string `json:"created_at"`
	LastSeenAt string `json:"last_seen_at"`
	IP         string `json:"ip"`
	UserAgent  string `json:"user_agent"`
	Provider   string `json:"provider"`
	Current    bool   `json:"current"`
}

// agentTransport sends every request with its User-Agent.
type agentTransport struct {
	agent string
	next  http.RoundTripper
}

func (a agentTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", a.agent)
	return a.next.RoundTrip(r)
}

// fresh is the name of a user of the current config's own: user,
// followed by the config's number (configSeq), so that no session of an
// earlier test is the user's.
func fresh(user string) string { return fmt.Sprintf("%s-%d", user, configSeq.Load()) }

// signInAs signs a new browser with User-Agent agent in as fresh(user)
// and returns its session token and what the upstream got.
func signInAs(t *testing.T, user, agent string) (string, testsupport.Echo) {
	t.Helper()
	if err := idp.Provider.SetAutoLogin(fresh(user)); err != nil {
		t.Fatal(err)
	}
	b := browsertest.NewBrowser(t)
	b.Transport = agentTransport{agent, b.Transport}
	echo, tok := login(t, b, "/")
	return tok, echo
}

// listSessions returns the sessions GET /.gatehouse/sessions lists for
// tok, each checked to have exactly the documented keys.
func listSessions(t *testing.T, tok string) []listedSession {
	t.Helper()
	resp := request(t, "GET", "/.gatehouse/sessions", tok, map[string]string{"Accept": "application/json"}, "")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /sessions: %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var raw struct {
		Sessions []map[string]any `json:"sessions"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("GET /sessions: %v: %s", err, body)
	}
	want := []string{"created_at", "current", "id", "ip", "last_seen_at", "provider", "user_agent"}
	for _, s := range raw.Sessions {
		var keys []string
		for k := range s {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, want) {
			t.Fatalf("a listed session has keys %v, want %v", keys, want)
		}
	}
	var out struct {
		Sessions []listedSession `json:"sessions"`
	}
	_ = json.Unmarshal(body, &out)
	return out.Sessions
}

// currentID returns the id the sessions list gives tok's own session.
func currentID(t *testing.T, tok string) string {
	t.Helper()
	for _, s := range listSessions(t, tok) {
		if s.Current {
			return s.ID
		}
	}
	t.Fatal("no session of the list is the current one")
	return ""
}

// sessionsCSRF returns the CSRF token of tok's session, which the
// sessions page's forms and the sign-out page's carry alike (from the
// latter, which has a form even when the session is the user's only one).
func sessionsCSRF(t *testing.T, tok string) string {
	t.Helper()
	resp := request(t, "GET", "/.gatehouse/logout", tok, map[string]string{"Accept": "text/html"}, "")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := between(string(body), `name="csrf" value="`, `"`)
	if resp.StatusCode != http.StatusOK || csrf == "" {
		t.Fatalf("sign-out page: %d %s", resp.StatusCode, body)
	}
	return csrf
}

// formPost is what the sessions page's forms send, from the site itself.
func formPost() map[string]string {
	return map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html", "Origin": site}
}

// alive reports whether tok's session still works on the site: true for
// 200, false for 401, a failure for anything else.
func alive(t *testing.T, tok string) bool {
	t.Helper()
	switch code := status(t, request(t, "GET", "/", tok, map[string]string{"Accept": "application/json"}, "")); code {
	case http.StatusOK:
		return true
	case http.StatusUnauthorized:
		return false
	default:
		t.Fatalf("request with a session: %d", code)
		return false
	}
}

// answer reads resp's JSON body and closes it.
func answer(t *testing.T, resp *http.Response) map[string]any {
	t.Helper()
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("%d answer is not JSON: %s", resp.StatusCode, body)
	}
	return m
}

// The list names each of the user's sessions — and only theirs — by an
// id that is neither a token nor a store key, flags the current one, and
// shows the IP and User-Agent of the login; browsers get a page, API and
// bearer clients JSON, and a request without a session is answered as
// anywhere a session is needed.
func TestSessionsList(t *testing.T) {
	both(t, "", func(t *testing.T) {
		before := time.Now().Add(-time.Second)
		laptop, _ := signInAs(t, "alice", "Laptop-Browser/1.0")
		phone, _ := signInAs(t, "alice", "Phone-Browser/2.0 (Mobile)")
		bob, _ := signInAs(t, "bob", "Bob-Browser/3.0")

		list := listSessions(t, phone)
		if len(list) != 2 {
			t.Fatalf("alice has %d sessions listed, want 2: %+v", len(list), list)
		}
		agents := map[string]bool{}
		var current []string
		for _, s := range list {
			for _, tok := range []string{laptop, phone} {
				if len(s.ID) != 22 || strings.Contains(tok, s.ID) || strings.Contains(sessionKey(t, tok), s.ID) {
					t.Errorf("session id %q gives away a token or a store key", s.ID)
				}
			}
			if s.IP != "127.0.0.1" || s.Provider != "corp" {
				t.Errorf("session %s: ip %q provider %q, want 127.0.0.1 and corp", s.ID, s.IP, s.Provider)
			}
			for name, v := range map[string]string{"created_at": s.CreatedAt, "last_seen_at": s.LastSeenAt} {
				at, err := time.Parse(time.RFC3339, v)
				if err != nil || at.Before(before.Truncate(time.Second)) || at.After(time.Now().Add(time.Second)) {
					t.Errorf("session %s: %s %q is not an RFC 3339 time of the login (%v)", s.ID, name, v, err)
				}
			}
			agents[s.UserAgent] = true
			if s.Current {
				current = append(current, s.UserAgent)
			}
		}
		if !agents["Laptop-Browser/1.0"] || !agents["Phone-Browser/2.0 (Mobile)"] {
			t.Errorf("user agents listed %v, want those of the two logins", agents)
		}
		if len(current) != 1 || current[0] != "Phone-Browser/2.0 (Mobile)" {
			t.Errorf("current sessions %v, want the phone's only", current)
		}
		phoneID := currentID(t, phone)

		// Bob sees his session only; a bearer client is told which is its own.
		bobList := listSessions(t, bob)
		if len(bobList) != 1 || !bobList[0].Current || bobList[0].UserAgent != "Bob-Browser/3.0" {
			t.Errorf("bob's sessions: %+v", bobList)
		}
		resp := request(t, "GET", "/.gatehouse/sessions", "", map[string]string{"Authorization": "Bearer " + laptop}, "")
		var viaBearer struct{ Sessions []listedSession }
		_ = json.NewDecoder(resp.Body).Decode(&viaBearer)
		resp.Body.Close()
		if len(viaBearer.Sessions) != 2 {
			t.Fatalf("bearer list: %d %+v", resp.StatusCode, viaBearer)
		}
		for _, s := range viaBearer.Sessions {
			if s.Current != (s.UserAgent == "Laptop-Browser/1.0") {
				t.Errorf("bearer list flags %+v", s)
			}
		}
		// A bearer client gets JSON even when it accepts HTML.
		resp = request(t, "GET", "/.gatehouse/sessions", "", map[string]string{"Authorization": "Bearer " + laptop, "Accept": "text/html"}, "")
		if code := status(t, resp); code != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("bearer client accepting HTML: %d %s", code, resp.Header.Get("Content-Type"))
		}

		// A browser gets the page: each session, this one marked, the
		// others with a form that ends them, all with the CSRF token.
		resp = request(t, "GET", "/.gatehouse/sessions", laptop, map[string]string{"Accept": "text/html"}, "")
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := string(body)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(resp.Header.Get("Content-Security-Policy"), "form-action 'self'") {
			t.Fatalf("sessions page: %d %v", resp.StatusCode, resp.Header)
		}
		for _, want := range []string{"<title>Your sessions</title>", "signed in as <strong>" + fresh("alice") + "</strong>", "Laptop-Browser/1.0",
			"Phone-Browser/2.0 (Mobile)", "this browser", `action="/.gatehouse/sessions/` + phoneID + `/end"`,
			`action="/.gatehouse/sessions/end-others"`, `name="csrf" value="`, `href="/.gatehouse/logout"`} {
			if !strings.Contains(page, want) {
				t.Errorf("sessions page lacks %q:\n%s", want, page)
			}
		}
		if strings.Contains(page, laptop) || strings.Contains(page, phone) || strings.Contains(page, "Bob-Browser") {
			t.Errorf("sessions page shows a token or another user's session:\n%s", page)
		}

		// Without a session: as any endpoint that needs one.
		resp = request(t, "GET", "/.gatehouse/sessions", "", map[string]string{"Accept": "application/json"}, "")
		if m := answer(t, resp); resp.StatusCode != http.StatusUnauthorized || m["login_url"] != "/.gatehouse/login?rd=%2F.gatehouse%2Fsessions" {
			t.Errorf("API client without a session: %d %v", resp.StatusCode, m)
		}
		resp = request(t, "GET", "/.gatehouse/sessions", "", map[string]string{"Accept": "text/html"}, "")
		if code := status(t, resp); code != http.StatusFound || resp.Header.Get("Location") != "/.gatehouse/login?rd=%2F.gatehouse%2Fsessions" {
			t.Errorf("browser without a session: %d to %q", code, resp.Header.Get("Location"))
		}
		if code := status(t, request(t, "DELETE", "/.gatehouse/sessions", laptop, nil, "")); code != http.StatusMethodNotAllowed {
			t.Errorf("DELETE /sessions: %d, want 405", code)
		}
	})
}

// Ending sessions is held to the sign-out form's checks: a request from
// another site, or without the page's CSRF token, is refused with 403 and
// ends nothing; a bearer-token client needs no CSRF token.
func TestSessionsEndRefusesForgedRequests(t *testing.T) {
	both(t, "", func(t *testing.T) {
		victim, _ := signInAs(t, "alice", "Victim/1.0")
		mine, _ := signInAs(t, "alice", "Mine/1.0")
		victimID := currentID(t, victim)
		csrf := sessionsCSRF(t, mine)
		end := "/.gatehouse/sessions/" + victimID + "/end"
		others := "/.gatehouse/sessions/end-others"

		refused := []struct {
			what, path, code string
			hdr              map[string]string
			body             string
		}{
			{"cross-origin Origin", end, "cross_origin", map[string]string{"Origin": "https://evil.example"}, "csrf=" + url.QueryEscape(csrf)},
			{"Origin null", end, "cross_origin", map[string]string{"Origin": "null"}, "csrf=" + url.QueryEscape(csrf)},
			{"cross-site Sec-Fetch-Site", end, "cross_origin", map[string]string{"Origin": "", "Sec-Fetch-Site": "cross-site"}, "csrf=" + url.QueryEscape(csrf)},
			{"cross-origin end-others", others, "cross_origin", map[string]string{"Origin": "https://evil.example"}, "csrf=" + url.QueryEscape(csrf)},
			{"no CSRF token", end, "invalid_csrf", nil, ""},
			{"a wrong CSRF token", end, "invalid_csrf", nil, "csrf=wrong"},
			{"the other session's CSRF token", end, "invalid_csrf", nil, "csrf=" + url.QueryEscape(sessionsCSRF(t, victim))},
			{"end-others without CSRF token", others, "invalid_csrf", nil, ""},
		}
		for _, c := range refused {
			hdr := formPost()
			hdr["Accept"] = "application/json"
			for k, v := range c.hdr {
				hdr[k] = v
			}
			if hdr["Origin"] == "" {
				delete(hdr, "Origin")
			}
			resp := request(t, "POST", c.path, mine, hdr, c.body)
			if m := answer(t, resp); resp.StatusCode != http.StatusForbidden || m["error"] != c.code {
				t.Errorf("%s: %d %v, want 403 %s", c.what, resp.StatusCode, m, c.code)
			}
			if !alive(t, victim) || !alive(t, mine) {
				t.Fatalf("%s: a refused request ended a session", c.what)
			}
		}
		// A browser is shown the refusal as a page.
		resp := request(t, "POST", end, mine, formPost(), "csrf=wrong")
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "invalid_csrf") {
			t.Errorf("browser with a wrong CSRF token: %d %s", resp.StatusCode, body)
		}
		// Without a session at all: 401, as anywhere.
		if code := status(t, request(t, "POST", end, "", formPost(), "csrf=x")); code != http.StatusUnauthorized {
			t.Errorf("POST without a session: %d, want 401", code)
		}
		// Only POST ends a session; unknown paths are not found.
		resp = request(t, "GET", end, mine, map[string]string{"Accept": "application/json"}, "")
		if code := status(t, resp); code != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
			t.Errorf("GET %s: %d Allow %q", end, code, resp.Header.Get("Allow"))
		}
		for _, p := range []string{"/.gatehouse/sessions/", "/.gatehouse/sessions/" + victimID, "/.gatehouse/sessions/" + victimID + "/end/x", "/.gatehouse/sessions/end-all"} {
			if code := status(t, request(t, "POST", p, mine, formPost(), "csrf="+url.QueryEscape(csrf))); code != http.StatusNotFound {
				t.Errorf("POST %s: %d, want 404", p, code)
			}
		}
		if !alive(t, victim) {
			t.Fatal("a refused request ended the session")
		}

		// A bearer client needs no CSRF token (a browser never sends one).
		resp = request(t, "POST", end, "", map[string]string{"Authorization": "Bearer " + mine}, "")
		if m := answer(t, resp); resp.StatusCode != 200 || m["ended"] != float64(1) {
			t.Fatalf("bearer end: %d %v", resp.StatusCode, m)
		}
		if alive(t, victim) {
			t.Fatal("the ended session still works")
		}
		if !alive(t, mine) {
			t.Fatal("ending another session ended the caller's")
		}
	})
}

// An id that is not one of the user's sessions — another user's, an
// unknown or a malformed one — is not found, and nothing ends.
func TestSessionsEndOnlyYourOwn(t *testing.T) {
	both(t, "", func(t *testing.T) {
		alice, _ := signInAs(t, "alice", "Alice/1.0")
		bob, _ := signInAs(t, "bob", "Bob/1.0")
		aliceID, bobID := currentID(t, alice), currentID(t, bob)
		csrf := sessionsCSRF(t, alice)
		flip := []byte(bobID)
		flip[len(flip)-1] ^= 1
		hdr := formPost()
		hdr["Accept"] = "application/json"
		for _, id := range []string{bobID, string(flip), strings.Repeat("A", 22), "x", strings.Repeat("A", 300), aliceID + "A", url.PathEscape(bobID + "\x00"), "%2e%2e"} {
			resp := request(t, "POST", "/.gatehouse/sessions/"+id+"/end", alice, hdr, "csrf="+url.QueryEscape(csrf))
			m := answer(t, resp)
			if resp.StatusCode != http.StatusNotFound || m["error"] != "no_such_session" && !(id == "%2e%2e" && m["error"] == "not_found") {
				t.Errorf("ending id %.30q: %d %v, want 404 no_such_session", id, resp.StatusCode, m)
			}
		}
		// The browser is shown a page saying so.
		resp := request(t, "POST", "/.gatehouse/sessions/"+bobID+"/end", alice, formPost(), "csrf="+url.QueryEscape(csrf))
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "No such session") {
			t.Errorf("browser ending bob's session: %d %s", resp.StatusCode, body)
		}
		if !alive(t, bob) || !alive(t, alice) {
			t.Fatal("a refused id ended a session")
		}
		if l := listSessions(t, bob); len(l) != 1 || l[0].ID != bobID {
			t.Fatalf("bob's sessions after alice's attempts: %+v", l)
		}
		// Ending "the others" of a user with one session ends nothing of
		// anyone else's.
		resp = request(t, "POST", "/.gatehouse/sessions/end-others", "", map[string]string{"Authorization": "Bearer " + alice}, "")
		if m := answer(t, resp); resp.StatusCode != 200 || m["ended"] != float64(0) {
			t.Errorf("end-others with one session: %d %v", resp.StatusCode, m)
		}
		if !alive(t, bob) || !alive(t, alice) {
			t.Fatal("end-others ended another user's session or the current one")
		}
	})
}

// Ending the others keeps the current session; ending the current one
// signs the browser out (its cookie cleared, on to the signed-out page).
// The ended sessions' tokens are revoked at the provider, the kept one's
// are not.
func TestSessionsEndOthersAndCurrent(t *testing.T) {
	both(t, "pass_access_token", func(t *testing.T) {
		one, e1 := signInAs(t, "alice", "One/1.0")
		two, e2 := signInAs(t, "alice", "Two/1.0")
		mine, e3 := signInAs(t, "alice", "Mine/1.0")
		bob, e4 := signInAs(t, "bob", "Bob/1.0")
		at := func(e testsupport.Echo) string {
			v := http.Header(e.Headers).Get("X-Auth-Access-Token")
			if v == "" {
				t.Fatal("no access token reached the upstream")
			}
			return v
		}
		atOne, atTwo, atMine, atBob := at(e1), at(e2), at(e3), at(e4)

		resp := request(t, "POST", "/.gatehouse/sessions/end-others", mine, formPost(), "csrf="+url.QueryEscape(sessionsCSRF(t, mine)))
		if code := status(t, resp); code != http.StatusSeeOther || resp.Header.Get("Location") != "/.gatehouse/sessions" {
			t.Fatalf("end-others: %d to %q, want 303 to the sessions page", code, resp.Header.Get("Location"))
		}
		if alive(t, one) || alive(t, two) {
			t.Fatal("end-others left another session")
		}
		if !alive(t, mine) || !alive(t, bob) {
			t.Fatal("end-others ended the current session or bob's")
		}
		if l := listSessions(t, mine); len(l) != 1 || !l[0].Current {
			t.Fatalf("after end-others: %+v", l)
		}
		testsupport.WaitFor(t, 5*time.Second, "the ended sessions' access tokens still work at the provider", func() bool {
			return idpUserinfo(t, atOne) == http.StatusUnauthorized && idpUserinfo(t, atTwo) == http.StatusUnauthorized
		})
		if idpUserinfo(t, atMine) != 200 || idpUserinfo(t, atBob) != 200 {
			t.Fatal("a kept session's access token was revoked")
		}

		// Ending the current session from the page signs this browser out.
		resp = request(t, "POST", "/.gatehouse/sessions/"+currentID(t, mine)+"/end", mine, formPost(), "csrf="+url.QueryEscape(sessionsCSRF(t, mine)))
		if code := status(t, resp); code != http.StatusSeeOther || resp.Header.Get("Location") != "/.gatehouse/logout" {
			t.Fatalf("ending the current session: %d to %q, want 303 to the signed-out page", code, resp.Header.Get("Location"))
		}
		if !strings.Contains(strings.Join(resp.Header["Set-Cookie"], ";"), cookieName+"=;") {
			t.Errorf("ending the current session did not clear the cookie: %v", resp.Header["Set-Cookie"])
		}
		if alive(t, mine) {
			t.Fatal("the current session still works after it was ended")
		}
		testsupport.WaitFor(t, 5*time.Second, "the ended current session's access token still works at the provider",
			func() bool { return idpUserinfo(t, atMine) == http.StatusUnauthorized })
		if !alive(t, bob) || idpUserinfo(t, atBob) != 200 {
			t.Fatal("bob's session or token ended with alice's")
		}
	})
}

// idpUserinfo returns the development provider's answer to its userinfo
// endpoint with the access token at.
func idpUserinfo(t *testing.T, at string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, idp.Provider.Discovery()["userinfo_endpoint"].(string), nil)
	req.Header.Set("Authorization", "Bearer "+at)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return status(t, resp)
}

// "Sign out everywhere" on the sign-out page ends every session of the
// user — and no one else's — then signs this browser out as usual.
func TestLogoutEverywhere(t *testing.T) {
	both(t, "", func(t *testing.T) {
		a, _ := signInAs(t, "alice", "A/1.0")
		b, _ := signInAs(t, "alice", "B/1.0")
		bob, _ := signInAs(t, "bob", "Bob/1.0")
		if err := idp.Provider.SetAutoLogin(fresh("alice")); err != nil {
			t.Fatal(err)
		}
		br := browsertest.NewBrowser(t)
		_, c := login(t, br, "/")

		page := br.Get(site + "/.gatehouse/logout")
		body, _ := io.ReadAll(page.Body)
		page.Body.Close()
		for _, want := range []string{`name="everywhere" value="1"`, "Sign out everywhere", `href="/.gatehouse/sessions"`} {
			if !strings.Contains(string(body), want) {
				t.Errorf("sign-out page lacks %q:\n%s", want, body)
			}
		}
		csrf := between(string(body), `name="csrf" value="`, `"`)

		// Held to the sign-out form's checks like a plain sign-out.
		if code := status(t, request(t, "POST", "/.gatehouse/logout", c, formPost(), "everywhere=1&csrf=wrong")); code != http.StatusForbidden {
			t.Fatalf("everywhere with a wrong CSRF token: %d", code)
		}
		cross := formPost()
		cross["Origin"] = "https://evil.example"
		if code := status(t, request(t, "POST", "/.gatehouse/logout", c, cross, "everywhere=1&csrf="+url.QueryEscape(csrf))); code != http.StatusForbidden {
			t.Fatalf("cross-origin everywhere: %d", code)
		}
		if !alive(t, a) || !alive(t, b) || !alive(t, c) {
			t.Fatal("a refused sign-out ended a session")
		}

		revokes := idp.Provider.Requests(devidp.EndpointRevoke)
		resp := request(t, "POST", "/.gatehouse/logout", c, formPost(), "everywhere=1&csrf="+url.QueryEscape(csrf))
		// Every ended session's tokens are revoked at the provider, as at
		// sign-out (in the background), the current one's once.
		testsupport.WaitFor(t, 5*time.Second, "the three sessions' tokens revoked at the provider", func() bool {
			return idp.Provider.Requests(devidp.EndpointRevoke)-revokes >= 3
		})
		if n := idp.Provider.Requests(devidp.EndpointRevoke) - revokes; n != 3 {
			t.Errorf("%d revocations at the provider for 3 sessions", n)
		}
		if code := status(t, resp); code != http.StatusSeeOther || !strings.Contains(strings.Join(resp.Header["Set-Cookie"], ";"), cookieName+"=;") {
			t.Fatalf("sign out everywhere: %d %v", code, resp.Header)
		}
		// As a plain sign-out: on through the provider's end-session endpoint.
		if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, idp.URL+"/logout?") {
			t.Errorf("sign out everywhere went to %q, not the provider's end-session endpoint", loc)
		}
		for name, tok := range map[string]string{"a": a, "b": b, "c (this browser)": c} {
			if alive(t, tok) {
				t.Errorf("alice's session %s survived signing out everywhere", name)
			}
		}
		if !alive(t, bob) {
			t.Fatal("signing alice out everywhere ended bob's session")
		}

		// A bearer client: JSON, with how many sessions ended.
		d, _ := signInAs(t, "alice", "D/1.0")
		e, _ := signInAs(t, "alice", "E/1.0")
		resp = request(t, "POST", "/.gatehouse/logout", "", map[string]string{"Authorization": "Bearer " + d, "Content-Type": "application/x-www-form-urlencoded"}, "everywhere=1")
		if m := answer(t, resp); resp.StatusCode != 200 || m["signed_out"] != true || m["ended"] != float64(2) {
			t.Fatalf("bearer sign out everywhere: %d %v", resp.StatusCode, m)
		}
		if alive(t, d) || alive(t, e) || !alive(t, bob) {
			t.Fatal("bearer sign out everywhere: wrong sessions ended")
		}
		// A plain sign-out still ends only its own session.
		f, _ := signInAs(t, "alice", "F/1.0")
		g, _ := signInAs(t, "alice", "G/1.0")
		resp = request(t, "POST", "/.gatehouse/logout", "", map[string]string{"Authorization": "Bearer " + f}, "")
		if m := answer(t, resp); resp.StatusCode != 200 || m["signed_out"] != true || m["ended"] != nil {
			t.Fatalf("plain bearer sign-out: %d %v", resp.StatusCode, m)
		}
		if alive(t, f) || !alive(t, g) {
			t.Fatal("a plain sign-out ended another session, or not its own")
		}
	})
}

// Every way of ending sessions — one, the others, everywhere — is seen by
// every instance sharing the Redis within a second, though each had the
// session in its cache (kept 5 s).
func TestSessionsEndOnEveryInstance(t *testing.T) {
	portA, portB := startTwoInstances(t)
	ports := []int{portA, portB}
	works := func(tok string) {
		t.Helper()
		for _, p := range ports {
			if code := status(t, instanceRequest(t, p, tok)); code != 200 {
				t.Fatalf("session on the instance at %d: %d", p, code)
			}
		}
	}
	var lags []time.Duration
	refused := func(what string, since time.Time, toks ...string) {
		t.Helper()
		lags = append(lags, refusedEverywhere(t, what, since, ports, toks...))
	}

	x, _ := signInAs(t, "alice", "X/1.0")
	y, _ := signInAs(t, "alice", "Y/1.0")
	z, _ := signInAs(t, "alice", "Z/1.0")
	bob, _ := signInAs(t, "bob", "Bob/1.0")
	for _, tok := range []string{x, y, z, bob} {
		works(tok) // now in both instances' caches
	}

	// One session, ended on A.
	resp := instanceDo(t, portA, "POST", "/.gatehouse/sessions/"+currentID(t, x)+"/end", y, formPost(), "csrf="+url.QueryEscape(sessionsCSRF(t, y)))
	ended := time.Now()
	if code := status(t, resp); code != http.StatusSeeOther {
		t.Fatalf("end on A: %d", code)
	}
	refused("one session ended on A", ended, x)
	works(y)
	works(z)

	// The others, ended on B.
	works(y)
	resp = instanceDo(t, portB, "POST", "/.gatehouse/sessions/end-others", y, formPost(), "csrf="+url.QueryEscape(sessionsCSRF(t, y)))
	ended = time.Now()
	if code := status(t, resp); code != http.StatusSeeOther {
		t.Fatalf("end-others on B: %d", code)
	}
	refused("end-others on B", ended, z)
	works(y)

	// Everywhere, signed out on A.
	w, _ := signInAs(t, "alice", "W/1.0")
	works(w)
	works(y)
	hdr := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": site}
	resp = instanceDo(t, portA, "POST", "/.gatehouse/logout", w, hdr, "everywhere=1&csrf="+url.QueryEscape(sessionsCSRF(t, w)))
	ended = time.Now()
	if code := status(t, resp); code != http.StatusSeeOther {
		t.Fatalf("sign out everywhere on A: %d", code)
	}
	refused("signed out everywhere on A", ended, w, y)
	works(bob)
	t.Logf("ending a session, the others, and every session: refused on both instances within %v", lags)
}
