package caddytest

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/certmagic"

	// The caddyfile adapter and the standard modules (reverse_proxy, ...).
	_ "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
// Something else may take it before it is bound again: load a config
// that binds it with LoadFresh, which tries again with new ports.
func FreePort(tb testing.TB) int {
	tb.Helper()
	port, err := testsupport.FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	return port
}

// IsolateCaddy points Caddy's data and config directories at a temporary
// directory, so tests never touch the user's. Call it from TestMain.
//
// Caddy fixes its default storage and autosave path when its package is
// initialised, before TestMain runs, so setting XDG_DATA_HOME is not
// enough: both are replaced here too.
func IsolateCaddy() (cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "gatehouse-caddy-")
	if err != nil {
		return nil, err
	}
	os.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	os.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	caddy.DefaultStorage = &certmagic.FileStorage{Path: caddy.AppDataDir()}
	caddy.ConfigAutosavePath = filepath.Join(caddy.AppConfigDir(), "autosave.json")
	return func() {
		_ = caddy.Stop()
		os.RemoveAll(dir)
	}, nil
}

// GlobalOptions is the start of a test Caddyfile's global block: no admin
// endpoint unless admin is given, nothing saved, every site bound to
// 127.0.0.1 only.
func GlobalOptions(admin string) string {
	if admin == "" {
		admin = "off"
	}
	return "admin " + admin + "\n\tpersist_config off\n\tdefault_bind 127.0.0.1\n"
}

// LoadFresh loads the Caddyfile build returns and waits until addr (the
// address it returns) answers. build picks the ports it binds (with
// FreePort) every time it is called: when one was taken by something
// else between FreePort and Caddy's bind, the load is tried again with
// new ones, a few times.
func LoadFresh(tb testing.TB, build func() (caddyfile, addr string)) {
	tb.Helper()
	var err error
	for range 5 {
		text, addr := build()
		if err = TryLoadCaddyfile(text); err == nil {
			WaitHTTP(tb, "http://"+addr+"/")
			return
		}
		if !AddrInUse(err) {
			break
		}
	}
	tb.Fatal(err)
}

// AddrInUse reports whether err (or an error text) says a port was
// taken.
func AddrInUse(err error) bool {
	return err != nil && (errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use"))
}

// TryLoadCaddyfile adapts and loads a Caddyfile, returning the error Caddy
// reports (for tests of configuration errors).
func TryLoadCaddyfile(caddyfile string) error {
	adapter := caddyconfig.GetAdapter("caddyfile")
	cfg, warnings, err := adapter.Adapt([]byte(caddyfile), map[string]any{"filename": "Caddyfile"})
	if err != nil {
		return fmt.Errorf("adapting Caddyfile: %w", err)
	}
	for _, w := range warnings {
		if !strings.Contains(w.Message, "formatted") {
			return fmt.Errorf("Caddyfile warning: %s", w.String())
		}
	}
	if err := caddy.Load(cfg, true); err != nil {
		return fmt.Errorf("loading config: %w", err)
	}
	// Connections kept alive to the previous config's server are gone.
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	return nil
}

// WaitHTTP polls url until anything answers (bounded to 10 s).
func WaitHTTP(tb testing.TB, url string) {
	tb.Helper()
	c := &http.Client{Timeout: time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s did not answer: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
