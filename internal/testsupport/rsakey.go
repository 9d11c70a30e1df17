package testsupport

import (
	"crypto/rand"
	"crypto/rsa"
	"sync"
)

// RSAKey returns a 2048-bit RSA key generated once per test binary, for
// the tests that sign with one: generating a key of their own would take
// each of them tens of milliseconds.
func RSAKey() *rsa.PrivateKey { return rsaKey() }

var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})
