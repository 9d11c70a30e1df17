package caddyfile_test

import (
	"testing"

	cf "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	gcf "github.com/gatehouse-auth/gatehouse/caddyfile"
)

// FuzzParse feeds the gatehouse directive arbitrary blocks: the parser
// never panics, and what it accepts has a secret and a way to sign in.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"gatehouse {\n\tsecret 0123456789abcdef0123456789abcdef\n\tprovider oidc {\n\t\tissuer https://login.example.com\n\t\tclient_id c\n\t}\n}",
		"gatehouse {\n\tsecret 0123456789abcdef0123456789abcdef\n\tnango {\n\t\tsecret_key k\n\t\twebhook_secret w\n\t}\n}",
		"gatehouse {\n\tsecret 0123456789abcdef0123456789abcdef\n\tprovider oauth2 x {\n\t\tclaims {\n\t\t\tid a.b\n\t\t}\n\t}\n}",
		"gatehouse {\n\tconnection g {\n\t\ttype oauth1\n\t}\n}",
		"gatehouse {\n\tstore redis {\n\t\taddress a:1 b:2\n\t\tmaster_name m\n\t}\n}",
		"gatehouse /x/* {\n\theaders {\n\t\tuser off\n\t}\n}",
		"gatehouse {\n\tallow email *@example.com\n\tpublic /a/* /b\n\tcookie {\n\t\tsame_site none\n\t}\n}",
		"gatehouse {\n\t}\n}\n{",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, input string) {
		tokens, err := cf.Tokenize([]byte(input), "Caddyfile")
		if err != nil || len(tokens) == 0 {
			return
		}
		d := cf.NewDispenser(tokens)
		if !d.Next() || d.Val() != "gatehouse" {
			return
		}
		h, err := gcf.Parse(d)
		if err != nil {
			return
		}
		if h.Secret == "" || len(h.ProvidersRaw) == 0 && h.Nango == nil {
			t.Fatalf("accepted a configuration without a secret or a sign-in:\n%s", input)
		}
	})
}
