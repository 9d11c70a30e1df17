package nangoaccess

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/github/directory"
	"github.com/gatehouse-auth/gatehouse/internal/nango"
	"github.com/gatehouse-auth/gatehouse/internal/webhook"
	"github.com/gatehouse-auth/gatehouse/internal/webhook/forward"
)

// deliveryTTL is how long a delivery is remembered, far longer than Nango
// retries (3 attempts within about 10 s).
const deliveryTTL = 7 * 24 * time.Hour

// forwardedHeaders are passed on with a forwarded webhook, so the
// application can verify Nango's signature itself and see the provider's
// event.
var forwardedHeaders = []string{nango.SignatureHeader, "X-GitHub-Event", "X-GitHub-Delivery", "X-GitHub-Hook-Installation-Target-Id"}

// Webhook receives one Nango webhook delivery: it verifies the signature over the raw
// body against the current and the previous signing key, applies each
// delivery once (Nango sends no delivery id; identical retries have
// identical bodies, so the body's hash is the id), and persists sync and
// forward webhooks for the application before acknowledging them.
func (s *Service) Webhook(ctx context.Context, r *http.Request) int {
	b, status := webhook.ReadVerified(r, "nango", s.opts.Logger, func(body []byte) error {
		return nango.VerifySignature(body, r.Header, s.opts.WebhookKeys...)
	})
	if status != 0 {
		return status
	}
	defer b.Release()
	body := b.Data
	w, err := nango.ParseWebhook(body)
	if err != nil {
		s.opts.Logger.Warn("nango webhook refused: bad payload", zap.Error(err))
		return http.StatusBadRequest
	}
	sum := sha256.Sum256(body)
	id := hex.EncodeToString(sum[:])
	log := s.opts.Logger.With(zap.String("type", w.Type), zap.String("operation", w.Operation),
		zap.String("integration", w.ProviderConfigKey), zap.String("connection_id", w.ConnectionID), zap.String("delivery", id[:16]))

	d := webhook.Delivery{Source: "nango", Type: w.Type}
	if !s.handles(w) {
		log.Debug("nango webhook ignored")
		d.Count("ignored")
		return http.StatusAccepted
	}
	return webhook.ApplyOnce(ctx, s.opts.Store, s.opts.KeyPrefix+"nango-delivery:"+id, deliveryTTL, d, log,
		func() error { return s.apply(ctx, w, id, body, r.Header, log) })
}

// handles reports whether the webhook is one Gatehouse acts on; others
// are acknowledged and ignored.
func (s *Service) handles(w *nango.Webhook) bool {
	switch w.Type {
	case "auth":
		return w.ProviderConfigKey != "" &&
			(w.ProviderConfigKey == s.opts.LoginIntegration || w.ProviderConfigKey == s.opts.RepoIntegration || s.linked(w.ProviderConfigKey))
	case "sync", "forward", "":
		// "" is an unattributed forward: the provider's raw body.
		return s.opts.Forward != nil
	}
	return false
}

func (s *Service) apply(ctx context.Context, w *nango.Webhook, id string, body []byte, h http.Header, log *zap.Logger) error {
	if w.Type != "auth" {
		d := forward.Delivery{ID: id, Header: http.Header{}, Body: body}
		for _, name := range forwardedHeaders {
			if v := h.Get(name); v != "" {
				d.Header.Set(name, v)
			}
		}
		if err := s.opts.Forward.Enqueue(ctx, d); err != nil {
			return err
		}
		log.Info("nango webhook queued for the application")
		return nil
	}
	if w.Operation == "refresh" || !w.Success && !strings.HasPrefix(w.EndUserID(), tempPrefix) {
		// A token Nango could not refresh: the user signs in or connects
		// again; until then the re-check keeps what is known.
		log.Warn("nango reported a failed connection", zap.String("reason", failureCode(w)))
		userID := w.EndUserID()
		if _, err := s.opts.Directory.User(ctx, userID); errors.Is(err, directory.ErrNotFound) || userID == "" {
			return nil
		} else if err != nil {
			return err
		}
		return s.recordFailure(ctx, userID, failureCode(w))
	}
	switch {
	case w.ProviderConfigKey == s.opts.LoginIntegration:
		return s.applyLogin(ctx, w, log)
	case w.ProviderConfigKey == s.opts.RepoIntegration:
		return s.applyRepos(ctx, w, log)
	}
	// The connect session was Gatehouse's, tagged with the signed-in
	// user's id.
	if uid := w.EndUserID(); uid == "" || strings.HasPrefix(uid, tempPrefix) {
		log.Warn("nango connection without a user ignored")
		return nil
	}
	log.Info("account linked through nango")
	return s.opts.Links.OnNangoConnection(ctx, w.ProviderConfigKey, w.EndUserID(), w.ConnectionID)
}

// linked reports whether integration is that of a linked-account
// connection.
func (s *Service) linked(integration string) bool {
	if s.opts.Links == nil {
		return false
	}
	_, ok := s.opts.Links.ForIntegration(integration)
	return ok
}
