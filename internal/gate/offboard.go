package gate

import (
	"context"

	"go.uber.org/zap"

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
