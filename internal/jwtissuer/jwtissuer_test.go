package jwtissuer

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/session"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/fakegithub"
)

// Claims map to the identity by path; lists and numbers are read; email
// only when verified; a token without its id is refused.
func TestIdentityFromClaims(t *testing.T) {
	i, err := New(Config{Name: "ci", Issuer: "https://ci.example.com", Audiences: []string{"a"},
		Claims: map[string]string{"login": "preferred_username", "groups": "realm_access.roles", "email": "email", "repos": "repo"},
		Extra:  []string{"run_id", "env"}})
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{
		"sub": "svc-1", "preferred_username": "deployer", "email": "ci@example.com", "email_verified": true,
		"realm_access": map[string]any{"roles": []any{"deploy", "read", "deploy"}}, "repo": "acme/app",
		"run_id": float64(12345678901), "env": map[string]any{"not": "a scalar"},
	}
	s, err := i.identity(claims, time.Now(), time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if s.UserID != "ci:svc-1" || s.Login != "deployer" || s.Email != "ci@example.com" || s.Provider != "ci" ||
		strings.Join(s.Groups, ",") != "deploy,read" || strings.Join(s.Repos, ",") != "acme/app" ||
		strings.Join(s.Claims, ",") != "run_id=12345678901" {
		t.Fatalf("identity: %+v", s)
	}
	claims["email_verified"] = false
	if s, _ := i.identity(claims, time.Now(), time.Now()); s.Email != "" {
		t.Fatal("an unverified email became the identity's")
	}
	delete(claims, "sub")
	if _, err := i.identity(claims, time.Now(), time.Now()); err == nil || !strings.Contains(err.Error(), "no sub claim") {
		t.Fatalf("no id: %v", err)
	}
	claims["sub"] = []any{"a", "b"}
	if _, err := i.identity(claims, time.Now(), time.Now()); err == nil {
		t.Fatal("a list taken as the id")
	}
}

func TestConfigRefused(t *testing.T) {
	for name, c := range map[string]Config{
		"no audience":    {Name: "ci", Issuer: "https://ci.example.com"},
		"issuer not URL": {Name: "ci", Issuer: "ci.example.com", Audiences: []string{"a"}},
		"HMAC":           {Name: "ci", Issuer: "https://ci.example.com", Audiences: []string{"a"}, Algorithms: []string{"HS256"}},
		"none":           {Name: "ci", Issuer: "https://ci.example.com", Audiences: []string{"a"}, Algorithms: []string{"none"}},
		"unknown field":  {Name: "ci", Issuer: "https://ci.example.com", Audiences: []string{"a"}, Claims: map[string]string{"role": "x"}},
		"bad path":       {Name: "ci", Issuer: "https://ci.example.com", Audiences: []string{"a"}, Claims: map[string]string{"login": "a..b"}},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// A verified token is remembered until it expires, then verified again;
// a token that does not verify is never remembered.
func TestVerifiedTokensRemembered(t *testing.T) {
	actions := fakegithub.NewActions()
	defer actions.Close()
	iss, err := New(GitHubActions("github_actions", actions.BaseURL(), []string{"aud"}))
	if err != nil {
		t.Fatal(err)
	}
	set, _ := NewSet([]*Issuer{iss})
	clock := time.Now()
	set.now = func() time.Time { return clock }
	tok := actions.Token("aud", nil)
	a, ok, err := set.Authenticate(context.Background(), tok)
	if !ok || err != nil || a.Login != "octocat" {
		t.Fatalf("Authenticate = %+v, %v, %v", a, ok, err)
	}
	if b, _, _ := set.Authenticate(context.Background(), tok); b != a {
		t.Fatal("the verified token was not remembered")
	}
	clock = a.ExpiresAt
	if b, ok, err := set.Authenticate(context.Background(), tok); !ok || err != nil || b == a {
		t.Fatalf("past its expiry the token was not verified again: %v %v", ok, err)
	}
	if _, ok, err := set.Authenticate(context.Background(), actions.Token("other-aud", nil)); !ok || err == nil {
		t.Fatal("a wrong audience verified")
	}
	if set.size.Load() != 1 {
		t.Fatalf("%d tokens remembered, want 1", set.size.Load())
	}
	set.Forget(tok)
	set.Forget(tok)
	if _, kept := set.cache.Load(tok); kept || set.size.Load() != 0 {
		t.Fatalf("after Forget: kept %v, %d remembered", kept, set.size.Load())
	}
	if _, ok, _ := set.Authenticate(context.Background(), "not-a-jwt"); ok {
		t.Fatal("a token that is not a JWT was taken for the issuer's")
	}
}

// The remembered tokens stay within maxCached: expired ones are dropped
// to make room, and when none has expired a new one is not kept.
func TestRememberedBounded(t *testing.T) {
	set, _ := NewSet(nil)
	now := time.Now()
	for n := range maxCached {
		exp := now.Add(time.Hour)
		if n%2 == 0 {
			exp = now.Add(-time.Second)
		}
		set.remember(fmt.Sprint(n), &session.Session{ExpiresAt: exp}, now)
	}
	set.remember("new", &session.Session{ExpiresAt: now.Add(time.Hour)}, now)
	if got := set.size.Load(); got != maxCached/2+1 {
		t.Fatalf("%d remembered after the sweep, want %d", got, maxCached/2+1)
	}
	for n := set.size.Load(); n < maxCached; n++ {
		set.remember(fmt.Sprint("live", n), &session.Session{ExpiresAt: now.Add(time.Hour)}, now)
	}
	set.remember("one more", &session.Session{ExpiresAt: now.Add(time.Hour)}, now)
	if _, kept := set.cache.Load("one more"); kept || set.size.Load() != maxCached {
		t.Fatalf("over the bound: kept %v, size %d", kept, set.size.Load())
	}
}
