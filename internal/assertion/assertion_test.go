package assertion

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse-auth/gatehouse/internal/identity"
)

const secret = "assertion-test-secret-0123456789abcdef"

// verify checks tok against the signer's published JWKS, accepting only
// ES256, and returns the claims.
func verify(t *testing.T, s *Signer, tok string) (jwt.Claims, map[string]any) {
	t.Helper()
	parsed, set := parseWithJWKS(t, s, tok)
	if len(parsed.Headers) != 1 || parsed.Headers[0].KeyID != s.KeyID() {
		t.Fatalf("kid: %+v", parsed.Headers)
	}
	keys := set.Key(s.KeyID())
	if len(keys) != 1 {
		t.Fatalf("kid %s not in the JWKS", s.KeyID())
	}
	var std jwt.Claims
	var ours map[string]any
	if err := parsed.Claims(keys[0].Key, &std, &ours); err != nil {
		t.Fatalf("signature: %v", err)
	}
	return std, ours
}

// parseWithJWKS parses tok, accepting only ES256, and the JWKS s
// publishes.
func parseWithJWKS(t *testing.T, s *Signer, tok string) (*jwt.JSONWebToken, jose.JSONWebKeySet) {
	t.Helper()
	body, _ := s.JWKS()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	return parsed, set
}

func TestTokenVerifiesWithJWKS(t *testing.T) {
	s, err := New(secret)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	s.now = func() time.Time { return now }
	tok, _, err := s.Token("session-a", "https://app.example.com", "app.example.com", &identity.User{UserID: "github:1", Login: "alice", Repos: []string{"acme/api"}})
	if err != nil {
		t.Fatal(err)
	}
	std, ours := verify(t, s, tok)
	if std.Issuer != "https://app.example.com" || !std.Audience.Contains("app.example.com") || std.Subject != "github:1" || std.ID == "" {
		t.Fatalf("claims %+v", std)
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: "https://app.example.com", AnyAudience: jwt.Audience{"app.example.com"}, Time: now}, 0); err != nil {
		t.Fatal(err)
	}
	if d := std.Expiry.Time().Sub(std.IssuedAt.Time()); d != Lifetime || d > 5*time.Minute {
		t.Fatalf("lifetime %s", d)
	}
	if ours["login"] != "alice" || ours["repos"].([]any)[0] != "acme/api" {
		t.Fatalf("identity claims %+v", ours)
	}
	// iat and exp are integers, not floats.
	payload := strings.Split(tok, ".")[1]
	raw, _ := base64.RawURLEncoding.DecodeString(payload)
	if strings.Contains(string(raw), `"exp":1.`) || !strings.Contains(string(raw), `"exp":1800000300`) {
		t.Fatalf("exp not an integer: %s", raw)
	}
}

func TestSameSecretSameKeyOnEveryInstance(t *testing.T) {
	a, _ := New(secret)
	b, _ := New(secret)
	c, _ := New(secret + "-other")
	if a.KeyID() != b.KeyID() {
		t.Fatal("two instances with one secret have different keys")
	}
	if a.KeyID() == c.KeyID() {
		t.Fatal("different secrets share a key")
	}
	tok, _, _ := a.Token("s", "i", "aud", &identity.User{UserID: "sub"})
	verify(t, b, tok) // b's JWKS verifies a's assertion
	ja, ea := a.JWKS()
	if jb, eb := b.JWKS(); string(ja) != string(jb) || ea != eb {
		t.Fatal("JWKS or its ETag differ between instances")
	}
	if strings.Contains(string(ja), `"d"`) {
		t.Fatal("the JWKS publishes the private key")
	}
}

func TestTokenReusedThenRenewed(t *testing.T) {
	s, _ := New(secret)
	now := time.Unix(1_800_000_000, 0)
	s.now = func() time.Time { return now }
	first, _, _ := s.Token("s1", "i", "aud", &identity.User{UserID: "u", Login: "alice"})
	now = now.Add(30 * time.Second)
	if again, _, _ := s.Token("s1", "i", "aud", &identity.User{UserID: "u", Login: "alice"}); again != first {
		t.Fatal("not reused within the window")
	}
	if other, _, _ := s.Token("s1", "i", "aud", &identity.User{UserID: "u", Login: "alice", Repos: []string{"x/y"}}); other == first {
		t.Fatal("a changed identity reused the old assertion")
	}
	if other, _, _ := s.Token("s2", "i", "aud", &identity.User{UserID: "u", Login: "alice"}); other == first {
		t.Fatal("another session got the same assertion")
	}
	now = now.Add(61 * time.Second) // under four minutes left
	if later, _, _ := s.Token("s1", "i", "aud", &identity.User{UserID: "u", Login: "alice"}); later == first {
		t.Fatal("an assertion with under four minutes left was reused")
	}
}

// BenchmarkToken: signing is done once per session and window; the
// common case is the cached one.
func BenchmarkToken(b *testing.B) {
	s, _ := New(secret)
	c := &identity.User{UserID: "github:1", Login: "alice", Email: "alice@example.com", Provider: "github", Groups: []string{"acme"}}
	b.Run("sign", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, _, err := s.Token(string(rune(i)), "https://app.example.com", "app.example.com", c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, _, err := s.Token("one-session", "https://app.example.com", "app.example.com", c); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestEveryFieldIsAClaim: each field of the identity table reaches the
// assertion under its claim name, connections included.
func TestEveryFieldIsAClaim(t *testing.T) {
	s, _ := New(secret)
	u := &identity.User{UserID: "oidc:1", Login: "alice", Email: "alice@example.com", Name: "Alice",
		Avatar: "https://a.example/p.png", Provider: "oidc", Groups: []string{"g1", "g2"},
		Repos: []string{"acme/api"}, Connections: []string{"jira", "slack"}}
	tok, _, err := s.Token("s", "i", "aud", u)
	if err != nil {
		t.Fatal(err)
	}
	std, ours := verify(t, s, tok)
	for _, f := range identity.Fields {
		if f.Claim == "sub" {
			if std.Subject != f.Value(u) {
				t.Errorf("sub = %q, want %q", std.Subject, f.Value(u))
			}
			continue
		}
		var got string
		switch v := ours[f.Claim].(type) {
		case string:
			got = v
		case []any:
			for i, e := range v {
				if i > 0 {
					got += ","
				}
				got += e.(string)
			}
		}
		want := ""
		if f.Value != nil {
			want = f.Value(u)
		} else {
			want = strings.Join(f.List(u), ",")
		}
		if got != want {
			t.Errorf("claim %s = %q, want %q", f.Claim, got, want)
		}
	}
	// A changed connection list is a new identity: a new assertion.
	v := *u
	v.Connections = []string{"jira"}
	if again, _, _ := s.Token("s", "i", "aud", &v); again == tok {
		t.Error("the cached assertion was reused after the connections changed")
	}
}
