package connections

import (
	"context"
	"errors"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/nango"
)

// NangoSession creates a Nango connect session through which the user
// links connection name (a nango connection), tagged with the user's id.
func (s *Service) NangoSession(ctx context.Context, name, userID string) (*nango.ConnectSession, error) {
	c := s.conns[name]
	if c == nil || c.Kind != KindNango {
		return nil, ErrUnknown
	}
	return s.opts.Nango.CreateConnectSession(ctx, nango.SessionRequest{
		Tags:                map[string]string{"end_user_id": userID},
		EndUser:             &nango.EndUser{ID: userID},
		AllowedIntegrations: []string{c.Integration},
	})
}

// ForIntegration returns the nango connection linked through a Nango
// integration.
func (s *Service) ForIntegration(integration string) (string, bool) {
	for _, c := range s.conns {
		if c.Kind == KindNango && c.Integration == integration {
			return c.Name, true
		}
	}
	return "", false
}

// OnNangoConnection records the link Nango reported (its auth webhook):
// connection connectionID of the integration belongs to userID. A
// previous connection of the same link is deleted at Nango.
func (s *Service) OnNangoConnection(ctx context.Context, integration, userID, connectionID string) error {
	name, ok := s.ForIntegration(integration)
	if !ok || userID == "" {
		return nil
	}
	prev, err := s.get(ctx, userID, name)
	if err != nil && !errors.Is(err, ErrNotLinked) {
		return err
	}
	now := s.now().UTC()
	if err := s.put(ctx, userID, &Link{Name: name, Kind: KindNango, ConnectionID: connectionID, LinkedAt: now}); err != nil {
		return err
	}
	if prev != nil && prev.ConnectionID != "" && prev.ConnectionID != connectionID {
		if err := s.opts.Nango.DeleteConnection(ctx, prev.ConnectionID, integration); err != nil && !nango.IsNotFound(err) {
			s.opts.Logger.Warn("cannot delete the previous nango connection", zap.String("connection", name), zap.Error(err))
		}
	}
	return nil
}

// NangoLinked reports whether the user's link name is Nango's connection
// connectionID (the webhook has been processed).
func (s *Service) NangoLinked(ctx context.Context, userID, name, connectionID string) (bool, error) {
	l, err := s.get(ctx, userID, name)
	if errors.Is(err, ErrNotLinked) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return l.ConnectionID == connectionID, nil
}
