package session

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"
	"time"
)

// A user's sessions are named outside Gatehouse by a handle: a public
// name derived one-way from the session's store key, so showing it (to
// the user, to an operator) reveals neither the token nor the store key,
// and it stays the same across secret rotations.

// handleLen is the length of a handle in base64url characters (128 bits).
const handleLen = 22

// handleOf returns the public handle of the session stored under key.
func handleOf(key string) string {
	sum := sha256.Sum256([]byte("gatehouse/session-handle\x00" + key))
	return b64.EncodeToString(sum[:16])[:handleLen]
}

// Handle returns the public handle of the session for tok, "" for a
// malformed token.
func (m *Manager) Handle(tok string) string {
	t, err := parseToken(m.ring, tok)
	if err != nil {
		return ""
	}
	return handleOf(m.key(t))
}

// Listed is one of a user's live sessions.
type Listed struct {
	// Handle names the session publicly (see Handle).
	Handle string
	// Session is the stored session, the caller's own.
	*Session
	key string
}

// List returns the user's live sessions, the most recently used first.
// Sessions that have ended are dropped from the user's index on the way.
func (m *Manager) List(ctx context.Context, userID string) ([]Listed, error) {
	if userID == "" {
		return nil, nil
	}
	keys, err := m.Keys(ctx, userID)
	if err != nil {
		return nil, err
	}
	var out []Listed
	var dead []string
	for _, k := range keys {
		s, err := m.loadKey(ctx, k, 0)
		if errors.Is(err, ErrNoSession) {
			dead = append(dead, k)
			continue
		}
		if err != nil {
			return nil, err
		}
		if s.UserID != userID {
			continue // not the user's (a stale index entry)
		}
		out = append(out, Listed{Handle: handleOf(k), Session: s, key: k})
	}
	if len(dead) > 0 {
		_ = m.store.SetRemove(ctx, m.indexKey(userID), dead...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].lastUsed().After(out[j].lastUsed()) })
	return out, nil
}

// lastUsed is when l was last seen, or created if never since.
func (l Listed) lastUsed() time.Time {
	if l.LastSeenAt.After(l.CreatedAt) {
		return l.LastSeenAt
	}
	return l.CreatedAt
}

// End ends the user's session named handle and returns it; nil (and no
// error) when the user has no live session of that name, whoever else's
// it may be.
func (m *Manager) End(ctx context.Context, userID, handle string) (*Session, error) {
	list, err := m.List(ctx, userID)
	if err != nil {
		return nil, err
	}
	for _, l := range list {
		if len(handle) == handleLen && l.Handle == handle {
			return l.Session, m.endKey(ctx, userID, l.key)
		}
	}
	return nil, nil
}

// EndOthers ends every session of the user except the one for keep ("":
// none), and
// returns those it ended.
func (m *Manager) EndOthers(ctx context.Context, userID, keep string) ([]*Session, error) {
	list, err := m.List(ctx, userID)
	if err != nil {
		return nil, err
	}
	current := m.Handle(keep) // "" for no token: nothing is kept
	var ended []*Session
	for _, l := range list {
		if current != "" && l.Handle == current {
			continue
		}
		if err := m.endKey(ctx, userID, l.key); err != nil {
			return ended, err
		}
		ended = append(ended, l.Session)
	}
	return ended, nil
}

// endKey ends the session stored under key, on every instance, and drops
// it from the user's index.
func (m *Manager) endKey(ctx context.Context, userID, key string) error {
	if err := m.store.Delete(ctx, key); err != nil {
		return fmt.Errorf("session: ending: %w", err)
	}
	m.invalidate(ctx, key)
	_ = m.store.SetRemove(ctx, m.indexKey(userID), key)
	return nil
}

// The provider's session index maps an identity provider's session id
// (the id_token's sid) to the store keys of the Gatehouse sessions it
// started, for the provider's back-channel logout.

func (m *Manager) idpSessionKey(provider, sid string) string {
	return m.prefix + "idpsession:" + provider + ":" + sid
}

// EndIdPSession ends every session that provider's session sid started
// and returns them.
func (m *Manager) EndIdPSession(ctx context.Context, provider, sid string) ([]*Session, error) {
	return m.EndIdPSessionOf(ctx, provider, sid, "")
}

// EndIdPSessionOf ends the sessions that provider's session sid started
// for the user userID ("": for whichever user) and returns them. The
// provider's session index is cleared of them, and of the sessions that
// have ended; a session of another user stays, and stays indexed.
func (m *Manager) EndIdPSessionOf(ctx context.Context, provider, sid, userID string) ([]*Session, error) {
	if sid == "" {
		return nil, nil
	}
	ix := m.idpSessionKey(provider, sid)
	keys, err := m.store.SetMembers(ctx, ix)
	if err != nil {
		return nil, fmt.Errorf("session: reading the provider's session index: %w", err)
	}
	var ended []*Session
	var gone []string // keys to drop from the index
	for _, k := range keys {
		s, err := m.loadKey(ctx, k, 0)
		if errors.Is(err, ErrNoSession) {
			gone = append(gone, k)
			continue
		}
		if err != nil {
			return ended, err
		}
		if s.Provider != provider || s.IdPSession != sid {
			gone = append(gone, k) // not this provider session's (a stale entry)
			continue
		}
		if userID != "" && s.UserID != userID {
			continue
		}
		if err := m.endKey(ctx, s.UserID, k); err != nil {
			return ended, err
		}
		ended = append(ended, s)
		gone = append(gone, k)
	}
	// Only what was looked at leaves the index (removing its last member
	// deletes it): a session a login added meanwhile stays indexed.
	if len(gone) > 0 {
		err = m.store.SetRemove(ctx, ix, gone...)
	}
	if err != nil {
		return ended, fmt.Errorf("session: clearing the provider's session index: %w", err)
	}
	return ended, nil
}

// SeenDue reports whether s's LastSeenAt is old enough to be written
// again (see Seen).
func (m *Manager) SeenDue(s *Session) bool { return m.now().Sub(s.LastSeenAt) >= SeenEvery }

// SeenEvery is how often a session's LastSeenAt is written while it is in
// use: the user's list of sessions is accurate to it, and a busy session
// costs one store write per interval, not one per request.
const SeenEvery = 5 * time.Minute

// Seen records that the session for tok is in use: on the stored
// session as it is now, when its LastSeenAt is older than SeenEvery.
// Best effort: a failed write is retried on a later request. Seen
// rewrites the whole session, so the caller holds the lock of the other
// writers that may race with it (a token refresh on another instance) and
// calls it once at a time per session.
func (m *Manager) Seen(ctx context.Context, tok string) {
	s, err := m.Reload(ctx, tok)
	if err != nil || !m.SeenDue(s) {
		return
	}
	s.LastSeenAt = m.now().UTC().Truncate(time.Second)
	_ = m.Update(ctx, tok, s)
}
