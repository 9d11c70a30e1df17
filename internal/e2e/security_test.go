package e2e

// The security test plan (docs/security-tests.md maps every case to its
// tests): the cases no other file covers in full, each through the real
// Caddy handler chain.

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-auth/gatehouse/internal/devidp"
	"github.com/gatehouse-auth/gatehouse/internal/keys"
	"github.com/gatehouse-auth/gatehouse/internal/loginstate"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/fakegoogle"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/fakeoauth"
)

// serverRing is the key ring every test site derives from secret: the
// tests use it to read (and, to play an attacker who can write the store,
// forge) what Gatehouse keeps in Redis.
var serverRing = sync.OnceValue(func() *keys.Ring {
	r, err := keys.Derive(secret)
	if err != nil {
		panic(err)
	}
	return r
})

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// loginState returns the store key of the login a callback URL belongs to,
// and the record under it, opened with the server's key.
func loginState(t *testing.T, cb *url.URL) (string, loginstate.Pending) {
	t.Helper()
	key := "gatehouse:login:" + sha256Hex(cb.Query().Get("state"))
	raw, err := redisSrv.Client().Get(t.Context(), key).Bytes()
	if err != nil {
		t.Fatalf("login state %s: %v", key, err)
	}
	var p loginstate.Pending
	if err := serverRing().OpenJSON(raw, key, &p); err != nil {
		t.Fatalf("login state does not open with the server key: %v", err)
	}
	return key, p
}

// putLoginState seals p with the server key and writes it under key.
func putLoginState(t *testing.T, key string, p loginstate.Pending) {
	t.Helper()
	sealed, err := serverRing().SealJSON(p, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := redisSrv.Client().Set(t.Context(), key, sealed, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
}

// sessionKey is the Redis key Gatehouse should keep session tok under:
// the prefix and the hex SHA-256 of the token's random part.
func sessionKey(t *testing.T, tok string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) != 48 {
		t.Fatalf("session token %d bytes: %v", len(raw), err)
	}
	sum := sha256.Sum256(raw[:32])
	return "gatehouse:session:" + hex.EncodeToString(sum[:])
}

// redisDump returns every key in Redis with the plaintext of its value,
// whatever the type.
func redisDump(t *testing.T) map[string]string {
	t.Helper()
	ctx := t.Context()
	rdb := redisSrv.Client()
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range keys {
		var b strings.Builder
		typ, _ := rdb.Type(ctx, k).Result()
		switch typ {
		case "string":
			v, _ := rdb.Get(ctx, k).Result()
			b.WriteString(v)
		case "set":
			v, _ := rdb.SMembers(ctx, k).Result()
			b.WriteString(strings.Join(v, "\n"))
		case "hash":
			v, _ := rdb.HGetAll(ctx, k).Result()
			for f, x := range v {
				b.WriteString(f + "=" + x + "\n")
			}
		case "list":
			v, _ := rdb.LRange(ctx, k, 0, -1).Result()
			b.WriteString(strings.Join(v, "\n"))
		case "zset":
			v, _ := rdb.ZRange(ctx, k, 0, -1).Result()
			b.WriteString(strings.Join(v, "\n"))
		case "stream":
			v, _ := rdb.XRange(ctx, k, "-", "+").Result()
			for _, m := range v {
				for f, x := range m.Values {
					fmt.Fprintf(&b, "%s=%v\n", f, x)
				}
			}
		default:
			t.Fatalf("key %s has type %q, which the dump does not read", k, typ)
		}
		out[k] = b.String()
	}
	return out
}

// caseOneShapes are security.md row 1's named open-redirect payloads, in
// the spelling of this test site and of a configured redirect domain.
func caseOneShapes() []string {
	host := strings.TrimPrefix(site, "http://")
	return []string{
		"//evil.com", `/\evil.com`, "https:evil.com", "/%2F%2Fevil.com", "/%5Cevil.com", "/%09/evil.com",
		"https://app.example.com@evil.com", `https://evil.com\@app.example.com`, "https://app.example.com.evil.com",
		"javascript:alert(1)", "http://" + host + "@evil.com", `http://evil.com\@` + host, "http://" + host + ".evil.com/",
		"http://localhost.evil.com/", "///evil.com", "/\t/evil.com", "/ /evil.com", "\\\\evil.com", "http:/evil.com",
		"HTTPS://evil.com", "data:text/html,<script>alert(1)</script>", "https://evil.com%2F@app.example.com",
	}
}

// redirectCorpus is the open-redirect corpus of internal/redirect (its
// format: one payload a line, "#" comments, Go-quoted lines for payloads
// with white space or control bytes) plus caseOneShapes.
func redirectCorpus(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../redirect/testdata/openredirects.txt")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, `"`):
			p, err := strconv.Unquote(line)
			if err != nil {
				t.Fatalf("corpus line %q: %v", line, err)
			}
			out = append(out, p)
		default:
			out = append(out, line)
		}
	}
	if len(out) < 400 {
		t.Fatalf("the corpus holds %d payloads", len(out))
	}
	return append(out, caseOneShapes()...)
}

// offSite explains why a Location value could take a browser off this
// site (and off the configured redirect domain app.example.com), or
// returns "".
func offSite(loc string) string {
	if loc == "" {
		return "empty"
	}
	for i := 0; i < len(loc); i++ {
		if c := loc[i]; c <= ' ' || c == 0x7f || c == '\\' || c >= 0x80 {
			return fmt.Sprintf("raw byte %q, which browsers strip or reinterpret", c)
		}
	}
	if loc[0] == '/' {
		if len(loc) > 1 && loc[1] == '/' {
			return "scheme-relative"
		}
		return ""
	}
	u, err := url.Parse(loc)
	switch {
	case err != nil:
		return "unparsable"
	case u.User != nil:
		return "has userinfo"
	case u.Scheme+"://"+u.Host == site:
		return ""
	case (u.Scheme == "https" || u.Scheme == "http") && u.Hostname() == "app.example.com" && strings.HasPrefix(loc, u.Scheme+"://"+u.Host):
		return ""
	}
	return "another origin"
}

// logoutTarget posts the sign-out form without a session, with rd, and
// returns the target Gatehouse validated it to (the rd of the signed-out
// page it redirects to).
func logoutTarget(t *testing.T, rd string) string {
	t.Helper()
	resp := request(t, "POST", "/.gatehouse/logout", "", map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "Origin": site, "Accept": "text/html",
	}, url.Values{"rd": {rd}}.Encode())
	status(t, resp)
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || err != nil || loc.Path != "/.gatehouse/logout" {
		t.Fatalf("sign-out with rd=%q: %d Location %q", rd, resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query().Get("rd")
}

// Every payload of the open-redirect corpus (about 1,450, plus the named
// case-1 shapes) goes through the real handler as a sign-out target, and a
// sample of them through a whole login as the rd: each ends on this site,
// on the configured redirect domain, or at "/".
func TestRedirect_OpenRedirectCorpus(t *testing.T) {
	load(t, config{extra: "redirect_domains app.example.com"})
	payloads := redirectCorpus(t)
	// Safe targets are kept, so the check cannot pass by sending
	// everything to "/".
	for rd, want := range map[string]string{
		"/dashboard?tab=2#x": "/dashboard?tab=2#x", site + "/x": site + "/x", "https://app.example.com/x": "https://app.example.com/x",
	} {
		if got := logoutTarget(t, rd); got != want {
			t.Errorf("safe rd=%q became %q, want %q", rd, got, want)
		}
	}
	kept := 0
	for _, rd := range payloads {
		got := logoutTarget(t, rd)
		if why := offSite(got); why != "" {
			t.Errorf("rd=%q: sent to %q (%s)", rd, got, why)
		}
		if got != "/" {
			kept++
		}
	}
	t.Logf("%d payloads: %d kept on this site or app.example.com, %d sent to /", len(payloads), kept, len(payloads)-kept)

	// A sample (within the per-client login allowance) through the login
	// itself: the callback's redirect is the same validated target.
	step := len(payloads)/60 + 1
	for i := 0; i < len(payloads); i += step {
		rd := payloads[i]
		b := browsertest.NewBrowser(t)
		cb := startLogin(t, b, rd)
		got := finishLogin(t, b, cb, "login with rd="+strconv.Quote(rd)).Header.Get("Location")
		if why := offSite(got); why != "" {
			t.Errorf("login with rd=%q: sent to %q (%s)", rd, got, why)
		}
		if want := logoutTarget(t, rd); got != want {
			t.Errorf("login with rd=%q ends at %q, sign-out at %q: one validator should decide both", rd, got, want)
		}
	}
	if upstream.Hits() != 0 {
		t.Errorf("the redirect checks reached the upstream %d times", upstream.Hits())
	}
}

// The post-login target is kept in the login record in Redis. It is
// sealed with the server key (bound to its store key), so a record changed
// without the key is refused; and whatever the record says, the callback
// validates the target again, so even a record forged with the key cannot
// send the browser off the site.
func TestRedirect_RevalidatedAtCallback(t *testing.T) {
	load(t, config{store: "redis"})
	rdb := redisSrv.Client()
	t.Run("forged with the server key", func(t *testing.T) {
		for stored, want := range map[string]string{
			"/kept?x=1":                 "/kept?x=1", // the record is what the callback uses
			"//evil.com":                "/",
			`/\evil.com`:                "/",
			"https://evil.com/":         "/",
			"https:evil.com":            "/",
			"/%09/evil.com":             "/",
			"javascript:alert(1)":       "/",
			"http://localhost@evil.com": "/",
			"http://localhost.evil.com": "/",
			site + "@evil.com":          "/",
			" //evil.com":               "/",
		} {
			b := browsertest.NewBrowser(t)
			cb := startLogin(t, b, "/start")
			key, p := loginState(t, cb)
			if p.Redirect != "/start" {
				t.Fatalf("stored target %q, want /start", p.Redirect)
			}
			p.Redirect = stored
			putLoginState(t, key, p)
			resp := finishLogin(t, b, cb, "stored target "+strconv.Quote(stored))
			if got := resp.Header.Get("Location"); got != want {
				t.Errorf("stored target %q: sent to %q, want %q", stored, got, want)
			}
		}
	})
	t.Run("changed without the key", func(t *testing.T) {
		tamper := map[string]func(key string, sealed []byte){
			"flipped byte": func(key string, sealed []byte) {
				sealed[len(sealed)/2] ^= 1
				rdb.Set(t.Context(), key, sealed, time.Minute)
			},
			"plaintext record with an evil target": func(key string, _ []byte) {
				rdb.Set(t.Context(), key, `{"p":"corp","rd":"https://evil.com/","ru":"`+site+`/.gatehouse/callback/corp"}`, time.Minute)
			},
			"another login's record moved here": func(key string, _ []byte) {
				other := startLogin(t, browsertest.NewBrowser(t), "https://evil.com/")
				k2 := "gatehouse:login:" + sha256Hex(other.Query().Get("state"))
				v, err := rdb.Get(t.Context(), k2).Bytes()
				if err != nil {
					t.Fatal(err)
				}
				rdb.Set(t.Context(), key, v, time.Minute)
			},
		}
		for name, change := range tamper {
			b := browsertest.NewBrowser(t)
			cb := startLogin(t, b, "/start")
			key := "gatehouse:login:" + sha256Hex(cb.Query().Get("state"))
			sealed, err := rdb.Get(t.Context(), key).Bytes()
			if err != nil {
				t.Fatal(err)
			}
			change(key, sealed)
			resp := b.Get(cb.String())
			assertRefused(t, resp, http.StatusBadRequest)
			if loc := resp.Header.Get("Location"); loc != "" {
				t.Errorf("%s: refused callback redirects to %q", name, loc)
			}
		}
	})
	if upstream.Hits() != 0 {
		t.Errorf("the callbacks reached the upstream %d times", upstream.Hits())
	}
}

// The sign-out target (the form's rd, the confirmation page's rd, and the
// state the provider's end-session endpoint hands back) goes through the
// same validator as the login rd: a path on this site, this origin, or a
// host in redirect_domains (exactly, or below a ".example.com" entry).
func TestLogout_RedirectAllowlist(t *testing.T) {
	load(t, config{extra: "redirect_domains app.example.com .apps.example.com"})
	cases := map[string]string{
		"/after?x=1":                       "/after?x=1",
		site + "/after":                    site + "/after",
		"https://app.example.com/home":     "https://app.example.com/home",
		"https://team.apps.example.com/":   "https://team.apps.example.com/",
		"https://evil.com/":                "/",
		"https://app.example.com.evil.com": "/",
		"https://evil.com/app.example.com": "/",
		"https://app.example.com@evil.com": "/",
		"https://sub.app.example.com/":     "/", // an exact entry is not a suffix
		"https://apps.example.com/":        "/", // a suffix entry is not its own apex
		"https://example.com/":             "/",
		"//app.example.com/":               "/",
		"javascript:alert(1)":              "/",
		`/\evil.com`:                       "/",
	}
	hrefs := regexp.MustCompile(`href="([^"]*)"`)
	for rd, want := range cases {
		if got := logoutTarget(t, rd); got != want {
			t.Errorf("sign-out form rd=%q: %q, want %q", rd, got, want)
		}
		for _, q := range []string{"rd", "state"} {
			resp := request(t, "GET", "/.gatehouse/logout?"+q+"="+url.QueryEscape(rd), "", map[string]string{"Accept": "text/html"}, "")
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			links := hrefs.FindAllStringSubmatch(string(body), -1)
			if resp.StatusCode != 200 || len(links) == 0 {
				t.Fatalf("sign-out page: %d, %d links", resp.StatusCode, len(links))
			}
			for _, l := range links {
				if href := html.UnescapeString(l[1]); href != want && !strings.HasPrefix(href, "/.gatehouse/") {
					t.Errorf("sign-out page ?%s=%q links to %q, want %q", q, rd, href, want)
				}
			}
		}
	}
	// With a session, the target rides to the provider's end-session
	// endpoint in state, validated the same way.
	for rd, want := range map[string]string{"/after": "/after", "https://app.example.com/home": "https://app.example.com/home",
		"https://evil.com/": "/", "//evil.com": "/"} {
		b := browsertest.NewBrowser(t)
		login(t, b, "/")
		resp, _ := signOut(t, b, rd)
		loc, _ := resp.Location()
		if resp.StatusCode != http.StatusSeeOther || loc == nil || !strings.HasPrefix(loc.String(), idp.URL+"/logout?") {
			t.Fatalf("sign-out: %d %v", resp.StatusCode, loc)
		}
		if got := loc.Query().Get("state"); got != want {
			t.Errorf("end-session state for rd=%q: %q, want %q", rd, got, want)
		}
	}
}

// spoofNames are the header names a client must never be able to set
// upstream in this test's configuration: every default name, the renamed
// ones, and the access token's.
var spoofNames = []string{
	"X-Auth-User-Id", "X-Auth-User", "X-Auth-Email", "X-Auth-Name", "X-Auth-Avatar", "X-Auth-Provider",
	"X-Auth-Groups", "X-Auth-Repos", "X-Auth-Jwt", "X-Auth-Connections", "X-Auth-Access-Token",
	"X-Remote-User", "X-Remote-Email", "X-Auth-Future-Field",
}

// spellings returns the ways a client can spell name that an upstream
// (CGI, most frameworks) may fold into it.
func spellings(name string) []string {
	under := strings.ReplaceAll(name, "-", "_")
	mixed := strings.Replace(name, "-", "_", 1)
	return []string{name, strings.ToLower(name), strings.ToUpper(name), under, strings.ToLower(under), mixed, strings.ToUpper(mixed)}
}

// Every spelling of every identity header, each sent twice, is removed
// before Gatehouse sets its own: on a protected route (for a user with an
// empty claim, whose header must then be absent), on a public route, and
// with headers renamed or turned off.
func TestHeaders_StripClientIdentityVariants(t *testing.T) {
	load(t, config{extra: `headers {
			user X-Remote-User
			email X-Remote-Email
			avatar off
		}
		pass_access_token`})
	// eve's email is unverified: X-Remote-Email must be absent for her.
	if err := idp.Provider.SetAutoLogin("eve"); err != nil {
		t.Fatal(err)
	}
	_, tok := login(t, browsertest.NewBrowser(t), "/")
	norm := func(k string) string { return strings.ReplaceAll(strings.ToLower(k), "_", "-") }
	ours := map[string]bool{}
	for _, n := range spoofNames {
		ours[norm(n)] = true
	}
	for _, path := range []string{"/protected", "/public/page"} {
		t.Run(path, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, site+path, nil)
			req.AddCookie(&http.Cookie{Name: cookieName, Value: tok})
			for _, n := range spoofNames {
				for _, s := range spellings(n) {
					req.Header[s] = []string{"mallory", "mallory2"} // raw keys, duplicates
				}
			}
			resp, _ := testsupport.Do(t, req)
			got := upstream.Last()
			if resp.StatusCode != 200 || got == nil || got.URL.Path != path {
				t.Fatalf("status %d", resp.StatusCode)
			}
			seen := map[string][]string{}
			for k, vs := range got.Header {
				for _, v := range vs {
					if strings.Contains(v, "mallory") {
						t.Errorf("client-sent %s: %q reached the upstream", k, v)
					}
				}
				if n := norm(k); ours[n] || strings.HasPrefix(n, "x-auth-") {
					seen[n] = append(seen[n], vs...)
				}
			}
			want := map[string]bool{}
			if path == "/protected" {
				want = map[string]bool{"x-auth-user-id": true, "x-remote-user": true, "x-auth-name": true,
					"x-auth-provider": true, "x-auth-jwt": true, "x-auth-access-token": true}
				if v := seen["x-remote-user"]; len(v) != 1 || v[0] != "eve" {
					t.Errorf("X-Remote-User = %q, want only eve", v)
				}
			}
			for n, vs := range seen {
				if !want[n] {
					t.Errorf("%s reached the upstream: %q", n, vs)
				} else if len(vs) != 1 {
					t.Errorf("%s reached the upstream %d times: %q", n, len(vs), vs)
				}
			}
			for n := range want {
				if len(seen[n]) == 0 {
					t.Errorf("Gatehouse's own %s is missing", n)
				}
			}
		})
	}
}

// Client-sent X-Forwarded-{Uri,Host,Proto,For} (and Forwarded,
// X-Original-URL) from a peer that is not a trusted proxy — the tests
// configure none — change neither the auth decision, nor what is proxied,
// nor any redirect, nor the per-client login allowance.
func TestHeaders_IgnoreForwardedFromUntrusted(t *testing.T) {
	load(t, config{})
	spoof := map[string]string{
		"X-Forwarded-Uri": "/public/x", "X-Forwarded-Host": "evil.com", "X-Forwarded-Proto": "https",
		"X-Forwarded-For": "10.1.2.3", "Forwarded": "for=10.1.2.3;host=evil.com;proto=https",
		"X-Original-Url": "/public/x", "X-Rewrite-Url": "/public/x", "X-Forwarded-Prefix": "/public",
	}
	with := func(extra map[string]string) map[string]string {
		h := maps.Clone(spoof)
		maps.Copy(h, extra)
		return h
	}

	// Unauthenticated: the same answer as without the headers.
	for _, accept := range []string{"text/html", "application/json"} {
		plain := request(t, "GET", "/admin?x=1", "", map[string]string{"Accept": accept}, "")
		spoofed := request(t, "GET", "/admin?x=1", "", with(map[string]string{"Accept": accept}), "")
		pb, _ := io.ReadAll(plain.Body)
		sb, _ := io.ReadAll(spoofed.Body)
		plain.Body.Close()
		spoofed.Body.Close()
		if spoofed.StatusCode != plain.StatusCode || spoofed.Header.Get("Location") != plain.Header.Get("Location") || !bytes.Equal(pb, sb) {
			t.Errorf("%s: spoofed %d %q %s, plain %d %q %s", accept, spoofed.StatusCode, spoofed.Header.Get("Location"), sb,
				plain.StatusCode, plain.Header.Get("Location"), pb)
		}
		if spoofed.StatusCode != http.StatusFound && spoofed.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %d", accept, spoofed.StatusCode)
		}
	}
	if upstream.Hits() != 0 {
		t.Fatalf("an unauthenticated request reached the upstream")
	}
	// A public path stays public, with no identity, whatever they say.
	if code := status(t, request(t, "GET", "/public/x", "", with(map[string]string{"X-Forwarded-Uri": "/admin"}), "")); code != 200 {
		t.Fatalf("public path: %d", code)
	}

	// Signing in with them: redirect_uri and the landing page are the site's.
	b := browsertest.NewBrowser(t)
	req, _ := http.NewRequest(http.MethodGet, site+"/.gatehouse/login/corp?rd=%2Fadmin", nil)
	for k, v := range spoof {
		req.Header.Set(k, v)
	}
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	authz, _ := resp.Location()
	if authz == nil || authz.Query().Get("redirect_uri") != site+"/.gatehouse/callback/corp" {
		t.Fatalf("login start: %d %v", resp.StatusCode, authz)
	}
	resp, cb := b.Hop(authz.String())
	req, _ = http.NewRequest(http.MethodGet, cb.String(), nil)
	for k, v := range spoof {
		req.Header.Set(k, v)
	}
	resp, err = b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/admin" {
		t.Fatalf("callback: %d Location %q, want /admin", resp.StatusCode, resp.Header.Get("Location"))
	}
	tok := b.Cookie(site, cookieName)

	// Signed in: what is proxied is the request's own URL.
	if code := status(t, request(t, "GET", "/admin?x=1", tok, spoof, "")); code != 200 || upstream.Last().URL.RequestURI() != "/admin?x=1" {
		t.Fatalf("signed in: %d, upstream got %q", code, upstream.Last().URL.RequestURI())
	}

	// Forward-auth reads X-Forwarded-* by design, but only as a return
	// target, which the login validates: the redirect stays on the site.
	fa := request(t, "GET", "/.gatehouse/auth", "", map[string]string{"Accept": "text/html", "X-Forwarded-Proto": "https",
		"X-Forwarded-Host": "evil.com", "X-Forwarded-Uri": "/x"}, "")
	status(t, fa)
	loc, _ := url.Parse(fa.Header.Get("Location"))
	if fa.StatusCode != http.StatusFound || loc == nil || loc.Scheme+"://"+loc.Host != site {
		t.Fatalf("forward-auth: %d %v", fa.StatusCode, loc)
	}
	final, visited := browsertest.NewBrowser(t).Follow(loc.String())
	final.Body.Close()
	if last := visited[len(visited)-1]; last != site+"/" {
		t.Errorf("a login from forward-auth with X-Forwarded-Host: evil.com ended at %s", last)
	}

	// The login allowance is per peer address: a different X-Forwarded-For
	// on every request does not reset it.
	refused := 0
	for i := range 160 {
		resp := get(t, site+"/.gatehouse/login/corp?rd=/", map[string]string{"X-Forwarded-For": fmt.Sprintf("10.9.%d.%d", i/250, i%250+1)})
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused == 0 {
		t.Error("160 login starts with rotating X-Forwarded-For were never limited: the header chose the client")
	}
}

// The PKCE verifier lives in the login record (in the store, never in a
// cookie); the browser holds only the binding cookie that ties the record
// to it. A missing or swapped binding cookie, a code redeemed with
// another login's verifier, and a record whose verifier was changed all
// end in 400 without a session.
func TestCallback_PKCEVerifierMismatch(t *testing.T) {
	load(t, config{store: "redis"})
	t.Run("binding cookie missing", func(t *testing.T) {
		cb := startLogin(t, browsertest.NewBrowser(t), "/")
		assertRefused(t, get(t, cb.String(), map[string]string{"Accept": "text/html"}), http.StatusBadRequest)
	})
	t.Run("binding cookie swapped", func(t *testing.T) {
		victim := browsertest.NewBrowser(t)
		cb := startLogin(t, victim, "/")
		attacker := browsertest.NewBrowser(t)
		startLogin(t, attacker, "/")
		bind := attacker.Cookie(site, "__Host-gatehouse_login")
		if bind == "" || bind == victim.Cookie(site, "__Host-gatehouse_login") {
			t.Fatal("no distinct binding cookies")
		}
		assertRefused(t, get(t, cb.String(), map[string]string{"Cookie": "__Host-gatehouse_login=" + bind}), http.StatusBadRequest)
	})
	t.Run("code redeemed with another login's verifier", func(t *testing.T) {
		victim := startLogin(t, browsertest.NewBrowser(t), "/")
		attacker := browsertest.NewBrowser(t)
		own := startLogin(t, attacker, "/")
		q := own.Query()
		q.Set("code", victim.Query().Get("code"))
		own.RawQuery = q.Encode()
		before := idp.Provider.TokenRequests()
		assertRefused(t, attacker.Get(own.String()), http.StatusBadRequest)
		if idp.Provider.TokenRequests() != before+1 {
			t.Fatal("the code was not presented to the provider, so PKCE was not what refused it")
		}
	})
	t.Run("verifier in the record changed", func(t *testing.T) {
		b := browsertest.NewBrowser(t)
		cb := startLogin(t, b, "/")
		key, p := loginState(t, cb)
		p.Verifier = loginstate.Random(48)
		putLoginState(t, key, p)
		assertRefused(t, b.Get(cb.String()), http.StatusBadRequest)
	})
	t.Run("control: the untouched login works", func(t *testing.T) {
		b := browsertest.NewBrowser(t)
		finishLogin(t, b, startLogin(t, b, "/"), "the untouched login")
	})
	if upstream.Hits() != 0 {
		t.Errorf("refused callbacks reached the upstream")
	}
}

// Every provider type's authorization request carries an S256 challenge
// of the verifier kept in the login record — never "plain", never without
// PKCE — except the Gitee preset, which sends no PKCE at all because
// Gitee does not support it (a documented exception, asserted here so it
// cannot spread).
func TestCallback_PKCEAlwaysS256(t *testing.T) {
	g := fakegoogle.NewGoogle()
	t.Cleanup(g.Close)
	gh := newGitHub(t)
	presets := []string{"gitlab", "microsoft", "gitee", "feishu", "lark"}
	var extra strings.Builder
	fmt.Fprintf(&extra, "provider google {\n client_id google-client\n client_secret google-secret\n issuer %s\n }\n", g.URL)
	fmt.Fprintf(&extra, "provider github {\n client_id %s\n client_secret %s\n base_url %s\n }\n", ghOAuthID, ghOAuthSecret, gh.URL)
	for _, kind := range presets {
		f := fakeoauth.NewOAuth2Fake(kind)
		t.Cleanup(f.Close)
		fmt.Fprintf(&extra, "provider %s {\n client_id preset-client\n client_secret preset-secret\n base_url %s\n }\n", kind, f.URL)
	}
	f := fakeoauth.NewOAuth2Fake("gitlab")
	t.Cleanup(f.Close)
	extra.WriteString(forgeProvider(f.URL, "id sub"))
	load(t, config{store: "redis", extra: extra.String()})
	for _, name := range append([]string{"corp", "google", "github", "forge"}, presets...) {
		t.Run(name, func(t *testing.T) {
			resp := get(t, site+"/.gatehouse/login/"+name+"?rd=/", map[string]string{"Accept": "text/html"})
			resp.Body.Close()
			authz, err := resp.Location()
			if resp.StatusCode != http.StatusFound || err != nil {
				t.Fatalf("login start: %d %v", resp.StatusCode, err)
			}
			q := authz.Query()
			cb := &url.URL{RawQuery: url.Values{"state": {q.Get("state")}}.Encode()}
			_, p := loginState(t, cb)
			if p.Flow != name {
				t.Fatalf("login record for %q", p.Flow)
			}
			if name == "gitee" {
				if q.Has("code_challenge") || q.Has("code_challenge_method") {
					t.Errorf("gitee authorize request: %v", q)
				}
				return
			}
			sum := sha256.Sum256([]byte(p.Verifier))
			if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") != base64.RawURLEncoding.EncodeToString(sum[:]) || len(p.Verifier) < 43 {
				t.Errorf("authorize request %s: method %q challenge %q for a verifier of %d chars", authz.Host, q.Get("code_challenge_method"), q.Get("code_challenge"), len(p.Verifier))
			}
		})
	}
}

// An id_token with a forged or wrong signature, algorithm, key or claims
// ends the login with 401 invalid_id_token, no session and nothing
// proxied.
func TestOIDC_AlgConfusion(t *testing.T) {
	load(t, config{})
	t.Cleanup(func() { idp.Provider.SetSigner(nil) })
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// ES256, signed by a key of another type under the kid of the
	// provider's published RSA key.
	otherKeyType := func(claims map[string]any) (string, error) {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: ecKey},
			(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", idp.Provider.KeyID()))
		if err != nil {
			return "", err
		}
		payload, _ := json.Marshal(claims)
		jws, err := s.Sign(payload)
		if err != nil {
			return "", err
		}
		return jws.CompactSerialize()
	}
	cases := []struct {
		name   string
		signer devidp.SignerFunc
		mutate devidp.ClaimsFunc
	}{
		{name: "alg none", signer: idp.Provider.SignNone},
		{name: "HS256 keyed with the public key", signer: idp.Provider.SignHS256WithPublicKey},
		{name: "unknown kid", signer: idp.Provider.SignUnknownKid},
		{name: "kid of a key of another type", signer: otherKeyType},
		{name: "wrong iss", mutate: func(c map[string]any) { c["iss"] = "https://evil.example" }},
		{name: "wrong aud", mutate: func(c map[string]any) { c["aud"], c["azp"] = "another-client", "another-client" }},
		{name: "expired", mutate: func(c map[string]any) {
			c["iat"], c["exp"] = time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			idp.Provider.SetSigner(c.signer)
			idp.Provider.MutateIDToken(c.mutate)
			defer idp.Provider.SetSigner(nil)
			defer idp.Provider.MutateIDToken(nil)
			b := browsertest.NewBrowser(t)
			resp, visited := b.Follow(site + "/.gatehouse/login/corp?rd=/")
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "invalid_id_token") {
				t.Errorf("%d after %v, want 401 invalid_id_token", resp.StatusCode, visited)
			}
			if b.Cookie(site, cookieName) != "" {
				t.Error("a forged id_token made a session")
			}
		})
	}
	// Control: the provider's own tokens still work.
	login(t, browsertest.NewBrowser(t), "/")
	if upstream.Hits() != 1 {
		t.Errorf("%d requests reached the upstream, want only the control's", upstream.Hits())
	}
}

// With an allow rule on the email, an id_token whose email_verified is
// false, the string "false", or missing is refused with 403 (the address
// is never used); without rules the login works but the address never
// reaches the upstream. (Google, which refuses such a login outright, is
// TestGoogleRefusals.)
func TestOIDC_EmailVerifiedRequired(t *testing.T) {
	shapes := map[string]devidp.ClaimsFunc{
		"false":    func(c map[string]any) { c["email_verified"] = false },
		`"false"`:  func(c map[string]any) { c["email_verified"] = "false" },
		"missing":  func(c map[string]any) { delete(c, "email_verified") },
		`"False "`: func(c map[string]any) { c["email_verified"] = "False " },
		"1":        func(c map[string]any) { c["email_verified"] = 1 },
	}
	load(t, config{extra: "allow domain example.com"})
	for name, mutate := range shapes {
		t.Run("allow domain/"+name, func(t *testing.T) {
			idp.Provider.MutateIDToken(mutate)
			defer idp.Provider.MutateIDToken(nil)
			resp, visited := browsertest.NewBrowser(t).Follow(site + "/")
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%d after %v, want 403", resp.StatusCode, visited)
			}
		})
	}
	if upstream.Hits() != 0 {
		t.Fatal("a user with an unverified email reached the upstream")
	}
	login(t, browsertest.NewBrowser(t), "/") // control: verified

	load(t, config{})
	for name, mutate := range shapes {
		t.Run("no rules/"+name, func(t *testing.T) {
			idp.Provider.MutateIDToken(mutate)
			defer idp.Provider.MutateIDToken(nil)
			echo, _ := login(t, browsertest.NewBrowser(t), "/")
			if e := http.Header(echo.Headers).Get("X-Auth-Email"); e != "" {
				t.Errorf("an unverified email reached the upstream: %q", e)
			}
		})
	}
}

// Email rules parse the verified address strictly: exactly one "@", and
// the whole domain compared; look-alikes are refused with 403, through a
// real login with the development IdP issuing those addresses.
func TestEmail_DomainCheckStrict(t *testing.T) {
	users := map[string]string{
		"sec-nested":    "a@evil.com@corp.com",
		"sec-suffix":    "x@corp.com.evil.com",
		"sec-lookalike": "x@evilcorp.com",
		"sec-subdomain": "x@sub.corp.com",
		"sec-trailing":  "x@corp.com.",
		"sec-quoted":    `"x@corp.com"@evil.com`,
		"sec-ok":        "ok@corp.com",
		"sec-ok-upper":  "Ok@CORP.COM",
	}
	for u, email := range users {
		if err := idp.Provider.AddUser(devidp.User{Username: u, Email: email, EmailVerified: true, Name: u}); err != nil {
			t.Fatal(err)
		}
	}
	for _, rule := range []string{"allow domain corp.com", "allow email *@corp.com"} {
		t.Run(rule, func(t *testing.T) {
			load(t, config{extra: rule})
			for u, email := range users {
				if err := idp.Provider.SetAutoLogin(u); err != nil {
					t.Fatal(err)
				}
				want := http.StatusForbidden
				if strings.HasPrefix(u, "sec-ok") {
					want = 200
				}
				resp, _ := browsertest.NewBrowser(t).Follow(site + "/")
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Errorf("%s: %d, want %d", email, resp.StatusCode, want)
				}
			}
			if upstream.Hits() != 2 {
				t.Errorf("%d requests reached the upstream, want the two allowed users'", upstream.Hits())
			}
		})
	}
}

// A session cookie (or bearer token) that is not a token Gatehouse made
// with this secret — "*", CR/LF, ":", over 4 KB, not base64url, a wrong
// MAC — is refused without a single Redis command; a well-formed token is
// looked up under prefix + hex(sha256(random part)) and nothing else.
func TestSessionID_MalformedNoRedisCall(t *testing.T) {
	load(t, config{store: "redis", extra: "session_cache off"})
	_, tok := login(t, browsertest.NewBrowser(t), "/")
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	flipped := append([]byte(nil), raw...)
	flipped[47] ^= 1
	zeroMAC := append(append([]byte(nil), raw[:32]...), make([]byte, 16)...)
	bad := []string{
		"*", "gatehouse:session:*", strings.Repeat("*", 64), "a%0D%0Ab", "a\tb", "x:y", tok[:32] + ":" + tok[33:],
		strings.Repeat("A", 4097), strings.Repeat("!", 64), base64.StdEncoding.EncodeToString(raw)[:64] + "+/",
		strings.Repeat("A", 64), base64.RawURLEncoding.EncodeToString(flipped), base64.RawURLEncoding.EncodeToString(zeroMAC),
		tok + "A", tok[:63], strings.ToUpper(tok),
	}
	asAPI := map[string]string{"Accept": "application/json"}
	before := redisCommands(t)
	for _, v := range bad {
		if code := status(t, request(t, "GET", "/", v, asAPI, "")); code != http.StatusUnauthorized {
			t.Errorf("cookie %.20q: %d, want 401", v, code)
		}
		if code := status(t, request(t, "GET", "/", "", map[string]string{"Accept": "application/json", "Authorization": "Bearer " + v}, "")); code != http.StatusUnauthorized {
			t.Errorf("bearer %.20q: %d, want 401", v, code)
		}
	}
	// A cookie line folded over CRLF (obs-fold), sent byte for byte.
	conn := rawRequest(t, "GET / HTTP/1.1\r\nHost: "+strings.TrimPrefix(site, "http://")+"\r\nAccept: application/json\r\nCookie: "+
		cookieName+"="+tok[:32]+"\r\n "+tok[32:]+"\r\nConnection: close\r\n\r\n")
	if conn == http.StatusOK {
		t.Error("a folded cookie line was accepted")
	}
	if n := redisCommands(t) - before - 1; n != 0 {
		t.Fatalf("malformed session tokens made %d Redis commands, want 0", n)
	}

	// Control, so the count above means something: a token with a valid
	// MAC for an unknown id is one lookup.
	id := make([]byte, 32)
	_, _ = rand.Read(id)
	forged := base64.RawURLEncoding.EncodeToString(append(id, serverRing().TokenMAC(id)[:16]...))
	if code := status(t, request(t, "GET", "/", tok, nil, "")); code != 200 { // warm the connection pool
		t.Fatalf("valid session: %d", code)
	}
	before = redisCommands(t)
	if code := status(t, request(t, "GET", "/", forged, asAPI, "")); code != http.StatusUnauthorized {
		t.Fatalf("unknown session: %d", code)
	}
	if n := redisCommands(t) - before - 1; n != 1 {
		t.Fatalf("a well-formed unknown token made %d Redis commands, want 1", n)
	}

	// The key is the hash; neither the token nor its random part appears in
	// any key.
	key := sessionKey(t, tok)
	if n, err := redisSrv.Client().Exists(t.Context(), key).Result(); err != nil || n != 1 {
		t.Fatalf("session key %s: %d %v", key, n, err)
	}
	for k := range redisDump(t) {
		for _, s := range []string{tok, hex.EncodeToString(raw[:32]), base64.RawURLEncoding.EncodeToString(raw[:32])} {
			if strings.Contains(k, s) {
				t.Errorf("Redis key %q holds the session token", k)
			}
		}
	}
}

// rawRequest writes req to the site byte for byte and returns the status,
// or 0 when the server closed the connection without an answer.
func rawRequest(t *testing.T, req string) int {
	t.Helper()
	conn, err := (&net.Dialer{Timeout: 5 * time.Second}).Dial("tcp", strings.TrimPrefix(site, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// The provider's tokens are in Redis only inside the sealed session: the
// value opens with the server's key (and shows the tokens the upstream was
// given), not with another secret's key nor under another key name; and
// no token, nor the session cookie, is anywhere in a dump of Redis.
func TestSession_NoPlaintextTokensInRedis(t *testing.T) {
	load(t, config{store: "redis", extra: "pass_access_token"})
	redisSrv.FlushAll(t)
	echo, tok := login(t, browsertest.NewBrowser(t), "/")
	s, key, sealed := openSession(t, tok)
	if s.AccessToken == "" || s.AccessToken != http.Header(echo.Headers).Get("X-Auth-Access-Token") || s.RefreshToken == "" || s.IDToken == "" {
		t.Fatalf("sealed session: access %t (matches upstream %t), refresh %t, id %t", s.AccessToken != "",
			s.AccessToken == http.Header(echo.Headers).Get("X-Auth-Access-Token"), s.RefreshToken != "", s.IDToken != "")
	}
	other, _ := keys.Derive("another-secret-0123456789abcdef0123456789")
	if _, err := openStoredSession(other, sealed, key); err == nil {
		t.Error("the session opens with another secret's key")
	}
	if _, err := openStoredSession(serverRing(), sealed, "gatehouse:session:"+strings.Repeat("0", 64)); err == nil {
		t.Error("the session opens under another key name")
	}
	dump := redisDump(t)
	if len(dump) == 0 {
		t.Fatal("empty dump")
	}
	idSig := s.IDToken[strings.LastIndex(s.IDToken, ".")+1:]
	for k, v := range dump {
		for name, secretValue := range map[string]string{"access token": s.AccessToken, "refresh token": s.RefreshToken,
			"id_token": s.IDToken, "id_token signature": idSig, "session cookie": tok, "client secret": clientSecret} {
			if strings.Contains(k, secretValue) || strings.Contains(v, secretValue) {
				t.Errorf("the %s is in Redis in plaintext (key %s)", name, k)
			}
		}
	}
}
