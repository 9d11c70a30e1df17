package caddytest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/certmagic"
)

// IsolateCaddy moves Caddy's storage and autosave file, which Caddy fixed
// at init from the user's directories, into a temporary directory that
// its cleanup removes.
func TestIsolateCaddy(t *testing.T) {
	home := caddy.AppDataDir()
	saved, savedAutosave := caddy.DefaultStorage, caddy.ConfigAutosavePath
	t.Cleanup(func() { caddy.DefaultStorage, caddy.ConfigAutosavePath = saved, savedAutosave })
	t.Setenv("XDG_DATA_HOME", os.Getenv("XDG_DATA_HOME"))
	t.Setenv("XDG_CONFIG_HOME", os.Getenv("XDG_CONFIG_HOME"))
	cleanup, err := IsolateCaddy()
	if err != nil {
		t.Fatal(err)
	}
	storage := caddy.DefaultStorage.Path
	if storage == home || !strings.HasPrefix(storage, os.TempDir()) {
		t.Fatalf("Caddy's storage is %s, not in a temporary directory (user's: %s)", storage, home)
	}
	if !strings.HasPrefix(caddy.ConfigAutosavePath, filepath.Dir(filepath.Dir(storage))) {
		t.Errorf("autosave %s is outside the isolated directory", caddy.ConfigAutosavePath)
	}
	// Storage a config would use lands there.
	fs := &certmagic.FileStorage{Path: storage}
	if err := fs.Store(t.Context(), "probe", []byte("x")); err != nil {
		t.Fatal(err)
	}
	cleanup()
	if _, err := os.Stat(storage); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the isolated directory survives its cleanup: %v", err)
	}
}

// LoadFresh tries again with new ports when the one it picked was taken
// meanwhile.
func TestLoadFreshRetriesTakenPort(t *testing.T) {
	cleanup, err := IsolateCaddy()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	attempts := 0
	var port int
	LoadFresh(t, func() (string, string) {
		attempts++
		port = FreePort(t)
		if attempts == 1 {
			port = taken.Addr().(*net.TCPAddr).Port // as if someone took it
		}
		return fmt.Sprintf("{\n\t%s}\n\nhttp://localhost:%d {\n\trespond ok\n}\n", GlobalOptions(""), port), fmt.Sprintf("127.0.0.1:%d", port)
	})
	if attempts != 2 {
		t.Fatalf("%d attempts, want 2", attempts)
	}
	if !AddrInUse(fmt.Errorf("wrapped: %w", syscall.EADDRINUSE)) || AddrInUse(errors.New("other")) {
		t.Error("AddrInUse")
	}
}
