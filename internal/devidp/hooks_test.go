package devidp

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

func TestMutateIDToken(t *testing.T) {
	t.Parallel()
	srv, r := aliceApp(t)
	p := srv.Provider

	claimsOf := func(t *testing.T) (*oidc.IDToken, map[string]any, error) {
		f := newFlow()
		idt, err := r.verifier.Verify(context.Background(), idToken(t, r.login(t, srv, f)))
		if err != nil {
			return nil, nil, err
		}
		var m map[string]any
		_ = idt.Claims(&m)
		m["_want_nonce"] = f.nonce
		return idt, m, nil
	}

	p.MutateIDToken(func(c map[string]any) { c["email_verified"] = "false" })
	p.MutateNextIDToken(func(c map[string]any) { c["nonce"] = "attacker" })
	idt, m, err := claimsOf(t)
	if err != nil {
		t.Fatal(err)
	}
	if m["email_verified"] != "false" || idt.Nonce != "attacker" {
		t.Errorf("first token: email_verified %#v, nonce %q", m["email_verified"], idt.Nonce)
	}
	_, m, _ = claimsOf(t)
	if m["email_verified"] != "false" || m["nonce"] != m["_want_nonce"] {
		t.Errorf("second token: email_verified %#v, nonce %v (want %v)", m["email_verified"], m["nonce"], m["_want_nonce"])
	}
	p.MutateIDToken(nil)
	_, m, _ = claimsOf(t)
	if m["email_verified"] != true {
		t.Errorf("after reset: email_verified %#v", m["email_verified"])
	}

	// A wrong audience is caught by the verifier.
	p.MutateNextIDToken(func(c map[string]any) { c["aud"] = "someone-else" })
	if _, _, err := claimsOf(t); err == nil {
		t.Error("token for another audience verified")
	}
}

func TestMutateUserinfo(t *testing.T) {
	t.Parallel()
	srv, r := aliceApp(t)
	tok := r.login(t, srv, newFlow())
	srv.Provider.MutateUserinfo(func(c map[string]any) { c["sub"] = "someone-else" })
	ui, err := r.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	if ui.Subject != "someone-else" {
		t.Errorf("sub = %q", ui.Subject)
	}
}

func TestFailNext(t *testing.T) {
	t.Parallel()
	srv := startIdP(t, nil)
	p := srv.Provider
	_ = p.SetAutoLogin("alice")

	p.FailNext(EndpointDiscovery, http.StatusServiceUnavailable)
	if _, err := oidc.NewProvider(context.Background(), srv.URL); err == nil {
		t.Fatal("discovery did not fail")
	}
	r := appRP(t, srv) // the failure was used up
	r.config.Endpoint.AuthStyle = oauth2.AuthStyleInHeader

	f := newFlow()
	code := r.code(t, srv, f)
	p.FailNext("/token", http.StatusBadGateway)
	_, err := r.config.Exchange(context.Background(), code, oauth2.VerifierOption(f.verifier))
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response.StatusCode != http.StatusBadGateway {
		t.Fatalf("Exchange during failure: %v", err)
	}
	// The code was not consumed by the failed call.
	r.exchange(t, code, f)

	p.FailNext(EndpointAuthorize, http.StatusInternalServerError)
	p.FailNext(EndpointAuthorize, http.StatusServiceUnavailable)
	for _, want := range []int{500, 503, 302} {
		if resp := get(t, r.authURL(newFlow())); resp.StatusCode != want {
			t.Errorf("authorize: %d, want %d", resp.StatusCode, want)
		}
	}
	if got := p.Requests(EndpointDiscovery); got != 2 {
		t.Errorf("discovery requests = %d, want 2", got)
	}
	if got := p.TokenRequests(); got != 2 {
		t.Errorf("token requests = %d, want 2", got)
	}
	if got := p.AuthorizeRequests(); got != 4 {
		t.Errorf("authorize requests = %d, want 4", got)
	}

	for _, bad := range []struct {
		endpoint string
		status   int
	}{{"nope", 500}, {EndpointToken, 200}, {EndpointToken, 302}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("FailNext(%q, %d) did not panic", bad.endpoint, bad.status)
				}
			}()
			p.FailNext(bad.endpoint, bad.status)
		}()
	}
}

func TestLastAuthorizeAndCounters(t *testing.T) {
	t.Parallel()
	srv := startIdP(t, nil)
	p := srv.Provider
	if p.LastAuthorize() != nil || p.AuthorizeRequests() != 0 {
		t.Fatal("fresh provider has authorize history")
	}
	r := appRP(t, srv)
	f := newFlow()
	html := body(t, get(t, r.authURL(f, oauth2.SetAuthURLParam("ui_locales", "fr"))))
	postForm(t, srv.URL+"/authorize", url.Values{"login": {loginID(t, html)}, "user": {"bob"}}, nil)

	got := p.LastAuthorize()
	if got.Get("state") != f.state || got.Get("nonce") != f.nonce || got.Get("ui_locales") != "fr" || got.Get("code_challenge_method") != "S256" {
		t.Errorf("LastAuthorize = %v", got)
	}
	got.Set("state", "changed")
	if p.LastAuthorize().Get("state") != f.state {
		t.Error("LastAuthorize returned shared state")
	}
	if p.AuthorizeRequests() != 1 || p.Requests(EndpointAuthorize) != 2 {
		t.Errorf("AuthorizeRequests %d (want 1), Requests(authorize) %d (want 2)", p.AuthorizeRequests(), p.Requests(EndpointAuthorize))
	}
}

func TestAddUserAndAutoLogin(t *testing.T) {
	t.Parallel()
	srv := startIdP(t, func(o *Options) { o.Users = []User{} })
	p := srv.Provider
	if len(p.Users()) != 0 {
		t.Fatalf("users = %v", p.Users())
	}
	err := p.AddUser(User{Subject: "fixed-sub", Username: "mallory", Email: "m@example.com", Groups: []string{"ops"}, Extra: map[string]any{"tenant": "t1", "amr": []string{"pwd"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AddUser(User{Username: "bad name"}); err == nil {
		t.Error("AddUser accepted a bad username")
	}
	_ = p.SetAutoLogin("Mallory")
	r := appRP(t, srv)
	idt, err := r.verifier.Verify(context.Background(), idToken(t, r.login(t, srv, newFlow())))
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	_ = idt.Claims(&c)
	if idt.Subject != "fixed-sub" || c["tenant"] != "t1" || c["email_verified"] != false || c["groups"] == nil {
		t.Errorf("claims = %v", c)
	}
}

// TestConcurrentUse runs flows while hooks change, for the race detector.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	srv, r := aliceApp(t)
	p := srv.Provider
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 3 {
				f := newFlow()
				resp, err := noRedirects.Get(r.authURL(f))
				if err != nil {
					t.Errorf("authorize: %v", err)
					return
				}
				resp.Body.Close()
				loc, err := url.Parse(resp.Header.Get("Location"))
				if err != nil {
					t.Errorf("Location: %v", err)
					return
				}
				tok, err := r.config.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(f.verifier))
				if err != nil {
					t.Errorf("Exchange: %v", err)
					return
				}
				raw, _ := tok.Extra("id_token").(string)
				if _, err := r.verifier.Verify(context.Background(), raw); err != nil {
					t.Errorf("Verify: %v", err)
				}
			}
		})
		wg.Go(func() {
			p.MutateIDToken(func(c map[string]any) { c["i"] = i })
			_ = p.AddUser(User{Username: "alice", Email: "alice@example.com", EmailVerified: true})
			_ = p.LastAuthorize()
			_ = p.TokenRequests()
			_ = p.JWKS()
		})
	}
	wg.Wait()
}
