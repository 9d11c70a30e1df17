package gate

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/provider"
	"github.com/gatehouse-auth/gatehouse/internal/registry"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

var _ registry.Sessions = (*Gate)(nil)

// UserSessions returns the user's live sessions (for Caddy's admin API).
func (g *Gate) UserSessions(ctx context.Context, userID string) ([]session.Listed, error) {
	return g.Sessions.List(ctx, userID)
}

// EndUserSessions ends every session of the user and revokes their
// provider tokens where the provider can, waiting for the providers
// (each call bounded by its timeout) so the operator learns the outcome.
func (g *Gate) EndUserSessions(ctx context.Context, userID string) (ended, revoked int, err error) {
	sessions, err := g.Sessions.EndAll(ctx, userID)
	for _, s := range sessions {
		if g.revokeNow(ctx, s) {
			revoked++
		}
	}
	if len(sessions) > 0 {
		g.Logger.Info("sessions ended by an operator", zap.String("user_id", userID),
			zap.Int("sessions", len(sessions)), zap.Int("tokens_revoked", revoked))
	}
	return len(sessions), revoked, err
}

// revokeNow revokes s's provider tokens where its provider can, and
// reports whether it did.
func (g *Gate) revokeNow(ctx context.Context, s *session.Session) bool {
	p := g.providers[s.Provider]
	if p == nil || s.AccessToken == "" && s.RefreshToken == "" {
		return false
	}
	rv, ok := p.Auth.(provider.Revoker)
	if !ok {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, max(10*time.Second, p.callTimeout()))
	defer cancel()
	if err := rv.Revoke(ctx, &provider.Tokens{AccessToken: s.AccessToken, RefreshToken: s.RefreshToken, IDToken: s.IDToken}); err != nil {
		g.Logger.Warn("cannot revoke the provider's tokens of an ended session", zap.String("provider", s.Provider), zap.Error(err))
		return false
	}
	return true
}
