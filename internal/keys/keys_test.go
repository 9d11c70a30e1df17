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

// A ring made with previous secrets makes with the current secret and
// accepts what the previous ones made; without them, it does not.
func TestRotation(t *testing.T) {
	oldS, newS := strings.Repeat("o", 40), strings.Repeat("n", 40)
	old, _ := Derive(oldS)
	rotated, err := Derive(newS, oldS)
	if err != nil {
		t.Fatal(err)
	}
	dropped, _ := Derive(newS)
	data := []byte("id")
	sealedOld := old.Seal([]byte("v"), []byte("k"))
	if got, err := rotated.Open(sealedOld, []byte("k")); err != nil || string(got) != "v" {
		t.Fatalf("rotated ring cannot open the previous secret's record: %v", err)
	}
	if _, err := dropped.Open(sealedOld, []byte("k")); err != ErrDecrypt {
		t.Fatal("the previous secret's record opens after the secret was dropped")
	}
	if _, err := rotated.Open(sealedOld, []byte("j")); err != ErrDecrypt {
		t.Fatal("a previous secret's record opens under another aad")
	}
	if _, err := old.Open(rotated.Seal([]byte("v"), []byte("k")), []byte("k")); err != ErrDecrypt {
		t.Fatal("the rotated ring seals with the previous secret")
	}
	for name, c := range map[string]struct {
		mac   func(*Ring, []byte) []byte
		check func(*Ring, []byte, []byte) bool
	}{
		"token": {(*Ring).TokenMAC, (*Ring).CheckTokenMAC},
		"csrf":  {(*Ring).CSRFMAC, (*Ring).CheckCSRFMAC},
	} {
		m := c.mac(old, data)[:16]
		if !c.check(rotated, data, m) || !c.check(rotated, data, c.mac(rotated, data)[:16]) {
			t.Fatalf("%s: rotated ring refuses a MAC of the current or previous secret", name)
		}
		if c.check(dropped, data, m) || c.check(rotated, []byte("other"), m) || c.check(rotated, data, m[:8]) {
			t.Fatalf("%s: accepted what it must not", name)
		}
	}
	if _, err := Derive(newS, newS); err == nil {
		t.Fatal("the current secret accepted as a previous one")
	}
	if _, err := Derive(newS, "short"); err == nil || !strings.Contains(err.Error(), "previous secret 1") {
		t.Fatalf("short previous secret: %v", err)
	}
}
