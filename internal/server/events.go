package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/wagate/wagate/internal/config"
	"github.com/wagate/wagate/internal/queue"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/subscriber"
)

// subscriberRefresh is how often each instance reloads the subscriptions, to see changes made elsewhere (the
// command line, another instance); changes made through this instance's API apply at once.
const subscriberRefresh = 5 * time.Second

// events is the delivery of events to applications' subscriptions.
type events struct {
	st  *store.Store
	hub *subscriber.Hub
	svc *subscriber.Service
	cfg subscriber.Config
}

// SubscriberConfig converts the configuration of event delivery.
func SubscriberConfig(cfg *config.Config) subscriber.Config {
	sc := cfg.Subscriber
	names := make([]string, 0, len(cfg.Channels))
	for i := range cfg.Channels {
		names = append(names, cfg.Channels[i].Name)
	}
	return subscriber.Config{Timeout: sc.Timeout, RetryFor: sc.RetryFor, MinBackoff: sc.MinBackoff, MaxBackoff: sc.MaxBackoff,
		DisableAfter: sc.DisableAfter, WindowLead: sc.WindowLead, Channels: names, PublicURL: cfg.ExternalURL(),
		Guard: subscriber.Guard{AllowPrivate: sc.AllowPrivate, Allow: sc.AllowCIDRs}}
}

// newEvents registers the delivery and window workers; attach completes it once the queue exists.
func newEvents(cfg *config.Config, st *store.Store, commits *store.Batcher, workers *river.Workers, log *slog.Logger) *events {
	e := &events{st: st, cfg: SubscriberConfig(cfg)}
	e.hub = subscriber.NewHub(st, nil, log)
	d := subscriber.NewDeliverer(st, e.cfg)
	river.AddWorker(workers, subscriber.NewWorker(st, e.hub, d, commits, log))
	river.AddWorker(workers, subscriber.NewWindowWorker(st, e.cfg))
	return e
}

// periodic returns the periodic jobs of event delivery.
func (e *events) periodic() []*river.PeriodicJob {
	return []*river.PeriodicJob{subscriber.PeriodicJob()}
}

// attach connects the queue, loads the subscriptions and starts recording events.
func (e *events) attach(ctx context.Context, q *queue.Queue) error {
	e.hub.SetQueue(q)
	e.svc = subscriber.NewService(e.st, q, e.hub, e.cfg)
	if err := e.hub.Refresh(ctx); err != nil {
		return err
	}
	e.st.SetEmitter(e.hub)
	return nil
}

// Subscriptions returns the subscription service.
func (s *Server) Subscriptions() *subscriber.Service { return s.events.svc }
