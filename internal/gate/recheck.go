package gate

import (
	"context"
	"errors"
	"net/http"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sync/singleflight"

	"github.com/gatehouse-auth/gatehouse/internal/kit"
	"github.com/gatehouse-auth/gatehouse/internal/lock"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

var recheckGroup singleflight.Group

// keep brings a session from peekSession up to date before it goes
// upstream: the features' re-check and the token refresh when due (on a
// copy, as the cache's own session is shared by concurrent requests), then
// the access token's expiry. It reports false when the request must sign
// in again.
func (g *Gate) keep(r *http.Request, tok string, s *session.Session) (*session.Session, bool) {
	if recheck, refresh := g.recheckDue(s), g.refreshDue(s); recheck || refresh {
		s = s.Clone()
		if recheck && !g.recheck(r, tok, s) || refresh && !g.refreshTokens(r, tok, s) {
			return s, false
		}
	}
	if !g.tokenUsable(r, tok, s) {
		return s, false
	}
	if g.Sessions.SeenDue(s) {
		g.markSeen(r, tok)
	}
	return s, true
}

// seenBudget bounds writing a session's LastSeenAt, its lock included.
var seenBudget = 5 * time.Second

// markSeen writes s's LastSeenAt (session.Manager.Seen) in the
// background, under the lock a token refresh takes: both rewrite the
// whole session, and a refresh on another instance must not lose its new
// tokens to it (nor the request wait for that refresh). Best effort.
func (g *Gate) markSeen(r *http.Request, tok string) {
	id := g.Sessions.ID(tok)
	if _, busy := g.seeing.LoadOrStore(id, true); busy {
		return // being written already
	}
	ctx, log := context.WithoutCancel(r.Context()), g.log(r)
	g.background.Add(1)
	go func() {
		defer g.background.Done()
		defer g.seeing.Delete(id)
		defer func() {
			if v := recover(); v != nil {
				log.Error("panic while recording a session's last use", zap.String("panic", panicText(v)))
			}
		}()
		_, err := lock.Do(ctx, g.seens, id, seenBudget, func(ctx context.Context) (struct{}, error) {
			g.Sessions.Seen(ctx, tok)
			return struct{}{}, nil
		})
		if err != nil {
			log.Debug("last use not recorded: cannot take the session's lock", zap.Error(err))
		}
	}()
}

// recheckDue reports whether a feature wants s confirmed.
func (g *Gate) recheckDue(s *session.Session) bool {
	for _, rc := range g.recheckers {
		if rc.Due(s) {
			return true
		}
	}
	return false
}

// recheck has the features confirm s (GitHub's organizations, teams and
// repositories), once per session at a time; keep calls it when one of
// them finds it due. It reports false when the session must end.
func (g *Gate) recheck(r *http.Request, tok string, s *session.Session) bool {
	v, _, _ := recheckGroup.Do(tok, func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
		defer cancel()
		s.Changed() // what was derived from the identity may not hold any more
		for _, rc := range g.recheckers {
			if !rc.Due(s) {
				continue
			}
			err := rc.Recheck(ctx, s)
			switch {
			case errors.Is(err, kit.ErrRevoked):
				g.log(r).Info("authorization revoked; ending session", zap.String("user_id", s.UserID), zap.String("provider", s.Provider))
				_ = g.Sessions.Delete(ctx, tok)
				return false, nil
			case err != nil:
				// Unreachable or rate limited: keep what the session has;
				// the Rechecker schedules the next try.
				g.log(r).Warn("re-check failed; keeping the last known access", zap.String("user_id", s.UserID), zap.Error(err))
			}
		}
		if err := g.Sessions.Update(ctx, tok, s); err != nil && !errors.Is(err, session.ErrNoSession) {
			g.log(r).Warn("cannot save re-checked session", zap.Error(err))
		}
		return true, nil
	})
	return v.(bool)
}

// serveRepos lists the repositories the current user can access.
func (g *Gate) serveRepos(w http.ResponseWriter, r *http.Request) {
	s, _, _, ok := g.requireSession(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"repos": nonNil(s.Repos), "checked_at": s.CheckedAt})
}

// requireSession loads the session of an endpoint that needs one,
// answering 401/503 itself when there is none.
func (g *Gate) requireSession(w http.ResponseWriter, r *http.Request) (*session.Session, string, bool, bool) {
	s, tok, bearer, out := g.authenticate(r)
	switch out {
	case storeDown:
		g.fail(w, r, errStoreDown)
		return nil, "", false, false
	case noSession, tooLarge:
		g.unauthenticated(w, r)
		return nil, "", false, false
	}
	return s, tok, bearer, true
}
