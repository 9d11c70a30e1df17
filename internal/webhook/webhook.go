// Package webhook holds what Gatehouse's webhook receivers (GitHub App,
// Nango) share: reading a body within a memory budget, and applying each
// delivery once.
package webhook

import (
	"context"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/metrics"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// ApplyOnce runs apply for a verified delivery unless a delivery with the
// same key was applied before, and returns the status to answer with. The
// key is claimed in the store before apply runs, so concurrent repeats
// have no second effect, and released if apply fails, so the sender's
// retry can try again: 200 when applied or already applied, 503 when the
// store or apply failed.
func ApplyOnce(ctx context.Context, st store.Store, key string, ttl time.Duration, d Delivery, log *zap.Logger, apply func() error) int {
	fresh, err := st.SetNX(ctx, key, []byte("applying"), ttl)
	if err != nil {
		log.Warn("webhook not applied: store unavailable", zap.Error(err))
		d.Count("failed")
		return http.StatusServiceUnavailable
	}
	if !fresh {
		log.Info("webhook already applied")
		d.Count("duplicate")
		return http.StatusOK
	}
	if err := apply(); err != nil {
		_ = st.Delete(context.WithoutCancel(ctx), key)
		log.Warn("webhook not applied", zap.Error(err))
		d.Count("failed")
		return http.StatusServiceUnavailable
	}
	log.Info("webhook applied")
	d.Count("applied")
	return http.StatusOK
}

// Delivery names a delivery for the metrics: its source ("github",
// "nango") and type (event or webhook type).
type Delivery struct{ Source, Type string }

// Count records the delivery's result in gatehouse_webhook_deliveries_total.
func (d Delivery) Count(result string) {
	typ := d.Type
	if len(typ) > 40 {
		typ = typ[:40]
	}
	metrics.Webhooks.WithLabelValues(d.Source, typ, result).Inc()
}
