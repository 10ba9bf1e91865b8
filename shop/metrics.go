package shop

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus collectors of store alerts. A nil *Metrics records nothing, so
// the Alerter and Dispatcher run without one.
type Metrics struct {
	created        prometheus.Counter
	skipped        *prometheus.CounterVec
	delivered      prometheus.Counter
	retried        prometheus.Counter
	failedAttempts *prometheus.CounterVec
	abandoned      prometheus.Counter
	latency        prometheus.Histogram
}

// NewMetrics registers the collectors of store alerts on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		created: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qianmian_store_alerts_created_total",
			Help: "Store-visit alerts made.",
		}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qianmian_store_alert_visits_skipped_total",
			Help: "Visit events that made no alert, by reason (anonymous, unknown, stale, cooldown, invalid).",
		}, []string{"reason"}),
		delivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qianmian_store_alert_deliveries_total",
			Help: "Store alerts acknowledged (2xx) by their webhook.",
		}),
		retried: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qianmian_store_alert_retries_total",
			Help: "Webhook delivery attempts after the first of an alert.",
		}),
		failedAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qianmian_store_alert_failed_attempts_total",
			Help: "Webhook delivery attempts that failed, by reason (http_4xx, http_5xx, timeout, connection, no_webhook, internal).",
		}, []string{"reason"}),
		abandoned: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qianmian_store_alert_deliveries_abandoned_total",
			Help: "Store alerts given up on: their webhook never acknowledged them in time, or was removed.",
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "qianmian_store_alert_delivery_seconds",
			Help:    "Time from an alert being made to its webhook acknowledging it, retries included.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 1800},
		}),
	}
	reg.MustRegister(m.created, m.skipped, m.delivered, m.retried, m.failedAttempts, m.abandoned, m.latency)
	return m
}

func (m *Metrics) alertCreated() {
	if m != nil {
		m.created.Inc()
	}
}

func (m *Metrics) visitSkipped(reason string) {
	if m != nil {
		m.skipped.WithLabelValues(reason).Inc()
	}
}

func (m *Metrics) attempt(n int, delivered bool, reason string, latency time.Duration) {
	if m == nil {
		return
	}
	if n > 1 {
		m.retried.Inc()
	}
	if delivered {
		m.delivered.Inc()
		m.latency.Observe(latency.Seconds())
		return
	}
	m.failedAttempts.WithLabelValues(reason).Inc()
}

func (m *Metrics) deliveryAbandoned() {
	if m != nil {
		m.abandoned.Inc()
	}
}
