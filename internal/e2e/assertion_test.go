package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
)

// The upstream receives X-Auth-Jwt, an ES256 assertion that verifies
// against {prefix}/jwks.json with iss = the site, aud = the request host,
// sub = the user id, and exp within five minutes.
func TestAssertionVerifiesAgainstJWKS(t *testing.T) {
	load(t, config{})
	echo, tok := login(t, browsertest.NewBrowser(t), "/")
	raw := http.Header(echo.Headers).Get("X-Auth-Jwt")
	if raw == "" {
		t.Fatal("no X-Auth-Jwt upstream")
	}
	resp := request(t, "GET", "/.gatehouse/jwks.json", "", nil, "")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age") || resp.Header.Get("ETag") == "" {
		t.Fatalf("jwks: %d %v", resp.StatusCode, resp.Header)
	}
	if code := status(t, request(t, "GET", "/.gatehouse/jwks.json", "", map[string]string{"If-None-Match": resp.Header.Get("ETag")}, "")); code != http.StatusNotModified {
		t.Fatalf("jwks revalidation: %d", code)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	// iat and exp are JSON integers (NumericDate without a fraction).
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var rawClaims map[string]json.RawMessage
	if err := json.Unmarshal(payload, &rawClaims); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"iat", "exp"} {
		if _, err := strconv.ParseInt(string(rawClaims[c]), 10, 64); err != nil {
			t.Errorf("%s = %s, want an integer", c, rawClaims[c])
		}
	}
	keys := set.Key(parsed.Headers[0].KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q not published", parsed.Headers[0].KeyID)
	}
	var claims jwt.Claims
	var id struct {
		Login    string `json:"login"`
		Email    string `json:"email"`
		Provider string `json:"provider"`
	}
	if err := parsed.Claims(keys[0].Key, &claims, &id); err != nil {
		t.Fatalf("signature: %v", err)
	}
	host := strings.TrimPrefix(site, "http://")
	err = claims.Validate(jwt.Expected{Issuer: site, AnyAudience: jwt.Audience{host},
		Subject: http.Header(echo.Headers).Get("X-Auth-User-Id"), Time: time.Now()})
	if err != nil {
		t.Fatalf("claims %+v: %v", claims, err)
	}
	if claims.Expiry.Time().Sub(claims.IssuedAt.Time()) > 5*time.Minute || id.Login != "alice" || id.Email != "alice@example.com" {
		t.Fatalf("claims %+v %+v", claims, id)
	}
	// A client-sent assertion never reaches the upstream.
	req := map[string]string{"X-Auth-Jwt": "forged", "x_auth_jwt": "forged"}
	status(t, request(t, "GET", "/public/x", "", req, ""))
	if got := upstream.Last().Header.Values("X-Auth-Jwt"); len(got) != 0 {
		t.Fatalf("forged assertion reached a public route: %v", got)
	}
	status(t, request(t, "GET", "/", tok, req, ""))
	if got := upstream.Last().Header.Values("X-Auth-Jwt"); len(got) != 1 || got[0] == "forged" {
		t.Fatalf("assertion upstream: %v", got)
	}
}

// afterReload reports whether done holds once the reloaded config
// answers, within 5 s. Caddy's /load returns once the old servers have
// begun to shut down, not finished: for a moment a kept-alive (or just
// accepted) connection may still reach the old config, or be closed
// under the request. Idle connections are dropped before each try, and a
// try that fails on the connection (err) is made again.
func afterReload(b *browsertest.Browser, done func() (bool, error)) bool {
	deadline := time.Now().Add(5 * time.Second)
	for {
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		b.CloseIdleConnections()
		if ok, err := done(); ok && err == nil {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tryUpstreamHeaders is upstreamHeaders that returns a connection error.
func tryUpstreamHeaders(b *browsertest.Browser, path string) (http.Header, error) {
	resp, err := b.Do(getWithSession(site+path, ""))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var echo testsupport.Echo
	if err := json.NewDecoder(resp.Body).Decode(&echo); err != nil {
		return nil, fmt.Errorf("GET %s: %d: %w", path, resp.StatusCode, err)
	}
	return http.Header(echo.Headers), nil
}

// tryJWKS fetches the site's JWKS, returning a connection error.
func tryJWKS() (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	resp, err := http.Get(site + "/.gatehouse/jwks.json")
	if err != nil {
		return set, err
	}
	defer resp.Body.Close()
	return set, json.NewDecoder(resp.Body).Decode(&set)
}

// verifiesWith reports whether raw verifies with a key of set under the
// kid it names (ES256 only).
func verifiesWith(set jose.JSONWebKeySet, raw string) bool {
	_, ok := claimsWith(set, raw)
	return ok
}

// claimsWith returns the claims of raw if it verifies with set.
func claimsWith(set jose.JSONWebKeySet, raw string) (map[string]any, bool) {
	parsed, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil || len(parsed.Headers) != 1 {
		return nil, false
	}
	keys := set.Key(parsed.Headers[0].KeyID)
	var claims map[string]any
	return claims, len(keys) == 1 && parsed.Claims(keys[0].Key, &claims) == nil
}

// getWithSession is a GET of url with the session cookie tok ("" for none).
func getWithSession(url, tok string) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if tok != "" {
		req.AddCookie(&http.Cookie{Name: cookieName, Value: tok})
	}
	return req
}

// jwtKeyID returns the kid an assertion names.
func jwtKeyID(t *testing.T, raw string) string {
	t.Helper()
	parsed, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	return parsed.Headers[0].KeyID
}

// verifiesAgainstJWKS reports whether raw verifies with a key the site's
// /jwks.json publishes under the kid it names.
func verifiesAgainstJWKS(t *testing.T, raw string) bool {
	t.Helper()
	_, ok := verifiedClaims(t, raw)
	return ok
}

// jwtClaims returns the claims of an assertion that verifies against the
// site's JWKS, failing the test otherwise.
func jwtClaims(t *testing.T, raw string) map[string]any {
	t.Helper()
	claims, ok := verifiedClaims(t, raw)
	if !ok {
		t.Fatalf("X-Auth-Jwt %q does not verify against the JWKS", raw)
	}
	return claims
}

func verifiedClaims(t *testing.T, raw string) (map[string]any, bool) {
	t.Helper()
	set, err := tryJWKS()
	if err != nil {
		t.Fatal(err)
	}
	return claimsWith(set, raw)
}

// A key rotation as an operator does it: the site signs with key A; a
// reload makes B the assertion_key with A in previous_assertion_keys. The
// assertion A signed before the reload still verifies against the JWKS,
// and new ones are signed with B. Dropping A later retires its
// assertions.
func TestAssertionKeyRotationOnReload(t *testing.T) {
	dir := t.TempDir()
	keyA, _ := testsupport.WriteECKey(t, dir, "a.pem")
	keyB, _ := testsupport.WriteECKey(t, dir, "b.pem")
	c := config{admin: true, extra: "assertion_key " + keyA}
	load(t, c)
	b := browsertest.NewBrowser(t)
	echo, tok := login(t, b, "/")
	signedByA := http.Header(echo.Headers).Get("X-Auth-Jwt")
	if signedByA == "" || !verifiesAgainstJWKS(t, signedByA) {
		t.Fatalf("assertion before the rotation: %q", signedByA)
	}

	// After each reload every check runs again until the reloaded config
	// answers them all (see afterReload); a connection the old server
	// closes on its way out is retried, not failed.
	c.extra = "assertion_key " + keyB + "\n\t\tprevious_assertion_keys " + keyA
	caddyReload(t, adminAddr, c.caddyfile())
	var signedByB string
	var why string
	if !afterReload(b, func() (bool, error) {
		h, err := tryUpstreamHeaders(b, "/after-rotation")
		if err != nil {
			return false, err
		}
		signedByB = h.Get("X-Auth-Jwt")
		set, err := tryJWKS()
		if err != nil {
			return false, err
		}
		switch {
		case signedByB == "" || jwtKeyID(t, signedByB) == jwtKeyID(t, signedByA):
			why = "after the rotation the assertion is still signed with the old key"
		case !verifiesWith(set, signedByB) || !verifiesWith(set, signedByA):
			why = "after the rotation, the new assertion or the one signed before it does not verify against the JWKS"
		default:
			return true, nil
		}
		return false, nil
	}) {
		t.Fatal(why)
	}

	c.extra = "assertion_key " + keyB
	caddyReload(t, adminAddr, c.caddyfile())
	if !afterReload(b, func() (bool, error) {
		set, err := tryJWKS()
		if err != nil {
			return false, err
		}
		switch {
		case verifiesWith(set, signedByA):
			why = "the retired key's assertion still verifies once the key is dropped"
		case !verifiesWith(set, signedByB):
			why = "the current key's assertion no longer verifies"
		default:
			resp, err := b.Do(getWithSession(site+"/", tok))
			if err != nil {
				return false, err
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true, nil
			}
			why = fmt.Sprintf("the session across the rotations: %d", resp.StatusCode)
		}
		return false, nil
	}) {
		t.Fatal(why)
	}
}
