package e2e

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
)

// The upstream receives X-Auth-Jwt, an ES256 assertion that verifies
// against {prefix}/jwks.json with iss = the site, aud = the request host,
// sub = the user id, and exp within five minutes.
func TestAssertionVerifiesAgainstJWKS(t *testing.T) {
	load(t, config{})
	echo, tok := login(t, testsupport.NewBrowser(t), "/")
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
