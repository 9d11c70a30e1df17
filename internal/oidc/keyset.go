package oidc

import (
	"context"
	"errors"

	"github.com/gatehouse-auth/gatehouse/internal/jwks"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
)

// keySet is the provider's key set that also tells the verification's
// caller when the keys could not be fetched. go-oidc's verifier turns
// every key set error into text ("failed to verify signature: …"), which
// would make a provider whose jwks_uri is down or slow look like a forged
// token; the failure is recorded in the context's keyFetch instead.
type keySet struct {
	remote *jwks.KeySet
}

// keyFetchKey is the context key of a *keyFetch.
type keyFetchKey struct{}

// keyFetch receives the error of a failed key fetch during one
// verification.
type keyFetch struct {
	err error
}

func (k keySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	payload, err := k.remote.VerifySignature(ctx, jwt)
	if err != nil && keyFetchFailed(err) {
		if f, ok := ctx.Value(keyFetchKey{}).(*keyFetch); ok {
			f.err = err
		}
	}
	return payload, err
}

// keyFetchFailed reports whether err, from the key set's
// VerifySignature, is a failure to get the keys (no answer, a timeout, an
// error status or an unreadable document) rather than a token that does
// not verify.
func keyFetchFailed(err error) bool {
	var fe *jwks.FetchError
	return errors.As(err, &fe) || provider.IsTimeout(err) || errors.Is(err, context.Canceled)
}
