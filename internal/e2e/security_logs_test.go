package e2e

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/devidp"
	"github.com/gatehouse-auth/gatehouse/internal/keys"
	"github.com/gatehouse-auth/gatehouse/internal/session"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/fakegithub"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/fakenango"
)

// openSession reads session tok from Redis and opens it with the server
// key; it returns the session, its Redis key and the sealed value.
func openSession(t *testing.T, tok string) (s *session.Session, key string, sealed []byte) {
	t.Helper()
	key = sessionKey(t, tok)
	sealed = sealedSession(t, key)
	s, err := openStoredSession(serverRing(), sealed, key)
	if err != nil {
		t.Fatalf("the stored session does not open with the server key: %v", err)
	}
	return s, key, sealed
}

// openStoredSession opens a session as the store holds it, sealed under
// key with ring.
func openStoredSession(ring *keys.Ring, sealed []byte, key string) (*session.Session, error) {
	plain, err := ring.Open(sealed, []byte(key))
	if err != nil {
		return nil, err
	}
	s := new(session.Session)
	return s, s.UnmarshalBinary(plain)
}

// sealedSession returns the value Redis holds under the session key.
func sealedSession(t *testing.T, key string) []byte {
	t.Helper()
	sealed, err := redisSrv.Client().Get(t.Context(), key).Bytes()
	if err != nil {
		t.Fatalf("session %s: %v", key, err)
	}
	return sealed
}

// waitForLog waits until the log file holds msg.
func waitForLog(t *testing.T, logFile, msg string) {
	t.Helper()
	testsupport.WaitFor(t, 5*time.Second, fmt.Sprintf("the log never said %q", msg), func() bool {
		data, _ := os.ReadFile(logFile)
		return strings.Contains(string(data), msg)
	})
}

// ghTokenPattern matches GitHub's token formats (gho_, ghu_, ghr_, ghs_).
var ghTokenPattern = regexp.MustCompile(`gh[oursp]_[A-Za-z0-9_]{16,}`)

// Caddy's whole log at DEBUG, over an OIDC login (hop by hop), a refused
// callback replay, a token refresh, a GitHub sign-in and App connection,
// GitHub webhooks (signed and forged), sign-out with token revocation, and
// a Nango login with its webhooks: no cookie, code, state, PKCE verifier,
// nonce, CSRF token, provider token, client or webhook secret, or webhook
// signature appears in it.
//
// One exception is Caddy's, not Gatehouse's: at DEBUG, reverse_proxy logs
// the headers of each proxied request ("upstream roundtrip"), redacting
// only Cookie and Authorization, so the short-lived X-Auth-Jwt assertion
// (and X-Auth-Access-Token when pass_access_token is on) shows there. The
// test pins that it shows nowhere else.
func TestLogs_NoSecretsAtDebug(t *testing.T) {
	const shortSecret = "short-client-secret-for-log-test"
	p, err := devidp.Listen("127.0.0.1:0", devidp.Options{TokenTTL: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	gh := ghInstalled(t)
	logFile := filepath.Join(t.TempDir(), "caddy.log")
	c := githubConfig(gh, `provider oidc short {
			issuer `+p.URL+`
			client_id short-client
			client_secret `+shortSecret+`
		}`, "1h")
	c.store, c.logTo = "redis", logFile
	load(t, c)
	if err := p.Provider.AddClient(devidp.Client{ID: "short-client", Secret: shortSecret,
		RedirectURIs: []string{site + "/.gatehouse/callback/short"}}); err != nil {
		t.Fatal(err)
	}
	if err := p.Provider.SetAutoLogin("alice"); err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{
		"Gatehouse secret": secret, "OIDC client secret": shortSecret, "GitHub OAuth secret": ghOAuthSecret,
		"GitHub App secret": ghAppSecret, "GitHub webhook secret": ghHookSecret,
	}
	add := func(name, v string) {
		t.Helper()
		if v == "" {
			t.Fatalf("no %s to look for", name)
		}
		secrets[name] = v
	}

	// The OIDC login, hop by hop.
	b := browsertest.NewBrowser(t)
	_, authz := b.Hop(site + "/.gatehouse/login/short?rd=/")
	_, cb := b.Hop(authz.String())
	_, pending := loginState(t, cb)
	add("state", cb.Query().Get("state"))
	add("authorization code", cb.Query().Get("code"))
	add("PKCE verifier", pending.Verifier)
	add("nonce", pending.Nonce)
	add("binding cookie", b.Cookie(site, "__Host-gatehouse_login"))
	finishLogin(t, b, cb, "the OIDC login")
	tok := b.Cookie(site, cookieName)
	add("session cookie", tok)
	s, _, _ := openSession(t, tok)
	add("access token", s.AccessToken)
	add("refresh token", s.RefreshToken)
	add("id_token", s.IDToken)
	jwt := upstreamHeaders(t, b, "/").Get("X-Auth-Jwt")
	if jwt == "" {
		t.Fatal("no X-Auth-Jwt upstream")
	}
	// The callback replayed: refused, and logged as such.
	if code := status(t, b.Get(cb.String())); code != http.StatusBadRequest {
		t.Fatalf("replayed callback: %d", code)
	}

	// A refresh.
	time.Sleep(2100 * time.Millisecond)
	upstreamHeaders(t, b, "/")
	s2, _, _ := openSession(t, tok)
	if s2.AccessToken == s.AccessToken {
		t.Fatal("the access token was not refreshed")
	}
	add("refreshed access token", s2.AccessToken)
	add("rotated refresh token", s2.RefreshToken)
	add("refreshed id_token", s2.IDToken)
	waitForLog(t, logFile, "access token refreshed")

	// GitHub sign-in and App connection, then webhooks.
	gb := browsertest.NewBrowser(t)
	ghLogin(t, gb)
	connect(t, gb)
	add("GitHub session cookie", gb.Cookie(site, cookieName))
	ping := map[string]any{"zen": "Keep it logically awesome.", "hook_id": 1, "hook": map[string]any{"app_id": ghAppID}}
	if code, _ := hook(t, gh, "ping", ping); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	add("webhook signature", strings.TrimPrefix(fakegithub.SignGitHubBody(ghHookSecret, mustJSON(ping)), "sha256="))
	forged := fakegithub.SignGitHubBody("not-the-secret", mustJSON(ping))
	req, _ := http.NewRequest(http.MethodPost, site+"/.gatehouse/webhooks/github", strings.NewReader(string(mustJSON(ping))))
	req.Header.Set("X-GitHub-Event", "ping")
	req.Header.Set("X-GitHub-Delivery", "log-test-forged")
	req.Header.Set("X-Hub-Signature-256", forged)
	if resp, err := http.DefaultTransport.RoundTrip(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged webhook: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	add("forged webhook signature", strings.TrimPrefix(forged, "sha256="))

	// Sign-out, with the CSRF token and the background revocation.
	page := b.Get(site + "/.gatehouse/logout")
	body := readAll(t, page)
	add("CSRF token", between(body, `name="csrf" value="`, `"`))
	if resp, _ := signOut(t, b, "/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	waitForLog(t, logFile, "provider tokens revoked at sign-out")

	// A Nango login, its webhook, and a forged one, in a second site
	// logging to the same file.
	w := newNangoWorld(t)
	w.loadConfig(t, config{store: "redis", logTo: logFile}, "")
	nb := browsertest.NewBrowser(t)
	nangoLogin(t, w, nb)
	add("Nango session cookie", nb.Cookie(site, cookieName))
	for _, s := range w.nango.Sessions() {
		add("Nango connect session token", s.Token)
	}
	d := w.nango.WaitDeliveries(t, 1)[0]
	hm, legacy := fakenango.NangoSign([]byte(nangoHookKey), d.Body)
	add("Nango webhook signature", hm)
	add("Nango legacy signature", legacy)
	if code := resend(t, d.Body, signed("another-key", d.Body)); code != http.StatusUnauthorized {
		t.Fatalf("forged Nango webhook: %d", code)
	}
	forgedHM, _ := fakenango.NangoSign([]byte("another-key"), d.Body)
	add("forged Nango signature", forgedHM)
	add("Nango secret key", nangoKey)
	add("Nango webhook key", nangoHookKey)
	add("Nango previous webhook key", nangoOldHookKey)

	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	logs := string(data)
	// The capture is real: DEBUG lines from Gatehouse are in it.
	for _, want := range []string{`"level":"debug"`, "signed in", "login state refused", "access token refreshed", "signed out"} {
		if !strings.Contains(logs, want) {
			t.Fatalf("the log lacks %q: the check would prove little", want)
		}
	}
	for name, v := range secrets {
		if strings.Contains(logs, v) {
			t.Errorf("the %s is in the debug log", name)
		}
	}
	if m := ghTokenPattern.FindString(logs); m != "" {
		t.Errorf("a GitHub token is in the debug log: %.8s…", m)
	}
	// The assertion header: only in reverse_proxy's own request dumps.
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, jwt) && !strings.Contains(line, `"msg":"upstream roundtrip"`) {
			t.Errorf("the X-Auth-Jwt assertion is in a log line other than reverse_proxy's: %.200s", line)
		}
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// The webhook verifiers (and the other secret comparisons) compare MACs
// with hmac.Equal or subtle.ConstantTimeCompare, never with ==, != or
// bytes.Equal: checked on the source, since timing is not observable in a
// test. A comparison with a literal, nil, a constant or a len() is fine.
func TestWebhookVerifiersCompareInConstantTime(t *testing.T) {
	checks := []struct{ dir, fn string }{
		{"../github", "VerifySignature"},
		{"../nango", "VerifySignature"},
		// Session tokens' and CSRF tokens' MACs, under the current secret
		// and the previous ones (parseToken and CheckCSRF call it).
		{"../keys", "check"},
		{"../loginstate", "SameBrowser"},
	}
	for _, c := range checks {
		t.Run(c.dir+"."+c.fn, func(t *testing.T) {
			fset := token.NewFileSet()
			files, err := filepath.Glob(filepath.Join(c.dir, "*.go"))
			if err != nil {
				t.Fatal(err)
			}
			consts := map[string]bool{"nil": true, "true": true, "false": true}
			imports := map[string]bool{}
			var body *ast.BlockStmt
			for _, name := range files {
				if strings.HasSuffix(name, "_test.go") {
					continue
				}
				f, err := parser.ParseFile(fset, name, nil, 0)
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range f.Decls {
					switch d := d.(type) {
					case *ast.FuncDecl:
						if d.Name.Name == c.fn {
							body = d.Body
						}
					case *ast.GenDecl:
						if d.Tok != token.CONST {
							continue
						}
						for _, sp := range d.Specs {
							for _, n := range sp.(*ast.ValueSpec).Names {
								consts[n.Name] = true
							}
						}
					}
				}
				for _, im := range f.Imports {
					path := strings.Trim(im.Path.Value, `"`)
					imports[path[strings.LastIndex(path, "/")+1:]] = true
				}
			}
			if body == nil {
				t.Fatalf("no func %s", c.fn)
			}
			trivial := func(e ast.Expr) bool { return trivialOperand(e, consts, imports) }
			constantTime := false
			ast.Inspect(body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
						if x, ok := sel.X.(*ast.Ident); ok {
							switch x.Name + "." + sel.Sel.Name {
							case "hmac.Equal", "subtle.ConstantTimeCompare":
								constantTime = true
							case "bytes.Equal", "bytes.Compare", "strings.EqualFold", "strings.Compare", "reflect.DeepEqual":
								t.Errorf("%s: %s.%s compares in variable time", fset.Position(n.Pos()), x.Name, sel.Sel.Name)
							}
						}
					}
				case *ast.BinaryExpr:
					if (n.Op == token.EQL || n.Op == token.NEQ) && !trivial(n.X) && !trivial(n.Y) {
						t.Errorf("%s: %s compares two computed values", fset.Position(n.Pos()), n.Op)
					}
				}
				return true
			})
			if !constantTime {
				t.Errorf("%s does not use hmac.Equal or subtle.ConstantTimeCompare", c.fn)
			}
		})
	}
}

// trivialOperand reports whether e is a literal, a constant (of the
// package, or pkg.Name of an imported package), or len(...): comparing
// with those leaks nothing about a secret.
func trivialOperand(e ast.Expr, consts, imports map[string]bool) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return true
	case *ast.Ident:
		return consts[e.Name]
	case *ast.BinaryExpr:
		return trivialOperand(e.X, consts, imports) && trivialOperand(e.Y, consts, imports)
	case *ast.SelectorExpr:
		x, ok := e.X.(*ast.Ident)
		return ok && imports[x.Name]
	case *ast.CallExpr:
		id, ok := e.Fun.(*ast.Ident)
		return ok && (id.Name == "len" || id.Name == "cap")
	case *ast.ParenExpr:
		return trivialOperand(e.X, consts, imports)
	}
	return false
}
