package devidp

import (
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestListen(t *testing.T) {
	t.Parallel()
	srv, err := Listen("127.0.0.1:0", Options{Key: testKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	if srv.URL != "http://"+srv.Addr.String() || srv.Provider.Issuer() != srv.URL {
		t.Errorf("URL %q, addr %v, issuer %q", srv.URL, srv.Addr, srv.Provider.Issuer())
	}
	if resp := get(t, srv.URL+"/jwks"); resp.StatusCode != http.StatusOK {
		t.Errorf("jwks: %d", resp.StatusCode)
	}
	srv.Close()
	srv.Close() // idempotent
	if _, err := http.Get(srv.URL + "/jwks"); err == nil {
		t.Error("server still answering after Close")
	}
}

func TestListenKeepsIssuer(t *testing.T) {
	t.Parallel()
	srv, err := Listen("127.0.0.1:0", Options{Issuer: "https://idp.example", Key: testKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	if srv.URL != "https://idp.example" {
		t.Errorf("URL = %q", srv.URL)
	}
}

func TestListenErrors(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := Listen(ln.Addr().String(), Options{Key: testKey(t)}); err == nil || !strings.Contains(err.Error(), "listening") {
		t.Errorf("port in use: %v", err)
	}
	if _, err := Listen("127.0.0.1:0", Options{SigningAlg: "none", Key: testKey(t)}); err == nil {
		t.Error("bad options accepted")
	}
}
