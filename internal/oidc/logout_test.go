package oidc

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/devidp"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
)

// logoutClaims are the claims of a valid logout token as Ory Hydra sends
// them (no sub, no exp), issued at now.
func logoutClaims(now time.Time) map[string]any {
	return map[string]any{
		"iss":    "https://idp.example",
		"aud":    []string{"client"},
		"iat":    now.Unix(),
		"jti":    "j-1",
		"sid":    "s-1",
		"events": map[string]any{BackchannelLogoutEvent: map[string]any{}},
	}
}

func TestCheckLogoutClaims(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	for _, c := range []struct {
		name string
		edit func(m map[string]any)
		want string // "" = accepted, else part of the error
	}{
		{"hydra shape: sid, no sub, no exp", func(map[string]any) {}, ""},
		{"spec shape: sid, sub, exp", func(m map[string]any) { m["sub"] = "u1"; m["exp"] = now.Add(2 * time.Minute).Unix() }, ""},
		{"sub only", func(m map[string]any) { delete(m, "sid"); m["sub"] = "u1" }, ""},
		{"event with members", func(m map[string]any) {
			m["events"] = map[string]any{BackchannelLogoutEvent: map[string]any{"x": 1}, "other": true}
		}, ""},
		{"iat with a fraction", func(m map[string]any) { m["iat"] = float64(now.Unix()) + 0.5 }, ""},
		{"iat 4 min old", func(m map[string]any) { m["iat"] = now.Add(-4 * time.Minute).Unix() }, ""},
		{"iat 30 s ahead", func(m map[string]any) { m["iat"] = now.Add(30 * time.Second).Unix() }, ""},
		{"exp 30 s past (skew)", func(m map[string]any) { m["exp"] = now.Add(-30 * time.Second).Unix() }, ""},

		{"no iat", func(m map[string]any) { delete(m, "iat") }, "no iat"},
		{"iat 6 min old", func(m map[string]any) { m["iat"] = now.Add(-6 * time.Minute).Unix() }, "ago"},
		{"iat zero", func(m map[string]any) { m["iat"] = 0 }, "ago"},
		{"iat 2 min ahead", func(m map[string]any) { m["iat"] = now.Add(2 * time.Minute).Unix() }, "future"},
		{"iat not a number", func(m map[string]any) { m["iat"] = true }, "decoding"},
		{"exp past", func(m map[string]any) { m["exp"] = now.Add(-2 * time.Minute).Unix() }, "expired"},
		{"exp zero", func(m map[string]any) { m["exp"] = 0 }, "expired"},
		{"nbf ahead", func(m map[string]any) { m["nbf"] = now.Add(10 * time.Minute).Unix() }, "not valid before"},
		{"no jti", func(m map[string]any) { delete(m, "jti") }, "no jti"},
		{"empty jti", func(m map[string]any) { m["jti"] = "" }, "no jti"},
		{"nonce", func(m map[string]any) { m["nonce"] = "n" }, "nonce"},
		{"empty nonce", func(m map[string]any) { m["nonce"] = "" }, "nonce"},
		{"null nonce", func(m map[string]any) { m["nonce"] = nil }, "nonce"},
		{"no events", func(m map[string]any) { delete(m, "events") }, "events"},
		{"other event only", func(m map[string]any) {
			m["events"] = map[string]any{"http://schemas.openid.net/event/other": map[string]any{}}
		}, "events"},
		{"event true", func(m map[string]any) { m["events"] = map[string]any{BackchannelLogoutEvent: true} }, "not a JSON object"},
		{"event null", func(m map[string]any) { m["events"] = map[string]any{BackchannelLogoutEvent: nil} }, "not a JSON object"},
		{"event a list", func(m map[string]any) { m["events"] = map[string]any{BackchannelLogoutEvent: []any{}} }, "not a JSON object"},
		{"events a list", func(m map[string]any) { m["events"] = []any{BackchannelLogoutEvent} }, "decoding"},
		{"neither sid nor sub", func(m map[string]any) { delete(m, "sid") }, "neither sid nor sub"},
		{"empty sid", func(m map[string]any) { m["sid"] = "" }, "sid is empty"},
		{"empty sub", func(m map[string]any) { m["sub"] = "" }, "sub is empty"},
		{"sid a number", func(m map[string]any) { m["sid"] = 7 }, "decoding"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := logoutClaims(now)
			c.edit(m)
			payload, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			got, err := checkLogoutClaims(payload, now)
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got.ID != m["jti"] || got.IssuedAt.IsZero() {
					t.Fatalf("claims %+v", got)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted: %+v", got)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want it to mention %q", err, c.want)
			}
		})
	}

	got, err := checkLogoutClaims([]byte(`{"iat":1800000000,"exp":1800000120,"jti":"j","sid":"s","sub":"u",`+
		`"events":{"http://schemas.openid.net/event/backchannel-logout":{}}}`), now)
	if err != nil {
		t.Fatal(err)
	}
	want := provider.LogoutClaims{Session: "s", Subject: "u", ID: "j", IssuedAt: now, Expiry: now.Add(2 * time.Minute)}
	if *got != want {
		t.Fatalf("claims %+v, want %+v", *got, want)
	}
	if _, err := checkLogoutClaims([]byte(`["not","an","object"]`), now); err == nil {
		t.Fatal("a JSON list accepted as claims")
	}
}

// VerifyLogoutToken accepts the devidp's logout tokens in both forms, and
// an issuer alias, and refuses what another key, another algorithm, another
// issuer or audience, or another type of token signs.
func TestVerifyLogoutToken(t *testing.T) {
	idp := startDevIdP(t)
	p, err := New(Config{Issuer: idp.URL, ClientID: devClientID, ClientSecret: devClientSecret, IssuerAliases: []string{"idp-alias"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dp := idp.Provider
	claims := func(edit func(map[string]any)) map[string]any {
		c := dp.LogoutTokenClaims(devClientID, "sid-1", "sub-1")
		if edit != nil {
			edit(c)
		}
		return c
	}
	sign := func(c map[string]any, typ string) string {
		raw, err := dp.SignLogoutToken(c, typ)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	for name, raw := range map[string]string{
		"spec form":    sign(claims(nil), devidp.TypLogoutJWT),
		"typ in full":  sign(claims(nil), "application/logout+jwt"),
		"no typ":       sign(claims(nil), ""),
		"issuer alias": sign(claims(func(c map[string]any) { c["iss"] = "idp-alias" }), devidp.TypJWT),
		"hydra form": func() string {
			dp.SetHydraLogoutTokens(true)
			defer dp.SetHydraLogoutTokens(false)
			return sign(dp.LogoutTokenClaims(devClientID, "sid-1", ""), dp.LogoutTokenType())
		}(),
	} {
		c, err := p.VerifyLogoutToken(ctx, raw)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if c.Session != "sid-1" || c.ID == "" {
			t.Errorf("%s: claims %+v", name, c)
		}
	}

	forge := func(f devidp.SignerFunc) string {
		raw, err := f(claims(nil))
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	for name, raw := range map[string]string{
		"another key":          forge(dp.SignUnknownKid),
		"alg none":             forge(dp.SignNone),
		"HS256 with the key":   forge(dp.SignHS256WithPublicKey),
		"another issuer":       sign(claims(func(c map[string]any) { c["iss"] = "https://elsewhere.example" }), devidp.TypLogoutJWT),
		"another audience":     sign(claims(func(c map[string]any) { c["aud"] = "someone-else" }), devidp.TypLogoutJWT),
		"an access token type": sign(claims(nil), "at+jwt"),
		"an id_token":          sign(claims(func(c map[string]any) { delete(c, "events"); c["nonce"] = "n" }), devidp.TypJWT),
		"not a JWT":            "not.a.jwt",
		"empty":                "",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := p.VerifyLogoutToken(ctx, raw)
			wantCode(t, err, provider.ErrCodeInvalidLogoutToken, http.StatusBadRequest)
			if raw != "" && strings.Contains(err.Error(), raw) {
				t.Error("the error holds the token")
			}
		})
	}
}
