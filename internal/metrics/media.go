package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Media holds the media collectors.
type Media struct {
	// Fetched counts inbound media stored, FetchedBytes their bytes; Failed counts fetches that failed for good.
	Fetched      prometheus.Counter
	FetchedBytes prometheus.Counter
	Failed       prometheus.Counter
}

// RegisterMedia adds the media collectors: fetch counters, and the disk usage of stored media read from usage
// at each scrape (files and bytes; a failed read reports -1).
func (m *Metrics) RegisterMedia(usage func() (files, bytes int64, err error)) *Media {
	md := &Media{
		Fetched: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wagate_media_fetched_total", Help: "Inbound media files fetched from the provider and stored.",
		}),
		FetchedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wagate_media_fetched_bytes_total", Help: "Bytes of inbound media fetched and stored.",
		}),
		Failed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wagate_media_failed_total", Help: "Inbound media fetches that failed for good (retryable by API).",
		}),
	}
	read := func(pick func(files, bytes int64) int64) func() float64 {
		return func() float64 {
			f, b, err := usage()
			if err != nil {
				return -1
			}
			return float64(pick(f, b))
		}
	}
	m.Registry.MustRegister(md.Fetched, md.FetchedBytes, md.Failed,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "wagate_media_stored_bytes", Help: "Disk used by stored media files (one copy per distinct content).",
		}, read(func(_, b int64) int64 { return b })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "wagate_media_stored_files", Help: "Distinct media files stored.",
		}, read(func(f, _ int64) int64 { return f })))
	return md
}
