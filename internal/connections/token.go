package connections

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"
	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/internal/lock"
	"github.com/gatehouse-auth/gatehouse/internal/metrics"
	"github.com/gatehouse-auth/gatehouse/internal/nango"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
)

// Token returns a working access token of the user's link: refreshed
// first when it is about to expire — once per link across instances (a
// store lock, then the link is read again) and within this one
// (singleflight). ErrNotLinked: no link; ErrRevoked: the provider refused
// the refresh token and the link was removed; ErrUnavailable: the
// provider cannot be reached now.
func (s *Service) Token(ctx context.Context, userID, name string) (*Token, error) {
	c := s.conns[name]
	if c == nil {
		return nil, ErrUnknown
	}
	l, err := s.get(ctx, userID, name)
	if err != nil {
		return nil, err
	}
	switch c.Kind {
	case KindOAuth1:
		return &Token{AccessToken: l.AccessToken, TokenSecret: l.TokenSecret, TokenType: "OAuth1", ConsumerKey: c.ConsumerKey}, nil
	case KindNango:
		return s.nangoToken(ctx, c, l)
	}
	if !s.due(l) {
		return oauth2Token(l), nil
	}
	l, err = lock.Do(ctx, &s.refreshes, s.linkKey(userID, name), 15*time.Second, func(ctx context.Context) (*Link, error) {
		return s.refreshLocked(ctx, c, userID, name)
	})
	if errors.Is(err, lock.ErrNoLock) {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if err != nil {
		return nil, err
	}
	return oauth2Token(l), nil
}

func oauth2Token(l *Link) *Token {
	return &Token{AccessToken: l.AccessToken, TokenType: "Bearer", ExpiresAt: l.Expiry}
}

// due reports whether the link's access token should be refreshed.
func (s *Service) due(l *Link) bool {
	return l.RefreshToken != "" && provider.RefreshDue(l.Expiry, l.Issued, s.now())
}

func (s *Service) refreshLocked(ctx context.Context, c *Config, userID, name string) (*Link, error) {
	l, err := s.get(ctx, userID, name)
	if err != nil {
		return nil, err
	}
	if !s.due(l) {
		return l, nil // refreshed by another instance meanwhile
	}
	if s.now().Before(l.RetryAt) {
		if s.now().Before(l.Expiry) {
			return l, nil // still valid: use it while the provider is down
		}
		return nil, ErrUnavailable
	}
	t, err := provider.RetryRefresh(ctx, isInvalidGrant, func(ctx context.Context) (*oauth2.Token, error) {
		ctx, cancel := context.WithTimeout(oauth2Ctx(ctx, s), 10*time.Second)
		defer cancel()
		return s.oauth2Config(c, "").TokenSource(ctx, &oauth2.Token{RefreshToken: l.RefreshToken}).Token()
	})
	switch {
	case isInvalidGrant(err):
		s.opts.Logger.Info("linked account revoked at the provider; removing the link", zap.String("connection", name))
		metrics.TokenRefreshes.WithLabelValues("link", "revoked").Inc()
		if err := s.opts.Store.Delete(ctx, s.linkKey(userID, name)); err != nil {
			return nil, err
		}
		return nil, ErrRevoked
	case err != nil:
		s.opts.Logger.Warn("linked account token refresh failed", zap.String("connection", name), zap.Error(err))
		l.RetryAt = s.now().Add(provider.RefreshRetry)
		metrics.TokenRefreshes.WithLabelValues("link", "failed").Inc()
		if perr := s.put(ctx, userID, l); perr != nil {
			return nil, perr
		}
		if s.now().Before(l.Expiry) {
			return l, nil
		}
		return nil, ErrUnavailable
	}
	l.AccessToken, l.Expiry, l.Issued, l.RetryAt = t.AccessToken, t.Expiry, s.now(), time.Time{}
	metrics.TokenRefreshes.WithLabelValues("link", "ok").Inc()
	if t.RefreshToken != "" {
		l.RefreshToken = t.RefreshToken
	}
	return l, s.put(ctx, userID, l)
}

// revoke revokes an unlinked account at the provider: RFC 7009 for OAuth
// 2.0 with a revoke URL, deleting the Nango connection.
func (s *Service) revoke(ctx context.Context, c *Config, l *Link) error {
	switch {
	case c.Kind == KindNango && l.ConnectionID != "":
		if err := s.opts.Nango.DeleteConnection(ctx, l.ConnectionID, c.Integration); err != nil && !nango.IsNotFound(err) {
			return err
		}
	case c.Kind == KindOAuth2 && c.RevokeURL != "":
		tok := l.RefreshToken
		if tok == "" {
			tok = l.AccessToken
		}
		form := url.Values{"token": {tok}}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.RevokeURL, strings.NewReader(form.Encode()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
		resp, err := s.opts.HTTP.Do(req)
		if err != nil {
			return fmt.Errorf("revoking: %w", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusBadRequest {
			return fmt.Errorf("revoking: status %d", resp.StatusCode)
		}
	}
	return nil
}

// nangoToken reads the connection's current access token from Nango,
// which refreshes it itself.
func (s *Service) nangoToken(ctx context.Context, c *Config, l *Link) (*Token, error) {
	conn, err := s.opts.Nango.GetConnection(ctx, l.ConnectionID, c.Integration)
	if nango.IsNotFound(err) {
		return nil, ErrRevoked
	}
	var apiErr *nango.APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusFailedDependency {
		return nil, ErrRevoked // Nango gave up refreshing it
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if conn.Credentials.AccessToken == "" {
		return nil, ErrRevoked
	}
	return &Token{AccessToken: conn.Credentials.AccessToken, TokenType: "Bearer", ExpiresAt: conn.Credentials.ExpiresAt}, nil
}
