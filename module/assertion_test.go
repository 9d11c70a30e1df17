package module

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
)

// The assertion is signed with assertion_key, and the JWKS publishes it
// and the previous keys; without assertion_key the key comes from the
// secret, with previous keys published besides it too.
func TestProvisionAssertionKeys(t *testing.T) {
	providerEnv(t)
	dir := t.TempDir()
	current, key := testsupport.WriteECKey(t, dir, "current.pem")
	previous, old := testsupport.WriteECKey(t, dir, "previous.pem")
	secret := strings.Repeat("s", 40)
	jwksOf := func(h *Handler) jose.JSONWebKeySet {
		t.Helper()
		ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
		defer cancel()
		if err := h.Provision(ctx); err != nil {
			t.Fatal(err)
		}
		defer h.Cleanup()
		body, _ := h.gate.Assertion.JWKS()
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(body, &set); err != nil {
			t.Fatal(err)
		}
		return set
	}
	set := jwksOf(&Handler{Secret: secret, AssertionKey: current, PreviousAssertionKeys: []string{previous}, ProvidersRaw: oidcProvider()})
	if len(set.Keys) != 2 || !set.Keys[0].Key.(*ecdsa.PublicKey).Equal(&key.PublicKey) || !set.Keys[1].Key.(*ecdsa.PublicKey).Equal(&old.PublicKey) {
		t.Fatalf("JWKS with assertion_key and a previous key: %+v", set.Keys)
	}
	derived := jwksOf(&Handler{Secret: secret, ProvidersRaw: oidcProvider()})
	withPrevious := jwksOf(&Handler{Secret: secret, PreviousAssertionKeys: []string{previous}, ProvidersRaw: oidcProvider()})
	if len(derived.Keys) != 1 || len(withPrevious.Keys) != 2 || withPrevious.Keys[0].KeyID != derived.Keys[0].KeyID {
		t.Fatalf("derived key: %+v; with a previous key: %+v", derived.Keys, withPrevious.Keys)
	}

	// Rotating the secret keeps the previous secret's derived key in the
	// JWKS (assertions already upstream keep verifying); with assertion_key
	// the secrets sign nothing, so they add no key.
	newSecret := strings.Repeat("n", 40)
	rotated := jwksOf(&Handler{Secret: newSecret, PreviousSecrets: []string{secret}, ProvidersRaw: oidcProvider()})
	fresh := jwksOf(&Handler{Secret: newSecret, ProvidersRaw: oidcProvider()})
	if len(rotated.Keys) != 2 || rotated.Keys[0].KeyID != fresh.Keys[0].KeyID || rotated.Keys[1].KeyID != derived.Keys[0].KeyID {
		t.Fatalf("after rotating the secret: %+v; want the new key, then the previous secret's", rotated.Keys)
	}
	if k := jwksOf(&Handler{Secret: newSecret, PreviousSecrets: []string{secret}, AssertionKey: current, ProvidersRaw: oidcProvider()}); len(k.Keys) != 1 {
		t.Fatalf("with assertion_key, previous secrets added keys: %+v", k.Keys)
	}
}

func TestProvisionAssertionKeyErrors(t *testing.T) {
	providerEnv(t)
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	secret := strings.Repeat("s", 40)
	for name, c := range map[string]struct {
		h    Handler
		want string
	}{
		"missing key file":      {Handler{AssertionKey: filepath.Join(dir, "nope.pem")}, "assertion_key: open"},
		"not a key":             {Handler{AssertionKey: garbage}, "assertion_key " + garbage + ": no PEM private key"},
		"missing previous file": {Handler{PreviousAssertionKeys: []string{filepath.Join(dir, "nope.pem")}}, "previous_assertion_keys: open"},
		"previous not a key":    {Handler{PreviousAssertionKeys: []string{garbage}}, "previous_assertion_keys " + garbage + ": no PEM public or private key"},
	} {
		t.Run(name, func(t *testing.T) {
			h := c.h
			h.Secret, h.ProvidersRaw = secret, oidcProvider()
			if err := provision(&h); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one mentioning %q", err, c.want)
			}
		})
	}
}
