package gate

import (
	"context"
	"errors"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/lock"
	"github.com/gatehouse-auth/gatehouse/internal/metrics"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// refreshTimeout bounds a whole refresh: the lock, the attempts, the
// write.
const refreshTimeout = 15 * time.Second

// refreshTokens renews the session's access token with its refresh token
// when it is about to expire: once per session at a time in this
// instance (singleflight) and across instances (a lock in the store, after
// which the session is read again — another instance may have refreshed
// it, and a rotated refresh token works only once). A transient failure
// keeps the session and tries again later; a refused refresh token
// (invalid_grant) ends it. It reports false when the session ended, and
// updates *s in place otherwise. keep calls it when refreshDue.
func (g *Gate) refreshTokens(r *http.Request, tok string, s *session.Session) bool {
	p := g.providers[s.Provider]
	rf, ok := p.Auth.(provider.Refresher)
	if !ok {
		return true
	}
	// At least one whole call to the provider fits, however long its
	// configured timeout.
	budget := max(refreshTimeout, p.callTimeout()+5*time.Second)
	res, err := lock.Do(r.Context(), g.refreshes, g.Sessions.ID(tok), budget, func(ctx context.Context) (refreshResult, error) {
		return g.refreshLocked(ctx, tok, rf), nil
	})
	if err != nil {
		g.Logger.Warn("token refresh skipped: cannot take the refresh lock",
			zap.String("session", g.Sessions.ID(tok)[:12]), zap.Error(err))
	}
	if res.ended {
		return false
	}
	if res.session != nil {
		*s = *res.session
	}
	return true
}

// tokenUsable reports whether s may go upstream as far as its provider
// access token goes: with pass_access_token on, an expired token never
// does. Such a session ends (its cookie is dropped by the caller) and the
// user signs in again, whether the provider issued no refresh token (Ory
// Hydra without offline_access) or its refresh keeps failing.
func (g *Gate) tokenUsable(r *http.Request, tok string, s *session.Session) bool {
	if !g.Headers.SendsAccessToken() || s.AccessToken == "" || s.TokenExpiry.IsZero() || time.Now().Before(s.TokenExpiry) {
		return true
	}
	log := g.log(r).With(zap.String("session", g.Sessions.ID(tok)[:12]), zap.String("provider", s.Provider))
	log.Info("access token expired and not renewed; ending the session", zap.Bool("refresh_token", s.RefreshToken != ""))
	if err := g.Sessions.Delete(r.Context(), tok); err != nil {
		log.Warn("cannot end the session", zap.Error(err))
	}
	return false
}

// refreshDue reports whether s holds a refresh token and an access token
// that expires within refreshMargin, and no recent failure asks to wait.
func (g *Gate) refreshDue(s *session.Session) bool {
	if s.RefreshToken == "" || s.TokenExpiry.IsZero() || g.providers[s.Provider] == nil {
		return false
	}
	now := time.Now()
	return !now.Before(s.TokenRetryAt) && provider.RefreshDue(s.TokenExpiry, s.TokenIssued, now)
}

type refreshResult struct {
	session *session.Session // the session after the attempt; nil: unchanged
	ended   bool
}

func (g *Gate) refreshLocked(ctx context.Context, tok string, rf provider.Refresher) refreshResult {
	log := g.Logger.With(zap.String("session", g.Sessions.ID(tok)[:12]))
	cur, err := g.Sessions.Reload(ctx, tok)
	if errors.Is(err, session.ErrNoSession) {
		return refreshResult{ended: true}
	}
	if err != nil {
		log.Warn("token refresh skipped: store unavailable", zap.Error(err))
		return refreshResult{}
	}
	if !g.refreshDue(cur) {
		return refreshResult{session: cur} // refreshed elsewhere meanwhile
	}
	fresh, err := provider.RetryRefresh(ctx, func(err error) bool { return errors.Is(err, provider.ErrInvalidGrant) },
		func(ctx context.Context) (*provider.Tokens, error) { return rf.Refresh(ctx, cur.RefreshToken) })
	switch {
	case errors.Is(err, provider.ErrInvalidGrant):
		log.Info("refresh token refused by the provider; ending the session",
			zap.String("user_id", cur.UserID), zap.String("provider", cur.Provider))
		metrics.TokenRefreshes.WithLabelValues("session", "revoked").Inc()
		if err := g.Sessions.Delete(ctx, tok); err != nil {
			log.Warn("cannot end the session", zap.Error(err))
		}
		return refreshResult{ended: true}
	case err != nil:
		log.Warn("token refresh failed; keeping the session and trying again later",
			zap.String("provider", cur.Provider), zap.Error(err))
		cur.TokenRetryAt = time.Now().Add(provider.RefreshRetry)
		metrics.TokenRefreshes.WithLabelValues("session", "failed").Inc()
	default:
		cur.AccessToken, cur.TokenExpiry, cur.TokenRetryAt = fresh.AccessToken, fresh.Expiry, time.Time{}
		cur.TokenIssued = time.Now()
		metrics.TokenRefreshes.WithLabelValues("session", "ok").Inc()
		if fresh.RefreshToken != "" {
			cur.RefreshToken = fresh.RefreshToken
		}
		if fresh.IDToken != "" {
			cur.IDToken = fresh.IDToken
		}
		log.Debug("access token refreshed", zap.String("provider", cur.Provider))
	}
	if err := g.Sessions.Update(ctx, tok, cur); errors.Is(err, session.ErrNoSession) {
		log.Debug("the session ended while its token was refreshed")
	} else if err != nil {
		log.Warn("cannot save the refreshed session", zap.Error(err))
	}
	return refreshResult{session: cur}
}
