package http

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's Prometheus collectors, registered on Server.Registry.
type metrics struct {
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	accepted   prometheus.Counter
	duplicates prometheus.Counter
	rejected   *prometheus.CounterVec
}

// newMetrics registers the server's collectors on reg. live reports the size of the live
// recommendation state at scrape time.
func newMetrics(reg prometheus.Registerer, live func() (int, int64)) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qianmian_http_requests_total",
			Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "qianmian_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"route", "code"}),
		accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qianmian_events_accepted_total",
			Help: "Events stored by POST /v1/events.",
		}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qianmian_events_duplicates_total",
			Help: "Events of POST /v1/events whose id was stored already.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qianmian_events_rejected_total",
			Help: "Events of POST /v1/events rejected, by the field at fault.",
		}, []string{"reason"}),
	}
	reg.MustRegister(m.requests, m.latency, m.accepted, m.duplicates, m.rejected,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "qianmian_live_subjects",
			Help: "Users and anonymous visitors held in the live recommendation state.",
		}, func() float64 { n, _ := live(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "qianmian_live_state_bytes",
			Help: "Approximate size of the live recommendation state in bytes.",
		}, func() float64 { _, b := live(); return float64(b) }),
	)
	return m
}

func (m *metrics) observeRequest(route string, status int, elapsed time.Duration) {
	code := strconv.Itoa(status)
	m.requests.WithLabelValues(route, code).Inc()
	m.latency.WithLabelValues(route, code).Observe(elapsed.Seconds())
}
