// Package sealed keeps records in the store sealed: encrypted and
// authenticated with the key ring and bound to the key they are stored
// under, so what the store holds can be neither read nor moved to another
// key. Sessions, flows in progress (logins, links), linked accounts and
// the GitHub directory are all kept through it.
package sealed

import (
	"bytes"
	"context"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/keys"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Store is a store of sealed records.
type Store struct {
	Store store.Store
	Ring  *keys.Ring
}

// seal encodes v — with its MarshalBinary when it has one (a session,
// read on every request the cache does not answer), else as JSON — and
// seals it bound to key.
func (s Store) seal(v any, key string) ([]byte, error) {
	m, ok := v.(encoding.BinaryMarshaler)
	if !ok {
		return s.Ring.SealJSON(v, key)
	}
	plain, err := m.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("encoding sealed value: %w", err)
	}
	return s.Ring.Seal(plain, []byte(key)), nil
}

// open reverses seal. A value with an UnmarshalBinary also reads its
// JSON (a record written before it had one: JSON starts with '{', a
// binary encoding never does).
func (s Store) open(sealed []byte, key string, v any) error {
	u, ok := v.(encoding.BinaryUnmarshaler)
	if !ok {
		return s.Ring.OpenJSON(sealed, key, v)
	}
	plain, err := s.Ring.Open(sealed, []byte(key))
	if err != nil {
		return err
	}
	if len(plain) > 0 && plain[0] == '{' {
		return json.Unmarshal(plain, v)
	}
	return u.UnmarshalBinary(plain)
}

// Put seals v and stores it under key for ttl.
func (s Store) Put(ctx context.Context, key string, v any, ttl time.Duration) error {
	sealed, err := s.seal(v, key)
	if err != nil {
		return err
	}
	if err := s.Store.Set(ctx, key, sealed, ttl); err != nil {
		return fmt.Errorf("writing: %w", err)
	}
	return nil
}

// PutNew seals v and stores it under key for ttl only if key holds
// nothing yet, and reports whether it did.
func (s Store) PutNew(ctx context.Context, key string, v any, ttl time.Duration) (bool, error) {
	sealed, err := s.seal(v, key)
	if err != nil {
		return false, err
	}
	ok, err := s.Store.SetNX(ctx, key, sealed, ttl)
	if err != nil {
		return false, fmt.Errorf("writing: %w", err)
	}
	return ok, nil
}

// Replace seals v over the record under key, only if there still is one
// (ok false otherwise: it ended meanwhile and stays ended).
func (s Store) Replace(ctx context.Context, key string, v any, ttl time.Duration) (ok bool, err error) {
	sealed, err := s.seal(v, key)
	if err != nil {
		return false, err
	}
	ok, err = s.Store.SetXX(ctx, key, sealed, ttl)
	if err != nil {
		return false, fmt.Errorf("writing: %w", err)
	}
	return ok, nil
}

// Get opens the record under key into v; touch, when not zero, slides
// its lifetime as store.Get does. A record that is missing or does not
// open (written under another secret, or tampered with) gives
// store.ErrNotFound; other errors mean the store could not answer.
func (s Store) Get(ctx context.Context, key string, touch time.Duration, v any) error {
	sealed, err := s.Store.Get(ctx, key, touch)
	if errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("reading: %w", err)
	}
	if s.open(sealed, key, v) != nil {
		return store.ErrNotFound
	}
	return nil
}

// TakeOwned consumes the record under key for the request it belongs to:
// it opens the record into v and runs check (which compares v with the
// request: its browser, its user), and only when check passes takes the
// record, so a request from anyone else can neither use nor use up
// someone's flow in progress. Of concurrent owners only one gets it. A
// record that is missing, does not open, or was taken by another request
// gives store.ErrNotFound; check's error is returned as it is; other
// errors mean the store could not answer.
func (s Store) TakeOwned(ctx context.Context, key string, v any, check func() error) error {
	sealed, err := s.Store.Get(ctx, key, 0)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return err
		}
		return fmt.Errorf("reading: %w", err)
	}
	if s.open(sealed, key, v) != nil {
		return store.ErrNotFound
	}
	if err := check(); err != nil {
		return err
	}
	taken, err := s.Store.Take(ctx, key)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return err
		}
		return fmt.Errorf("taking: %w", err)
	}
	if !bytes.Equal(taken, sealed) {
		return store.ErrNotFound // replaced in between: not the record checked
	}
	return nil
}
