package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/wagate/wagate/internal/config"
	"github.com/wagate/wagate/internal/media"
	"github.com/wagate/wagate/internal/metrics"
	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/store"
)

// newMedia builds the media service over the data directory, registers its fetch and retention workers and
// its metrics, and returns it with the periodic jobs it needs.
func newMedia(cfg *config.Config, st *store.Store, workers *river.Workers, providers map[string]provider.Provider,
	m *metrics.Metrics, log *slog.Logger) (*media.Service, []*river.PeriodicJob, error) {
	blobs, err := media.NewBlobs(cfg.MediaDir())
	if err != nil {
		return nil, nil, err
	}
	log = log.With("component", "media")
	svc := media.NewService(st, blobs, nil, log)
	mm := m.RegisterMedia(func() (int64, int64, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		u, err := svc.Usage(ctx)
		return u.Files, u.Bytes, err
	})
	river.AddWorker(workers, media.NewFetchWorker(svc, providers, media.FetchConfig{
		Fetched: func(size int64) { mm.Fetched.Inc(); mm.FetchedBytes.Add(float64(size)) },
		Failed:  mm.Failed.Inc,
	}, log))
	river.AddWorker(workers, media.NewPurgeWorker(svc, cfg.MediaRetention, log))
	var periodic []*river.PeriodicJob
	if cfg.MediaRetention > 0 {
		periodic = append(periodic, media.PeriodicPurge())
	}
	return svc, periodic, nil
}
