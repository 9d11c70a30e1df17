package caddyfile_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	cf "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	gcf "github.com/gatehouse-auth/gatehouse/caddyfile"
)

// lit is the secret written literally in the cases below; each case holds
// it exactly once.
const lit = "Lit3ral-Secret-Value-0123456789abcdef"

// Placeholder versions of the blocks the cases need, so that only the
// literal under test warns.
const (
	phSecret   = "secret {env.GATEHOUSE_SECRET}"
	phProvider = "provider oidc {\nissuer https://login.example.com\nclient_id c\nclient_secret {env.OIDC_CLIENT_SECRET}\n}"
)

// literalSecrets lists every subdirective that holds a secret, each with a
// Caddyfile body (of inSite) where that secret, and only it, is written
// literally.
var literalSecrets = []struct {
	name, subdirective, body string
}{
	{"secret", "secret", "secret " + lit + "\n" + phProvider},
	{"connections_secret", "connections_secret", phSecret + "\n" + phProvider +
		"\nconnection whoop {\ntype oauth2\nauth_url https://w.example.com/auth\ntoken_url https://w.example.com/token\nclient_id c\n" +
		"client_secret {env.WHOOP_CLIENT_SECRET}\n}\nconnections_secret " + lit},
	{"provider oidc client_secret", "provider client_secret", phSecret +
		"\nprovider oidc {\nissuer https://login.example.com\nclient_id c\nclient_secret " + lit + "\n}"},
	{"provider github client_secret", "provider client_secret", phSecret +
		"\nprovider github {\nclient_id c\nclient_secret " + lit + "\n}"},
	{"provider google client_secret", "provider client_secret", phSecret +
		"\nprovider google {\nclient_id c\nclient_secret " + lit + "\n}"},
	{"provider oauth2 client_secret", "provider client_secret", phSecret +
		"\nprovider oauth2 corp {\nauth_url https://o.example.com/auth\ntoken_url https://o.example.com/token\n" +
		"userinfo_url https://o.example.com/user\nclient_id c\nclient_secret " + lit + "\n}"},
	{"provider gitlab client_secret", "provider client_secret", phSecret +
		"\nprovider gitlab {\nclient_id c\nclient_secret " + lit + "\n}"},
	{"github_app client_secret", "github_app client_secret", phSecret + "\n" + phProvider +
		"\ngithub_app {\nclient_id c\nclient_secret " + lit + "\nwebhook_secret {env.GITHUB_WEBHOOK_SECRET}\n}"},
	{"github_app webhook_secret", "github_app webhook_secret", phSecret + "\n" + phProvider +
		"\ngithub_app {\nclient_id c\nclient_secret {env.GITHUB_APP_CLIENT_SECRET}\nwebhook_secret " + lit + "\n}"},
	{"nango secret_key", "nango secret_key", phSecret +
		"\nnango {\nsecret_key " + lit + "\nwebhook_secret {env.NANGO_WEBHOOK_SECRET}\n}"},
	{"nango webhook_secret", "nango webhook_secret", phSecret +
		"\nnango {\nsecret_key {env.NANGO_SECRET_KEY}\nwebhook_secret " + lit + "\n}"},
	{"nango previous_webhook_secret", "nango previous_webhook_secret", phSecret +
		"\nnango {\nsecret_key {env.NANGO_SECRET_KEY}\nwebhook_secret {env.NANGO_WEBHOOK_SECRET}\nprevious_webhook_secret " + lit + "\n}"},
	{"connection oauth1 consumer_secret", "connection consumer_secret", phSecret + "\n" + phProvider +
		"\nconnection garmin {\ntype oauth1\nrequest_token_url https://g.example.com/request\nauthorize_url https://g.example.com/authorize\n" +
		"access_token_url https://g.example.com/access\nconsumer_key k\nconsumer_secret " + lit + "\n}"},
	{"connection oauth2 client_secret", "connection client_secret", phSecret + "\n" + phProvider +
		"\nconnection whoop {\ntype oauth2\nauth_url https://w.example.com/auth\ntoken_url https://w.example.com/token\nclient_id c\n" +
		"client_secret " + lit + "\n}"},
	{"store redis password", "store redis password", phSecret + "\n" + phProvider +
		"\nstore redis {\naddress 127.0.0.1:6379\nusername gatehouse\npassword " + lit + "\n}"},
	{"store redis sentinel_password", "store redis sentinel_password", phSecret + "\n" + phProvider +
		"\nstore redis {\naddress 127.0.0.1:26379 127.0.0.1:26380\nmaster_name mymaster\npassword {env.REDIS_PASSWORD}\nsentinel_password " + lit + "\n}"},
	{"store redis <url> with a password", "store redis", phSecret + "\n" + phProvider +
		"\nstore redis redis://gatehouse:" + lit + "@127.0.0.1:6379/0"},
	{"store redis <url> with only a password", "store redis", phSecret + "\n" + phProvider +
		"\nstore redis rediss://:" + lit + "@redis.example.com:6380"},
	{"store redis url with a password", "store redis url", phSecret + "\n" + phProvider +
		"\nstore redis {\nurl redis://gatehouse:" + lit + "@127.0.0.1:6379/2\n}"},
}

// adaptCapturing adapts a Caddyfile (as `caddy fmt` would write it, so the
// adapter adds no formatting warning) and returns the warnings logged by
// the gatehouse directive. It fails t if adapting fails or the adapter
// returns warnings of its own.
func adaptCapturing(t *testing.T, body string) (string, []observer.LoggedEntry) {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	defer gcf.SetWarnLogger(zap.New(core))()
	text := string(cf.Format([]byte(inSite(body))))
	_, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(text), map[string]any{"filename": "Caddyfile"})
	if err != nil {
		t.Fatalf("adapting:\n%s\n%v", text, err)
	}
	// The literal-secret warnings go to the log, not to the adapter's list,
	// which tests that load Caddyfiles (caddytest.TryLoadCaddyfile) refuse.
	if len(warnings) > 0 {
		t.Errorf("adapter warnings %v, want none", warnings)
	}
	return text, logs.All()
}

// TestLiteralSecretWarns: each secret written literally draws exactly one
// warning, at its own line, naming the subdirective but not the secret.
func TestLiteralSecretWarns(t *testing.T) {
	for _, c := range literalSecrets {
		t.Run(c.name, func(t *testing.T) {
			text, entries := adaptCapturing(t, c.body)
			if len(entries) != 1 {
				t.Fatalf("%d warnings, want 1: %v", len(entries), entries)
			}
			line := 0
			for i, l := range strings.Split(text, "\n") {
				if strings.Contains(l, lit) {
					line = i + 1
				}
			}
			e := entries[0]
			fields := e.ContextMap()
			if e.Level != zapcore.WarnLevel {
				t.Errorf("level %v, want warn", e.Level)
			}
			if fields["subdirective"] != c.subdirective || fields["file"] != "Caddyfile" || fields["line"] != int64(line) {
				t.Errorf("fields %v, want subdirective %q, file Caddyfile, line %d", fields, c.subdirective, line)
			}
			for _, want := range []string{"Caddyfile:" + strconv.Itoa(line) + ": ", "gatehouse " + c.subdirective, "written literally",
				"debug level", "{env.", "{file./run/secrets/", "{$VAR}"} {
				if !strings.Contains(e.Message, want) {
					t.Errorf("message %q does not contain %q", e.Message, want)
				}
			}
			for _, part := range []string{lit, lit[:12], lit[len(lit)-12:]} {
				if strings.Contains(e.Message, part) {
					t.Errorf("message %q gives the secret away", e.Message)
				}
				for k, v := range fields {
					if strings.Contains(fmt.Sprint(v), part) {
						t.Errorf("field %s = %v gives the secret away", k, v)
					}
				}
			}
		})
	}
}

// TestLiteralSecretEnvVar: {$VAR} is substituted when the Caddyfile is
// read, before the directive is parsed, so it is indistinguishable from a
// literal and warns too.
func TestLiteralSecretEnvVar(t *testing.T) {
	t.Setenv("GATEHOUSE_TEST_LITERAL_SECRET", lit)
	_, entries := adaptCapturing(t, "secret {$GATEHOUSE_TEST_LITERAL_SECRET}\n"+phProvider)
	if len(entries) != 1 || entries[0].ContextMap()["subdirective"] != "secret" {
		t.Fatalf("warnings %v, want one for secret", entries)
	}
}

// TestPlaceholderSecretsDoNotWarn: secrets given as {env.*} or {file.*}
// placeholders, and values that are not secrets, draw no warning.
func TestPlaceholderSecretsDoNotWarn(t *testing.T) {
	for _, ph := range []string{"{env.GATEHOUSE_TEST_%s}", "{file./run/secrets/%s}"} {
		// Each literal secret of the table, replaced by the placeholder.
		for _, c := range literalSecrets {
			v := strings.ReplaceAll(ph, "%s", strings.ReplaceAll(c.subdirective, " ", "_"))
			t.Run(c.name+" as "+v, func(t *testing.T) {
				if _, entries := adaptCapturing(t, strings.ReplaceAll(c.body, lit, v)); len(entries) != 0 {
					t.Errorf("warnings %v, want none", entries)
				}
			})
		}
	}
	for name, body := range map[string]string{
		"redis URL from a placeholder":        phSecret + "\n" + phProvider + "\nstore redis {env.REDIS_URL}",
		"redis URL without a password":        phSecret + "\n" + phProvider + "\nstore redis redis://gatehouse@127.0.0.1:6379/0",
		"redis URL with an empty password":    phSecret + "\n" + phProvider + "\nstore redis redis://gatehouse:@127.0.0.1:6379/0",
		"redis URL without user info":         phSecret + "\n" + phProvider + "\nstore redis {\nurl rediss://redis.example.com:6380/1\n}",
		"literal values that are not secrets": "secret {file./run/secrets/gatehouse}\nprovider github {\nclient_id Iv1.0123456789abcdef\nclient_secret {env.GITHUB_CLIENT_SECRET}\nlabel \"GitHub\"\n}\nstore redis {\naddress 127.0.0.1:6379\nusername gatehouse\nkey_prefix gh:\n}",
		"placeholder inside a longer value":   "secret prefix-{env.GATEHOUSE_SECRET}\n" + phProvider,
	} {
		t.Run(name, func(t *testing.T) {
			if _, entries := adaptCapturing(t, body); len(entries) != 0 {
				t.Errorf("warnings %v, want none", entries)
			}
		})
	}
}

// TestLiteralSecretsEachWarn: several literal secrets in one Caddyfile
// draw one warning each, in file order.
func TestLiteralSecretsEachWarn(t *testing.T) {
	body := "secret " + lit + "\nprovider github {\nclient_id c\nclient_secret " + lit + "\n}\n" +
		"nango {\nsecret_key " + lit + "\nwebhook_secret " + lit + "\nprevious_webhook_secret {env.P}\nlogin_integration off\n}\n" +
		"store redis redis://:" + lit + "@127.0.0.1:6379"
	_, entries := adaptCapturing(t, body)
	var got []string
	for _, e := range entries {
		got = append(got, e.ContextMap()["subdirective"].(string)+"@"+strconv.FormatInt(e.ContextMap()["line"].(int64), 10))
	}
	want := "secret@3 provider client_secret@6 nango secret_key@9 nango webhook_secret@10 store redis@14"
	if strings.Join(got, " ") != want {
		t.Errorf("warnings at %v, want %s", got, want)
	}
}
