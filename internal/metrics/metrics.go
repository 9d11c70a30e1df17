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
	Logins = counter("logins_total",
		"Logins by provider and result (success or the error code).",
		"provider", "result")

	// SessionLookups counts session lookups by where the answer came from.
	SessionLookups = counter("session_lookups_total",
		"Session lookups by result: cache (served from this instance's cache), store, missing, error.",
		"result")

	// StoreDuration observes Redis commands by command name.
	StoreDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: ns, Name: "store_command_duration_seconds",
		Help:    "Duration of Redis commands (pipelines as \"pipeline\"), by command.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"command"})

	// Webhooks counts webhook deliveries by source, type and result.
	Webhooks = counter("webhook_deliveries_total",
		"Webhook deliveries by source (github, nango), type and result (applied, duplicate, ignored, refused, bad_request, failed).",
		"source", "type", "result")

	// WebhookBodyBytes is the bytes of webhook bodies held in memory until
	// their signature is checked.
	WebhookBodyBytes = gauge("webhook_body_bytes_in_flight",
		"Bytes of webhook bodies held in memory by this process while they are received and verified.")

	// FlowsRefused counts flows (logins, links, App connects) refused by
	// a limit: "client" (one address, per instance) or "shared" (every
	// instance sharing the store).
	FlowsRefused = counter("flows_refused_total",
		"Sign-in, link and connect flows refused by a limit, by scope (client, shared).",
		"scope")

	// ForwardQueueDepth is the number of webhooks waiting for delivery to
	// the application (sync_forward).
	ForwardQueueDepth = gauge("forward_queue_depth",
		"Webhooks persisted and waiting for delivery to sync_forward.")

	// Forwarded counts deliveries to the application by result.
	Forwarded = counter("forward_deliveries_total",
		"Deliveries to sync_forward by result (delivered, retried, dropped).",
		"result")

	// TokenRefreshes counts refreshes of access tokens: of sessions and of
	// linked accounts.
	TokenRefreshes = counter("token_refreshes_total",
		"Access token refreshes by kind (session, link) and result (ok, failed, revoked).",
		"kind", "result")
)

// Session lookup counters, bound once: they are on the request path.
var (
	LookupCache   = SessionLookups.WithLabelValues("cache")
	LookupStore   = SessionLookups.WithLabelValues("store")
	LookupMissing = SessionLookups.WithLabelValues("missing")
	LookupError   = SessionLookups.WithLabelValues("error")
)

// counter is a counter of the gatehouse namespace with the given labels.
func counter(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help}, labels)
}

// gauge is a gauge of the gatehouse namespace.
func gauge(name, help string) prometheus.Gauge {
	return prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: name, Help: help})
}

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
