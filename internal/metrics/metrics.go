// Package metrics holds wagate's Prometheus collectors on a registry of its own.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the set of collectors. Construct it once per process with New.
type Metrics struct {
	Registry *prometheus.Registry

	// WebhookRequests counts webhook POSTs by outcome: accepted, unauthorized, too_large, bad_request,
	// unavailable.
	WebhookRequests *prometheus.CounterVec
	// WebhookAckSeconds is the time from request start to the durable answer.
	WebhookAckSeconds prometheus.Histogram
	// IngestBatchSize is how many webhooks each group commit made durable.
	IngestBatchSize prometheus.Histogram
	// Events counts processed webhook events by final state (processed, failed, queued).
	Events *prometheus.CounterVec
	// InboundMessages counts new inbound messages stored; Receipts counts receipts by outcome.
	InboundMessages prometheus.Counter
	Receipts        *prometheus.CounterVec
}

// New creates the collectors, with Go and process collectors, on a new registry.
func New() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Registry: r,
		WebhookRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wagate_webhook_requests_total", Help: "Provider webhook POSTs by outcome.",
		}, []string{"outcome"}),
		WebhookAckSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "wagate_webhook_ack_seconds", Help: "Time to a durable webhook answer.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
		IngestBatchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "wagate_ingest_batch_size", Help: "Webhooks made durable per database commit.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
		}),
		Events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wagate_events_total", Help: "Webhook events by processing state.",
		}, []string{"state"}),
		InboundMessages: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wagate_inbound_messages_total", Help: "New inbound messages stored.",
		}),
		Receipts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wagate_receipts_total", Help: "Receipts by outcome (updated, recorded, duplicate, parked, ignored).",
		}, []string{"outcome"}),
	}
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.WebhookRequests, m.WebhookAckSeconds, m.IngestBatchSize, m.Events, m.InboundMessages, m.Receipts)
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}
