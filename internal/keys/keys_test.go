package keys

import (
	"bytes"
	"strings"
	"testing"
)

func TestDeriveRejectsShortSecrets(t *testing.T) {
	for _, s := range []string{"", "short", strings.Repeat("x", MinSecretLen-1)} {
		if _, err := Derive(s); err == nil || !strings.Contains(err.Error(), "at least 32") {
			t.Fatalf("Derive(%d bytes) = %v", len(s), err)
		}
	}
}

func TestSameSecretSameKeys(t *testing.T) {
	a, _ := Derive(strings.Repeat("s", 40))
	b, _ := Derive(strings.Repeat("s", 40))
	c, _ := Derive(strings.Repeat("t", 40))
	if !bytes.Equal(a.TokenMAC([]byte("x")), b.TokenMAC([]byte("x"))) {
		t.Fatal("same secret, different MAC keys")
	}
	if bytes.Equal(a.TokenMAC([]byte("x")), c.TokenMAC([]byte("x"))) {
		t.Fatal("different secrets, same MAC key")
	}
	if bytes.Equal(a.TokenMAC([]byte("x")), a.CSRFMAC([]byte("x"))) {
		t.Fatal("token and CSRF keys are the same")
	}
	sealed := a.Seal([]byte("hello"), []byte("k"))
	if got, err := b.Open(sealed, []byte("k")); err != nil || string(got) != "hello" {
		t.Fatalf("instance b cannot open what a sealed: %v", err)
	}
	for name, try := range map[string]func() error{
		"other secret": func() error { _, err := c.Open(sealed, []byte("k")); return err },
		"other aad":    func() error { _, err := a.Open(sealed, []byte("j")); return err },
		"truncated":    func() error { _, err := a.Open(sealed[:5], []byte("k")); return err },
		"tampered": func() error {
			x := append([]byte(nil), sealed...)
			x[len(x)-1] ^= 1
			_, err := a.Open(x, []byte("k"))
			return err
		},
	} {
		if try() != ErrDecrypt {
			t.Fatalf("%s: opened", name)
		}
	}
}
