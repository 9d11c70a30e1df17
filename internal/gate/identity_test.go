package gate

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/gatehouse-auth/gatehouse/internal/headers"
	"github.com/gatehouse-auth/gatehouse/internal/identity"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// fullUser has every field of the identity table set.
var fullUser = identity.User{
	UserID: "corp:42", Login: "alice", Email: "alice@example.com", Name: "Alice Liddell",
	Avatar: "https://img.example.com/a.png", Provider: "corp", Groups: []string{"eng", "eng/web"},
	Repos: []string{"acme/api", "acme/web"}, Connections: []string{"jira", "slack"},
}

// want is the value a field of fullUser has in headers and placeholders.
func want(f *identity.Field) string {
	if f.Value != nil {
		return f.Value(&fullUser)
	}
	return strings.Join(f.List(&fullUser), ",")
}

// projections is what one proxied request shows of the identity.
type projections struct {
	headers      http.Header
	placeholders map[string]string
	claims       map[string]any
}

// proxied signs fullUser in on g and sends one request upstream,
// returning what the upstream saw.
func proxied(t *testing.T, g *Gate) projections {
	t.Helper()
	tok, err := g.Sessions.Create(context.Background(), &session.Session{User: fullUser, Host: "app.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	var p projections
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		p.headers = r.Header.Clone()
		repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
		p.placeholders = map[string]string{}
		for _, f := range identity.Fields {
			v, _ := repl.GetString("http.auth.user." + f.Placeholder)
			p.placeholders[f.Placeholder] = v
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	w := serve(t, g, newRequest(http.MethodGet, "/app", false, &http.Cookie{Name: testCookie, Value: tok}), next)
	if w.Code != http.StatusNoContent {
		t.Fatalf("proxied request: %d %s", w.Code, w.Body)
	}
	if jwt := p.headers.Get(headers.DefaultJWT); jwt != "" {
		p.claims = assertionClaims(t, jwt)
	}
	return p
}

// assertionClaims reads the claims of an X-Auth-Jwt (its signature is
// the assertion package's to test).
func assertionClaims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// TestEveryFieldReachesEveryProjection: each field of the identity table
// is sent upstream in its header, published as its placeholder, carried
// in X-Auth-Jwt under its claim and shown by /userinfo under its key.
func TestEveryFieldReachesEveryProjection(t *testing.T) {
	g, _ := newTestGate(t, &stubAuth{})
	p := proxied(t, g)

	tok, _ := g.Sessions.Create(context.Background(), &session.Session{User: fullUser, Host: "app.example.com"})
	w := serve(t, g, newRequest(http.MethodGet, "/.gatehouse/userinfo", false, &http.Cookie{Name: testCookie, Value: tok}), &upstream{})
	var info map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &info); err != nil || w.Code != http.StatusOK {
		t.Fatalf("userinfo: %d %s", w.Code, w.Body)
	}

	for i := range identity.Fields {
		f := &identity.Fields[i]
		v := want(f)
		if v == "" {
			t.Fatalf("fullUser leaves %s empty", f.Key)
		}
		if got := p.headers.Get(f.Header); got != v {
			t.Errorf("header %s = %q, want %q", f.Header, got, v)
		}
		if got := p.placeholders[f.Placeholder]; got != v {
			t.Errorf("{http.auth.user.%s} = %q, want %q", f.Placeholder, got, v)
		}
		if got := flatten(p.claims[f.Claim]); got != v {
			t.Errorf("X-Auth-Jwt claim %s = %q, want %q", f.Claim, got, v)
		}
		if got := flatten(info[f.Key]); got != v {
			t.Errorf("/userinfo %s = %q, want %q", f.Key, got, v)
		}
	}
	if info["created_at"] == nil || info["expires_at"] == nil {
		t.Errorf("/userinfo lacks the session's times: %v", info)
	}
}

// TestEveryHeaderRenamesAndTurnsOff: headers { } renames each field's
// header (connections included) and off sends none; the renamed default
// is still stripped from clients.
func TestEveryHeaderRenamesAndTurnsOff(t *testing.T) {
	for _, mode := range []string{"renamed", "off"} {
		t.Run(mode, func(t *testing.T) {
			g, _ := newTestGate(t, &stubAuth{})
			names := headers.Defaults()
			for i := range identity.Fields {
				if mode == "renamed" {
					names.Rename(identity.Fields[i].Key, renamed(identity.Fields[i].Key))
				} else {
					names.Rename(identity.Fields[i].Key, "")
				}
			}
			g.Headers = headers.New(names)
			p := proxied(t, g)
			for i := range identity.Fields {
				f := &identity.Fields[i]
				if got := p.headers.Values(f.Header); len(got) != 0 {
					t.Errorf("default header %s still sent: %q", f.Header, got)
				}
				got := p.headers.Get(renamed(f.Key))
				if mode == "renamed" && got != want(f) {
					t.Errorf("%s = %q, want %q", renamed(f.Key), got, want(f))
				}
				if mode == "off" && got != "" {
					t.Errorf("%s sent while off", renamed(f.Key))
				}
				// Renaming or turning off a header changes nothing else.
				if got := p.placeholders[f.Placeholder]; got != want(f) {
					t.Errorf("{http.auth.user.%s} = %q", f.Placeholder, got)
				}
				if got := flatten(p.claims[f.Claim]); got != want(f) {
					t.Errorf("claim %s = %q", f.Claim, got)
				}
			}
		})
	}
}

// renamed is the header a test renames field key to, as the module
// canonicalises it.
func renamed(key string) string {
	return http.CanonicalHeaderKey("X-Renamed-" + strings.ReplaceAll(key, "_", "-"))
}

// flatten renders a JSON value as headers carry it: lists comma-joined.
func flatten(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		s := make([]string, len(v))
		for i, e := range v {
			s[i], _ = e.(string)
		}
		return strings.Join(s, ",")
	}
	return ""
}
