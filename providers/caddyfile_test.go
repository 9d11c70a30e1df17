package providers_test

import (
	"encoding/json"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/gatehouse-auth/gatehouse/providers"
)

// Every provider module reads its own Caddyfile block (the gatehouse
// adapter relies on it), into the object the module then loads from.
func TestUnmarshalCaddyfile(t *testing.T) {
	blocks := map[string]string{
		"oidc":   "oidc corp {\nissuer https://login.example.com\nclient_id c\nscopes openid email\n}",
		"google": "google {\nclient_id c\nclient_secret s\nhosted_domain example.com\n}",
		"github": "github ghe {\nclient_id c\nclient_secret s\nbase_url https://github.example.com\ntimeout 5s\n}",
		"oauth2": "oauth2 fit {\nauth_url https://o.example.com/a\ntoken_url https://o.example.com/t\n" +
			"userinfo_url https://o.example.com/u\nclient_id c\nclaims {\nid user.id\n}\n}",
		"gitlab":    "gitlab {\nclient_id c\nclient_secret s\nbase_url https://gitlab.example.com\n}",
		"microsoft": "microsoft {\nclient_id c\nclient_secret s\ntenant organizations\n}",
		"gitee":     "gitee {\nclient_id c\nclient_secret s\n}",
		"feishu":    "feishu {\nclient_id c\nclient_secret s\n}",
		"lark":      "lark {\nclient_id c\nclient_secret s\nlabel Lark\n}",
	}
	for _, typ := range providers.Types() {
		t.Run(typ, func(t *testing.T) {
			mod, err := caddy.GetModule(providers.Namespace + "." + typ)
			if err != nil {
				t.Fatal(err)
			}
			u, ok := mod.New().(caddyfile.Unmarshaler)
			if !ok {
				t.Fatalf("%s is not a caddyfile.Unmarshaler", mod.ID)
			}
			block, ok := blocks[typ]
			if !ok {
				t.Fatalf("no test block for %s", typ)
			}
			if err := u.UnmarshalCaddyfile(caddyfile.NewTestDispenser(block)); err != nil {
				t.Fatal(err)
			}
			raw, err := json.Marshal(u)
			if err != nil {
				t.Fatal(err)
			}
			p, err := load(t, typ, string(raw))
			if err != nil {
				t.Fatalf("loading %s: %v", raw, err)
			}
			if l := p.Login(); l.Name == "" || l.Auth == nil {
				t.Fatalf("Login() = %+v", l)
			}
		})
	}
}
