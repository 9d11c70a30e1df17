package gate

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/provider"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// revokeTokens revokes a session's tokens at its provider where the
// provider can, in the background: signing out does not wait on the
// provider, and a failure is logged.
func (g *Gate) revokeTokens(s *session.Session) {
	if !g.canRevoke(s) {
		return
	}
	g.background.Add(1)
	go func() {
		defer g.background.Done()
		defer func() {
			// A panic here, off any request, would end the whole process.
			if v := recover(); v != nil {
				g.Logger.Error("panic while revoking the provider's tokens at sign-out",
					zap.String("provider", s.Provider), zap.String("panic", panicText(v)), zap.Stack("stack"))
			}
		}()
		g.revokeNow(context.Background(), s)
	}()
}

// canRevoke reports whether s has provider tokens its provider can
// revoke.
func (g *Gate) canRevoke(s *session.Session) bool {
	p := g.providers[s.Provider]
	if p == nil || s.AccessToken == "" && s.RefreshToken == "" {
		return false
	}
	_, ok := p.Auth.(provider.Revoker)
	return ok
}

// revokeNow revokes s's provider tokens where its provider can, and
// reports whether it did. The provider bounds each of its calls; this
// bounds the whole (and so Cleanup's wait for revocations in the
// background), leaving room for a longer configured timeout.
func (g *Gate) revokeNow(ctx context.Context, s *session.Session) bool {
	if !g.canRevoke(s) {
		return false
	}
	p := g.providers[s.Provider]
	ctx, cancel := context.WithTimeout(ctx, max(10*time.Second, p.callTimeout()))
	defer cancel()
	err := p.Auth.(provider.Revoker).Revoke(ctx, &provider.Tokens{AccessToken: s.AccessToken, RefreshToken: s.RefreshToken, IDToken: s.IDToken})
	if err != nil {
		g.Logger.Warn("cannot revoke the provider's tokens at sign-out", zap.String("provider", s.Provider), zap.Error(err))
		return false
	}
	g.Logger.Debug("provider tokens revoked at sign-out", zap.String("provider", s.Provider))
	return true
}
