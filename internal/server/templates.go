package server

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/wagate/wagate/internal/config"
	"github.com/wagate/wagate/internal/queue"
	"github.com/wagate/wagate/internal/sender"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/templates"
)

// templateCatalogue builds the channels' template catalogue from what the database holds, registers the sync
// worker and lets the send worker explain template and window refusals.
func (s *Server) templateCatalogue(workers *river.Workers, w *sender.Worker, names []string) (*templates.Catalogue, error) {
	cat := templates.New(s.backend.Store, names, s.providers, s.log.With("component", "templates"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cat.Load(ctx); err != nil {
		return nil, fmt.Errorf("load templates: %w", err)
	}
	river.AddWorker(workers, templates.NewSyncWorker(cat))
	w.UseTemplates(cat)
	return cat, nil
}

// templatePeriodicJobs syncs every channel's templates at start and each TemplateSyncInterval.
func templatePeriodicJobs(cfg *config.Config) []*river.PeriodicJob {
	return []*river.PeriodicJob{templates.PeriodicSync(cfg.TemplateSyncInterval)}
}

// useTemplates turns on the template preflight and the window check in the send path, and the sync after each
// template status webhook (a job enqueued in the webhook's processing transaction).
func (s *Server) useTemplates(cat *templates.Catalogue, q *queue.Queue) {
	checks := map[string]bool{}
	for i := range s.cfg.Channels {
		checks[s.cfg.Channels[i].Name] = s.cfg.Channels[i].WindowCheck
	}
	s.sender.UseTemplates(cat, checks, nil)
	s.proc.OnTemplate(func(ctx context.Context, tx store.Tx, channel string) error {
		return q.InsertTx(ctx, tx, templates.SyncArgs{Channel: channel}, nil)
	})
}
