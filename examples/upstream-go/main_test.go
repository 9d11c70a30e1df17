package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const (
	issuer = "https://app.example.com"
	host   = "app.example.com"
)

// jwksServer serves a key set that a test can change, and counts fetches.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	body    []byte
	fetches atomic.Int32
}

func newJWKSServer(t *testing.T, keys map[string]*ecdsa.PrivateKey) *jwksServer {
	s := &jwksServer{}
	s.set(t, keys)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(s.body)
	}))
	t.Cleanup(s.Close)
	return s
}

// set publishes the public halves of keys, as Gatehouse's jwks.json does.
func (s *jwksServer) set(t *testing.T, keys map[string]*ecdsa.PrivateKey) {
	var set jose.JSONWebKeySet
	for kid, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"})
	}
	body, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.body = body
	s.mu.Unlock()
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// claims are an assertion's claims as Gatehouse sets them.
type claims struct {
	jwt.Claims
	Login    string   `json:"login,omitempty"`
	Email    string   `json:"email,omitempty"`
	Name     string   `json:"name,omitempty"`
	Provider string   `json:"provider,omitempty"`
	Groups   []string `json:"groups,omitempty"`
}

func validClaims(now time.Time) claims {
	return claims{
		Claims: jwt.Claims{
			Issuer:   issuer,
			Audience: jwt.Audience{host},
			Subject:  "corp:alice",
			IssuedAt: jwt.NewNumericDate(now),
			Expiry:   jwt.NewNumericDate(now.Add(5 * time.Minute)),
			ID:       "jti-1",
		},
		Login: "alice", Email: "alice@example.com", Name: "Alice", Provider: "corp", Groups: []string{"staff"},
	}
}

func sign(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, c claims) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader(jose.HeaderKey("kid"), kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// unsigned builds an "alg": "none" token, which go-jose refuses to make.
func unsigned(t *testing.T, kid string, c claims) string {
	t.Helper()
	header, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT", "kid": kid})
	payload, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc(header) + "." + enc(payload) + "."
}

type fixture struct {
	logs strings.Builder // why the app refused
	key  *ecdsa.PrivateKey
	jwks *jwksServer
	v    *Verifier
	app  http.Handler
	now  time.Time
}

func setup(t *testing.T) *fixture {
	f := &fixture{key: newKey(t), now: time.Now()}
	f.jwks = newJWKSServer(t, map[string]*ecdsa.PrivateKey{"k1": f.key})
	f.v = NewVerifier(issuer, f.jwks.URL+"/.gatehouse/jwks.json")
	f.v.Now = func() time.Time { return f.now }
	f.app = NewApp(f.v, log.New(&f.logs, "", 0))
	return f
}

// get sends a request for host with the given headers to the app.
func (f *fixture) get(t *testing.T, reqHost string, headers map[string]string) (int, string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/dashboard", nil)
	r.Host = reqHost
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	f.app.ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

func TestValidAssertionIsAccepted(t *testing.T) {
	f := setup(t)
	tok := sign(t, jose.ES256, f.key, "k1", validClaims(f.now))
	code, body := f.get(t, host, map[string]string{"X-Auth-Jwt": tok, "X-Auth-User-Id": "corp:alice", "X-Auth-User": "alice"})
	if code != http.StatusOK {
		t.Fatalf("valid token: %d %s", code, body)
	}
	var out struct {
		Identity Identity          `json:"identity"`
		Headers  map[string]string `json:"headers"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	id := out.Identity
	if id.UserID != "corp:alice" || id.Login != "alice" || id.Email != "alice@example.com" ||
		id.Provider != "corp" || len(id.Groups) != 1 || id.Groups[0] != "staff" {
		t.Fatalf("identity = %+v", id)
	}
	if out.Headers["X-Auth-User"] != "alice" {
		t.Fatalf("headers = %v", out.Headers)
	}
	// The Host is compared without regard to case, like Gatehouse sets aud.
	if code, body := f.get(t, "App.Example.COM", map[string]string{"X-Auth-Jwt": tok}); code != http.StatusOK {
		t.Fatalf("host in another case: %d %s", code, body)
	}
}

func TestInvalidAssertionsAreRefused(t *testing.T) {
	f := setup(t)
	other := newKey(t)
	withClaims := func(change func(*claims)) string {
		c := validClaims(f.now)
		change(&c)
		return sign(t, jose.ES256, f.key, "k1", c)
	}
	// Key confusion: the public key set, or the public key's bytes, used
	// as an HMAC secret.
	jwksBody := f.jwks.body
	pubBytes, err := f.key.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		token string
		host  string
		why   string // in the app's log
	}{
		"missing token": {token: "", why: "no X-Auth-Jwt"},
		"garbage":       {token: "not.a.jwt", why: "malformed"},
		"wrong aud": {token: withClaims(func(c *claims) { c.Audience = jwt.Audience{"other.example.com"} }),
			why: "audience"},
		"request for another host": {token: sign(t, jose.ES256, f.key, "k1", validClaims(f.now)),
			host: "other.example.com", why: "audience"},
		"wrong iss": {token: withClaims(func(c *claims) { c.Issuer = "https://evil.example" }), why: "issuer"},
		"expired": {token: withClaims(func(c *claims) { c.Expiry = jwt.NewNumericDate(f.now.Add(-2 * time.Minute)) }),
			why: "expired"},
		"no exp": {token: withClaims(func(c *claims) { c.Expiry = nil }), why: "without exp"},
		"issued later": {token: withClaims(func(c *claims) { c.IssuedAt = jwt.NewNumericDate(f.now.Add(10 * time.Minute)) }),
			why: "future"},
		"no sub": {token: withClaims(func(c *claims) { c.Subject = "" }), why: "or sub"},
		"HS256 with the public key as secret": {token: sign(t, jose.HS256, pubBytes, "k1", validClaims(f.now)),
			why: "malformed"},
		"HS256 with the JWKS as secret": {token: sign(t, jose.HS256, jwksBody, "k1", validClaims(f.now)),
			why: "malformed"},
		"alg none":               {token: unsigned(t, "k1", validClaims(f.now)), why: "malformed"},
		"ES384":                  {token: sign(t, jose.ES384, mustP384(t), "k1", validClaims(f.now)), why: "malformed"},
		"unknown kid":            {token: sign(t, jose.ES256, other, "k2", validClaims(f.now)), why: "unknown kid"},
		"no kid":                 {token: sign(t, jose.ES256, f.key, "", validClaims(f.now)), why: "without a kid"},
		"known kid, another key": {token: sign(t, jose.ES256, other, "k1", validClaims(f.now)), why: "signature"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h := tc.host
			if h == "" {
				h = host
			}
			headers := map[string]string{}
			if tc.token != "" {
				headers["X-Auth-Jwt"] = tc.token
			}
			f.logs.Reset()
			if code, body := f.get(t, h, headers); code != http.StatusUnauthorized {
				t.Fatalf("got %d %s, want 401", code, body)
			}
			if !strings.Contains(f.logs.String(), tc.why) {
				t.Fatalf("refused for another reason than %q: %s", tc.why, f.logs.String())
			}
		})
	}
}

func mustP384(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Identity headers a client made up are worth nothing without a valid
// assertion, and one that contradicts the assertion is refused.
func TestSpoofedHeadersAreNotTrusted(t *testing.T) {
	f := setup(t)
	spoofed := map[string]string{
		"X-Auth-User-Id": "corp:admin", "X-Auth-User": "admin", "X-Auth-Email": "admin@example.com",
		"X-Auth-Groups": "admins",
	}
	if code, body := f.get(t, host, spoofed); code != http.StatusUnauthorized || strings.Contains(body, "admin") {
		t.Fatalf("spoofed headers, no token: %d %s", code, body)
	}
	c := validClaims(f.now)
	c.Audience = jwt.Audience{"elsewhere.example.com"}
	spoofed["X-Auth-Jwt"] = sign(t, jose.ES256, f.key, "k1", c)
	if code, body := f.get(t, host, spoofed); code != http.StatusUnauthorized {
		t.Fatalf("spoofed headers with a token for another site: %d %s", code, body)
	}
	spoofed["X-Auth-Jwt"] = sign(t, jose.ES256, f.key, "k1", validClaims(f.now))
	if code, body := f.get(t, host, spoofed); code != http.StatusUnauthorized {
		t.Fatalf("X-Auth-User-Id contradicting the token: %d %s", code, body)
	}
	delete(spoofed, "X-Auth-User-Id")
	code, body := f.get(t, host, spoofed)
	var out struct {
		Identity Identity `json:"identity"`
	}
	_ = json.Unmarshal([]byte(body), &out)
	if code != http.StatusOK || out.Identity.UserID != "corp:alice" || out.Identity.Login != "alice" ||
		out.Identity.Email != "alice@example.com" || len(out.Identity.Groups) != 1 || out.Identity.Groups[0] != "staff" {
		t.Fatalf("the identity must be the token's, not the headers': %d %s", code, body)
	}
}

func TestKeySetIsCachedAndRefetchedForANewKid(t *testing.T) {
	f := setup(t)
	tok := sign(t, jose.ES256, f.key, "k1", validClaims(f.now))
	for range 5 {
		if code, body := f.get(t, host, map[string]string{"X-Auth-Jwt": tok}); code != http.StatusOK {
			t.Fatalf("%d %s", code, body)
		}
	}
	if n := f.jwks.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches for 5 requests with one kid, want 1", n)
	}

	// An unknown kid makes the verifier look again, at most once per
	// RefreshInterval: made-up kids cannot make it hammer Gatehouse.
	f.now = f.now.Add(f.v.RefreshInterval + time.Second)
	rogue := sign(t, jose.ES256, newKey(t), "made-up", validClaims(f.now))
	for range 3 {
		if code, _ := f.get(t, host, map[string]string{"X-Auth-Jwt": rogue}); code != http.StatusUnauthorized {
			t.Fatalf("unknown kid: %d", code)
		}
	}
	if n := f.jwks.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches after three unknown kids, want 2", n)
	}
	// The known kid still works meanwhile, without a fetch.
	if code, body := f.get(t, host, map[string]string{"X-Auth-Jwt": tok}); code != http.StatusOK {
		t.Fatalf("known kid after unknown ones: %d %s", code, body)
	}

	// Gatehouse now signs with a new key (its secret changed): past the
	// refresh interval, the new kid is fetched and accepted.
	k2 := newKey(t)
	f.jwks.set(t, map[string]*ecdsa.PrivateKey{"k2": k2})
	f.now = f.now.Add(f.v.RefreshInterval + time.Second)
	fresh := sign(t, jose.ES256, k2, "k2", validClaims(f.now))
	if code, body := f.get(t, host, map[string]string{"X-Auth-Jwt": fresh}); code != http.StatusOK {
		t.Fatalf("rotated key: %d %s", code, body)
	}
	if n := f.jwks.fetches.Load(); n != 3 {
		t.Fatalf("%d fetches after a rotation, want 3", n)
	}

	// A cached key set older than MaxAge is fetched again, and a key that
	// is no longer published stops working.
	f.now = f.now.Add(f.v.MaxAge)
	old := sign(t, jose.ES256, f.key, "k1", validClaims(f.now))
	if code, _ := f.get(t, host, map[string]string{"X-Auth-Jwt": old}); code != http.StatusUnauthorized {
		t.Fatalf("withdrawn key: %d", code)
	}
}

// A JWKS that cannot be fetched refuses everyone rather than letting
// anyone through.
func TestUnreachableKeySetFailsClosed(t *testing.T) {
	f := setup(t)
	f.jwks.Close()
	tok := sign(t, jose.ES256, f.key, "k1", validClaims(f.now))
	if code, _ := f.get(t, host, map[string]string{"X-Auth-Jwt": tok}); code != http.StatusUnauthorized {
		t.Fatalf("JWKS down: %d", code)
	}
}
