package providers_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/providers"
)

// Every provider type is a module of the namespace, as list-modules
// shows them.
func TestModulesRegistered(t *testing.T) {
	var got []string
	for _, m := range caddy.GetModules(providers.Namespace) {
		got = append(got, m.ID.Name())
		if _, ok := m.New().(providers.Provider); !ok {
			t.Errorf("%s is not a providers.Provider", m.ID)
		}
	}
	slices.Sort(got)
	want := []string{"feishu", "gitee", "github", "gitlab", "google", "lark", "microsoft", "oauth2", "oidc"}
	if !slices.Equal(got, want) {
		t.Fatalf("provider modules %v, want %v", got, want)
	}
}

// load provisions the module typ from its JSON object, as the handler
// does.
func load(t *testing.T, typ, object string) (providers.Provider, error) {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	mod, err := ctx.LoadModuleByID(providers.Namespace+"."+typ, json.RawMessage(object))
	if err != nil {
		return nil, err
	}
	return mod.(providers.Provider), nil
}

func TestProvisionDefaults(t *testing.T) {
	tests := []struct {
		typ, object        string
		name, label, redir string
	}{
		{"oidc", `{"issuer":"https://login.example.com","client_id":"c"}`, "oidc", "oidc", ""},
		{"oidc", `{"name":"corp","label":"Corporate","issuer":"https://login.example.com","client_id":"c","redirect_url":"https://app.example.com/cb"}`, "corp", "Corporate", "https://app.example.com/cb"},
		{"github", `{"client_id":"c","client_secret":"s"}`, "github", "GitHub", ""},
		{"github", `{"name":"ghe","client_id":"c","client_secret":"s","base_url":"https://github.example.com"}`, "ghe", "ghe", ""},
		{"google", `{"client_id":"c","client_secret":"s","hosted_domain":"example.com"}`, "google", "Google", ""},
		{"oauth2", `{"name":"fit","auth_url":"https://o.example.com/a","token_url":"https://o.example.com/t","userinfo_url":"https://o.example.com/u","client_id":"c","claims":{"id":"sub"}}`, "fit", "fit", ""},
		{"gitlab", `{"client_id":"c","client_secret":"s"}`, "gitlab", "GitLab", ""},
		{"microsoft", `{"client_id":"c","client_secret":"s","tenant":"organizations"}`, "microsoft", "Microsoft", ""},
		{"lark", `{"client_id":"c","client_secret":"s"}`, "lark", "Lark", ""},
	}
	for _, tt := range tests {
		t.Run(tt.typ+"/"+tt.name, func(t *testing.T) {
			p, err := load(t, tt.typ, tt.object)
			if err != nil {
				t.Fatal(err)
			}
			l := p.Login()
			if l.Name != tt.name || l.Label != tt.label || l.RedirectURL != tt.redir || l.Auth == nil || l.Timeout <= 0 {
				t.Fatalf("Login() = %+v", l)
			}
		})
	}
}

// Bad configuration is refused with an error that names the provider and
// says what is wrong; a field of another type is refused by name.
func TestProvisionErrors(t *testing.T) {
	tests := []struct{ typ, object, want string }{
		{"oidc", `{"name":"corp","issuer":"https://login.example.com","client_id":"{env.GATEHOUSE_PROVIDERS_TEST_UNSET}"}`,
			"gatehouse: provider corp: client_id is empty after placeholders are resolved ({env.GATEHOUSE_PROVIDERS_TEST_UNSET} unset?)"},
		{"github", `{"client_id":"c"}`, "gatehouse: provider github: client_id and client_secret are required"},
		{"github", `{"client_id":"c","client_secret":"s","base_url":"github.example.com"}`, "must be an absolute http(s) URL"},
		{"oidc", `{"issuer":"https://login.example.com","client_id":"c","timeout":"-1s"}`, "gatehouse: provider oidc: timeout -1s must not be negative"},
		{"oidc", `{"issuer":"https://login.example.com","client_id":"c","redirect_url":"/cb"}`, "redirect_url \"/cb\" must be an absolute http(s) URL"},
		{"gitlab", `{"client_id":"c","client_secret":"s","issuer":"https://x"}`, `unknown field "issuer"`},
		{"gitlab", `{"client_id":"c","client_secret":"s","tenant":"organizations"}`, "tenant"},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			_, err := load(t, tt.typ, tt.object)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
