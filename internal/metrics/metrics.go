// Package metrics holds Gatehouse's Prometheus metrics. They are process
// wide, like Caddy's own, and registered into Caddy's metrics registry
// when a handler is provisioned, so the `metrics` directive (or the admin
// endpoint's /metrics) exposes them next to caddy_http_*.
package metrics

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

const ns = "gatehouse"

var (
	// Logins counts finished logins by provider and result ("success",
	// or the error code shown to the user).
	Logins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Name: "logins_total",
		Help: "Logins by provider and result (success or the error code).",
	}, []string{"provider", "result"})

	// SessionLookups counts session lookups by where the answer came from.
	SessionLookups = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Name: "session_lookups_total",
		Help: "Session lookups by result: cache (served from this instance's cache), store, missing, error.",
	}, []string{"result"})

	// StoreDuration observes Redis commands by command name.
	StoreDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: ns, Name: "store_command_duration_seconds",
		Help:    "Duration of Redis commands (pipelines as \"pipeline\"), by command.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"command"})

	// Webhooks counts webhook deliveries by source, type and result.
	Webhooks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Name: "webhook_deliveries_total",
		Help: "Webhook deliveries by source (github, nango), type and result (applied, duplicate, ignored, refused, bad_request, failed).",
	}, []string{"source", "type", "result"})

	// WebhookBodyBytes is the bytes of webhook bodies held in memory until
	// their signature is checked.
	WebhookBodyBytes = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: ns, Name: "webhook_body_bytes_in_flight",
		Help: "Bytes of webhook bodies held in memory by this process while they are received and verified.",
	})

	// FlowsRefused counts flows (logins, links, App connects) refused by
	// a limit: "client" (one address, per instance) or "shared" (every
	// instance sharing the store).
	FlowsRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Name: "flows_refused_total",
		Help: "Sign-in, link and connect flows refused by a limit, by scope (client, shared).",
	}, []string{"scope"})

	// ForwardQueueDepth is the number of webhooks waiting for delivery to
	// the application (sync_forward).
	ForwardQueueDepth = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: ns, Name: "forward_queue_depth",
		Help: "Webhooks persisted and waiting for delivery to sync_forward.",
	})

	// Forwarded counts deliveries to the application by result.
	Forwarded = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Name: "forward_deliveries_total",
		Help: "Deliveries to sync_forward by result (delivered, retried, dropped).",
	}, []string{"result"})

	// TokenRefreshes counts refreshes of access tokens: of sessions and of
	// linked accounts.
	TokenRefreshes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Name: "token_refreshes_total",
		Help: "Access token refreshes by kind (session, link) and result (ok, failed, revoked).",
	}, []string{"kind", "result"})
)

// Session lookup counters, bound once: they are on the request path.
var (
	LookupCache   = SessionLookups.WithLabelValues("cache")
	LookupStore   = SessionLookups.WithLabelValues("store")
	LookupMissing = SessionLookups.WithLabelValues("missing")
	LookupError   = SessionLookups.WithLabelValues("error")
)

var all = []prometheus.Collector{Logins, SessionLookups, StoreDuration, Webhooks, WebhookBodyBytes, FlowsRefused, ForwardQueueDepth, Forwarded, TokenRefreshes}

// Register adds the metrics to reg (Caddy's registry of the config being
// loaded). Registering them again, as every handler of a config does, is
// not an error.
func Register(reg prometheus.Registerer) error {
	for _, c := range all {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return err
			}
		}
	}
	return nil
}
