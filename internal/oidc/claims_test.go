package oidc

import (
	"reflect"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/provider"
)

func TestEmailOnlyWhenVerified(t *testing.T) {
	cases := []struct {
		verified any
		want     string
	}{
		{true, "a@example.com"},
		{"true", "a@example.com"},
		{"TRUE", "a@example.com"},
		{false, ""},
		{"false", ""},
		{nil, ""},
		{1, ""},
		{"yes", ""},
	}
	for _, c := range cases {
		id := (&claims{Email: "a@example.com", EmailVerified: c.verified}).identity("sub")
		if id.Email != c.want || id.EmailVerified != (c.want != "") {
			t.Errorf("email_verified=%#v: email %q verified %v", c.verified, id.Email, id.EmailVerified)
		}
	}
}

func TestIdentityFields(t *testing.T) {
	c := claims{PreferredUsername: "", Nickname: "nick", Name: "N", Picture: "p", Groups: []any{"a", 3, "", "b"}}
	id := c.identity("s1")
	want := &provider.Identity{Subject: "s1", Username: "nick", Name: "N", Picture: "p", Groups: []string{"a", "b"}}
	if !reflect.DeepEqual(id, want) {
		t.Fatalf("identity = %+v", id)
	}
	if g := provider.Strings("solo"); !reflect.DeepEqual(g, []string{"solo"}) {
		t.Fatalf("single-string groups = %v", g)
	}
}

func TestNewValidates(t *testing.T) {
	for _, c := range []Config{
		{Issuer: "", ClientID: "x"},
		{Issuer: "ftp://x", ClientID: "x"},
		{Issuer: "https://x"},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
	p, err := New(Config{Issuer: "https://x", ClientID: "c", Scopes: []string{"email"}})
	if err != nil || p.cfg.Scopes[0] != "openid" {
		t.Fatalf("openid scope not added: %v %v", err, p.cfg.Scopes)
	}
}
