package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// The index maps a user id to the store keys of the user's sessions, so
// that all of them can be ended (a revoked GitHub authorization) or
// updated (a webhook changed the user's repositories) at once. It holds
// store keys — hashes — never tokens.

func (m *Manager) indexKey(userID string) string { return m.prefix + "usersessions:" + userID }

func (m *Manager) index(ctx context.Context, userID, key string) error {
	if userID == "" {
		return nil
	}
	if err := m.store.SetAdd(ctx, m.indexKey(userID), m.lifetime, key); err != nil {
		return fmt.Errorf("session: indexing: %w", err)
	}
	return nil
}

// pruneIndex drops from the user's index the sessions that have ended by
// themselves (idle timeout, lifetime), which nothing else removes: without
// it the index of a user who signs in every day and never signs out would
// grow for as long as the user keeps coming back. It runs at each login,
// costs one lookup per indexed session, and is best effort.
func (m *Manager) pruneIndex(ctx context.Context, userID, current string) {
	if userID == "" {
		return
	}
	keys, err := m.store.SetMembers(ctx, m.indexKey(userID))
	if err != nil {
		return
	}
	var dead []string
	for _, k := range keys {
		if k == current {
			continue
		}
		if _, err := m.store.Get(ctx, k, 0); errors.Is(err, store.ErrNotFound) {
			dead = append(dead, k)
		}
	}
	if len(dead) > 0 {
		_ = m.store.SetRemove(ctx, m.indexKey(userID), dead...)
	}
}

// Keys returns the store keys of the user's sessions (some may have
// expired since).
func (m *Manager) Keys(ctx context.Context, userID string) ([]string, error) {
	keys, err := m.store.SetMembers(ctx, m.indexKey(userID))
	if err != nil {
		return nil, fmt.Errorf("session: reading index: %w", err)
	}
	return keys, nil
}

// EndAll ends every session of the user and returns those that were
// live. Each leaves the index with it (endKey): a session a login adds
// meanwhile stays indexed, for the next ending to find.
func (m *Manager) EndAll(ctx context.Context, userID string) ([]*Session, error) {
	return m.EndOthers(ctx, userID, "")
}

// UpdateAll applies fn to every live session of the user and saves the
// result. Sessions that have ended are dropped from the index.
func (m *Manager) UpdateAll(ctx context.Context, userID string, fn func(*Session)) error {
	keys, err := m.Keys(ctx, userID)
	if err != nil {
		return err
	}
	for _, k := range keys {
		s, err := m.loadKey(ctx, k, 0)
		if errors.Is(err, ErrNoSession) {
			_ = m.store.SetRemove(ctx, m.indexKey(userID), k)
			continue
		}
		if err != nil {
			return err
		}
		fn(s)
		ttl := min(m.idle, s.ExpiresAt.Sub(m.now()))
		if ttl <= 0 {
			continue
		}
		if err := m.replaceKey(ctx, k, s, ttl); errors.Is(err, ErrNoSession) {
			_ = m.store.SetRemove(ctx, m.indexKey(userID), k)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// loadKey reads the session stored under key.
func (m *Manager) loadKey(ctx context.Context, key string, touch time.Duration) (*Session, error) {
	s := new(Session)
	err := m.records().Get(ctx, key, touch, s)
	if errors.Is(err, store.ErrNotFound) {
		// Gone, or written under another secret or tampered with: unusable.
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("session: loading: %w", err)
	}
	if !m.now().Before(s.ExpiresAt) {
		_ = m.store.Delete(ctx, key)
		return nil, ErrNoSession
	}
	return s, nil
}
