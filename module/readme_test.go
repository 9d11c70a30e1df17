package module

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// The README's JSON config, with the provider modules, provisions as it
// is written (with its environment variables set).
func TestREADMEJSONConfig(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var config string
	for _, m := range regexp.MustCompile("(?s)```json\n(.*?)```").FindAllStringSubmatch(string(readme), -1) {
		if strings.Contains(m[1], `"handler": "gatehouse"`) {
			config = m[1]
		}
	}
	if config == "" {
		t.Fatal("no JSON config with the gatehouse handler in the README")
	}
	var cfg struct {
		Apps struct {
			HTTP struct {
				Servers map[string]struct {
					Routes []struct {
						Handle []json.RawMessage `json:"handle"`
					} `json:"routes"`
				} `json:"servers"`
			} `json:"http"`
		} `json:"apps"`
	}
	if err := json.Unmarshal([]byte(config), &cfg); err != nil {
		t.Fatalf("the README's JSON config does not parse: %v", err)
	}
	for _, v := range []string{"GATEHOUSE_SECRET", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET"} {
		t.Setenv(v, strings.Repeat("x", 40))
	}
	found := 0
	for _, srv := range cfg.Apps.HTTP.Servers {
		for _, r := range srv.Routes {
			for _, raw := range r.Handle {
				if !strings.Contains(string(raw), `"gatehouse"`) {
					continue
				}
				found++
				var fields map[string]json.RawMessage
				_ = json.Unmarshal(raw, &fields)
				delete(fields, "handler")
				body, _ := json.Marshal(fields)
				h := new(Handler)
				if err := caddy.StrictUnmarshalJSON(body, h); err != nil {
					t.Fatalf("the README's gatehouse handler does not decode: %v", err)
				}
				if err := provision(h); err != nil {
					t.Fatalf("the README's gatehouse handler does not provision: %v", err)
				}
				if n := len(h.gate.Providers); n != 2 {
					t.Errorf("%d providers, want 2", n)
				}
			}
		}
	}
	if found != 1 {
		t.Fatalf("%d gatehouse handlers in the README's JSON config", found)
	}
}
