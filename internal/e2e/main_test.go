// Package e2e drives Gatehouse end to end: a real Caddy in this process,
// a real redis-server, the development OIDC provider as the identity
// provider, and a recording upstream.
package e2e

import (
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	_ "github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/devidp"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/caddytest"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/redistest"
)

var (
	redisSrv  *redistest.Redis
	idp       *devidp.Server
	upstream  *testsupport.Upstream
	port      int    // the site's port; new for every config, see load
	site      string // http://localhost:PORT
	clientID  string // the OAuth client registered for this port
	adminAddr string // Caddy's admin endpoint, for configs with admin set
)

const (
	secret       = "e2e-secret-0123456789abcdef0123456789abcdef"
	clientSecret = "e2e-client-secret"
)

func TestMain(m *testing.M) {
	if f := os.Getenv(childCaddyfileEnv); f != "" {
		os.Exit(runChildCaddy(f))
	}
	if os.Getenv(caddyCLIEnv) != "" {
		runCaddyCLI()
	}
	os.Exit(testsupport.Main(m, setup))
}

// setup starts what every test shares: Caddy's isolated directories, a
// redis-server, the development provider and the upstream.
func setup() (cleanup func(), err error) {
	var done []func()
	cleanup = func() {
		for i := len(done) - 1; i >= 0; i-- {
			done[i]()
		}
	}
	isolated, err := caddytest.IsolateCaddy()
	if err != nil {
		return cleanup, err
	}
	done = append(done, isolated)
	if redisSrv, err = redistest.StartRedis(); err != nil {
		return cleanup, err
	}
	done = append(done, func() { redisSrv.Close() })
	if idp, err = devidp.Listen("127.0.0.1:0", devidp.Options{}); err != nil {
		return cleanup, err
	}
	done = append(done, func() { idp.Close() })
	upstream = testsupport.NewUpstream()
	done = append(done, upstream.Close)
	return cleanup, nil
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
	admin      bool   // Caddy's admin endpoint on, at adminAddr (default: off)
	global     string // more global options
}

func (c config) caddyfile() string {
	store := ""
	if c.store == "redis" {
		store = "store redis redis://" + redisSrv.Addr + "/0"
	}
	if c.storeBlock != "" {
		store = c.storeBlock
	}
	admin := ""
	if c.admin {
		admin = adminAddr
	}
	return fmt.Sprintf(`{
	%s
	%s
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
`, caddytest.GlobalOptions(admin), c.global, port, c.logging(), port, aliasAddr(c.alias), secret, store, c.oidc(), strings.ReplaceAll(c.extra, "CLIENT_ID", clientID), c.site, upstream.Addr())
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
	caddytest.LoadFresh(t, func() (string, string) {
		usePort(t, caddytest.FreePort(t))
		if c.admin {
			adminAddr = fmt.Sprintf("127.0.0.1:%d", caddytest.FreePort(t))
		}
		return c.caddyfile(), fmt.Sprintf("localhost:%d", port)
	})
	upstream.Reset()
	if err := idp.Provider.SetAutoLogin("alice"); err != nil {
		t.Fatal(err)
	}
	idp.Provider.MutateIDToken(nil)
}

// configSeq counts the configs (usePort): what a test keeps in the Redis
// the whole run shares (users, client addresses) is named after it, never
// after the port, which the kernel may hand out again later in the run.
var configSeq atomic.Int64

// usePort makes p the site's port and registers the site's OAuth client
// with the development provider.
func usePort(t *testing.T, p int) {
	t.Helper()
	configSeq.Add(1)
	port = p
	site = fmt.Sprintf("http://localhost:%d", port)
	clientID = fmt.Sprintf("gatehouse-e2e-%d", port)
	if err := idp.Provider.AddClient(devidp.Client{
		ID: clientID, Secret: clientSecret,
		RedirectURIs: []string{site + "/.gatehouse/callback/corp", site + "/.gatehouse/callback/other"},
	}); err != nil {
		t.Fatal(err)
	}
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
