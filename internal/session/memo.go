package session

import "sync/atomic"

// Memo holds what the engine derives from a session's identity (its
// header values, its signed assertion) so that it is built once per
// cached session rather than once per request. Copies of a cached session
// share its Memo; a session read from the store, cached anew or changed
// gets a fresh one, so nothing derived outlives the identity it came
// from. Safe for concurrent use.
type Memo struct{ v atomic.Pointer[any] }

// Load returns what was stored, nil when nothing was.
func (m *Memo) Load() any {
	if p := m.v.Load(); p != nil {
		return *p
	}
	return nil
}

// Store replaces what is held.
func (m *Memo) Store(v any) { m.v.Store(&v) }

// Share makes s ready to be read by concurrent requests (a session kept
// in memory, as the cache and the trusted issuers' verified tokens keep
// theirs): its Memo is created now rather than by the first request that
// asks, and s is returned.
func (s *Session) Share() *Session {
	s.memo = new(Memo)
	return s
}

// Memo returns s's Memo, giving s a fresh one when it has none (a session
// that is not shared: see Share).
func (s *Session) Memo() *Memo {
	if s.memo == nil {
		s.memo = new(Memo)
	}
	return s.memo
}

// Clone returns a copy of s to modify (of a session from Peek, say); it
// shares s's Memo until Changed.
func (s *Session) Clone() *Session {
	cp := *s
	return &cp
}

// Changed drops what was derived from s: call it after changing the
// identity of a session that is then used further.
func (s *Session) Changed() { s.memo = nil }
