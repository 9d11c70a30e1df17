// Package e2e drives Gatehouse end to end: a real Caddy in this process,
// a real redis-server, the development OIDC provider as the identity
// provider, and a recording upstream.
package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"

	_ "github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/devidp"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
)

var (
	redisSrv *testsupport.Redis
	idp      *devidp.Server
	upstream *testsupport.Upstream
	port     int    // the site's port; new for every config, see load
	site     string // http://localhost:PORT
	clientID string // the OAuth client registered for this port
)

const (
	secret       = "e2e-secret-0123456789abcdef0123456789abcdef"
	clientSecret = "e2e-client-secret"
)

func TestMain(m *testing.M) {
	if f := os.Getenv(childCaddyfileEnv); f != "" {
		os.Exit(runChildCaddy(f))
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	cleanup, err := testsupport.IsolateCaddy()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cleanup()
	redisSrv, err = testsupport.StartRedis()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer redisSrv.Close()

	idp, err = devidp.Listen("127.0.0.1:0", devidp.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer idp.Close()
	upstream = testsupport.NewUpstream()
	defer upstream.Close()
	return m.Run()
}

// config describes one Caddyfile for a test.
type config struct {
	store      string // "" = memory; "redis" = the test redis-server
	storeBlock string // if set, the whole store directive (a "store redis { … }" block), instead of store's
	extra      string // more gatehouse subdirectives; CLIENT_ID stands for clientID
	site       string // more site directives
	alias      bool   // the site also answers as http://127.0.0.1:PORT
	noOIDC     bool   // without the oidc provider "corp"
	logTo      string // write Caddy's log, at DEBUG, to this file (default: errors to stderr)
	admin      string // Caddy's admin endpoint address (default: admin off)
}

func (c config) caddyfile() string {
	store := ""
	if c.store == "redis" {
		store = "store redis redis://" + redisSrv.Addr + "/0"
	}
	if c.storeBlock != "" {
		store = c.storeBlock
	}
	admin := "off"
	if c.admin != "" {
		admin = c.admin
	}
	return fmt.Sprintf(`{
	admin %s
	persist_config off
	http_port %d
	log default {
		%s
	}
}

http://localhost:%d%s {
	gatehouse {
		secret %s
		%s
		%s
		public /public/* /healthz
		%s
	}
	%s
	reverse_proxy %s
}
`, admin, port, c.logging(), port, aliasAddr(c.alias), secret, store, c.oidc(), strings.ReplaceAll(c.extra, "CLIENT_ID", clientID), c.site, upstream.Addr())
}

func (c config) logging() string {
	if c.logTo == "" {
		return "level ERROR"
	}
	return "output file " + c.logTo + "\n\t\tlevel DEBUG"
}

func (c config) oidc() string {
	if c.noOIDC {
		return ""
	}
	return fmt.Sprintf(`provider oidc corp {
			issuer %s
			client_id %s
			client_secret %s
		}`, idp.URL, clientID, clientSecret)
}

func aliasAddr(on bool) string {
	if !on {
		return ""
	}
	return fmt.Sprintf(", http://127.0.0.1:%d", port)
}

// load runs c in Caddy and resets the fakes. Every config gets a port of
// its own: Caddy binds a reload's listener with SO_REUSEPORT and shuts the
// old server down asynchronously, so on a shared port a test's first
// connections could land on the previous config's server as it closes.
func load(t *testing.T, c config) {
	t.Helper()
	port = testsupport.FreePort(t)
	site = fmt.Sprintf("http://localhost:%d", port)
	clientID = fmt.Sprintf("gatehouse-e2e-%d", port)
	if err := idp.Provider.AddClient(devidp.Client{
		ID: clientID, Secret: clientSecret,
		RedirectURIs: []string{site + "/.gatehouse/callback/corp", site + "/.gatehouse/callback/other"},
	}); err != nil {
		t.Fatal(err)
	}
	testsupport.LoadCaddyfile(t, c.caddyfile(), fmt.Sprintf("localhost:%d", port))
	upstream.Reset()
	if err := idp.Provider.SetAutoLogin("alice"); err != nil {
		t.Fatal(err)
	}
	idp.Provider.MutateIDToken(nil)
}

// both runs f once with the memory store and once with Redis.
func both(t *testing.T, extra string, f func(t *testing.T)) {
	for _, st := range []string{"memory", "redis"} {
		t.Run(st, func(t *testing.T) {
			s := st
			if s == "memory" {
				s = ""
			}
			load(t, config{store: s, extra: extra})
			f(t)
		})
	}
}

func hasCookie(setCookies []string, name string) bool {
	for _, c := range setCookies {
		if strings.HasPrefix(c, name+"=") && !strings.Contains(c, "Max-Age=0") {
			return true
		}
	}
	return false
}
