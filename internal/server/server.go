package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/riverqueue/river"

	"github.com/wagate/wagate/internal/config"
	"github.com/wagate/wagate/internal/health"
	"github.com/wagate/wagate/internal/httpapi"
	"github.com/wagate/wagate/internal/inbound"
	"github.com/wagate/wagate/internal/live"
	"github.com/wagate/wagate/internal/metrics"
	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/provider/demo"
	"github.com/wagate/wagate/internal/queue"
	"github.com/wagate/wagate/internal/sender"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/web"
	"github.com/wagate/wagate/internal/webhook"
)

// Server is one running wagate instance.
type Server struct {
	cfg       *config.Config
	log       *slog.Logger
	backend   *Backend
	queue     *queue.Queue
	ingester  *inbound.Ingester
	proc      *inbound.Processor
	metrics   *metrics.Metrics
	providers map[string]provider.Provider
	demos     []*demo.Provider
	sender    *sender.Service
	commits   *store.Batcher
	api       *httpapi.API
	handler   http.Handler
	events    *events
	live      *live.Hub
	web       *web.Handler
}

// Channels converts the configured channels to what the receiver needs.
func Channels(cfg *config.Config) []*inbound.Channel {
	out := make([]*inbound.Channel, 0, len(cfg.Channels))
	for i := range cfg.Channels {
		c := &cfg.Channels[i]
		out = append(out, &inbound.Channel{Name: c.Name, PhoneNumberID: c.PhoneNumberID,
			WebhookSecret: c.WebhookSecret.Reveal(), VerifyToken: c.VerifyToken.Reveal(), AppSecret: c.AppSecret.Reveal()})
	}
	return out
}

// New builds a server on an open, migrated backend.
func New(cfg *config.Config, b *Backend, log *slog.Logger) (*Server, error) {
	m := metrics.New()
	s := &Server{cfg: cfg, log: log, backend: b, metrics: m, providers: map[string]provider.Provider{}}
	s.newLive()
	proc := inbound.NewProcessor(b.Store, Channels(cfg))
	s.proc = proc
	client := providerHTTPClient()
	names := make([]string, 0, len(cfg.Channels))
	for i := range cfg.Channels {
		ch := &cfg.Channels[i]
		names = append(names, ch.Name)
		p := NewProvider(cfg, ch, client, s.demoDeliver(ch.Name))
		if d, ok := p.(*demo.Provider); ok {
			s.demos = append(s.demos, d)
		}
		s.providers[ch.Name] = p
	}
	// On PostgreSQL several instances may share the database: they pace their sends together.
	var gov sender.Pacer = sender.NewGovernor(Limits(cfg), nil)
	if b.Kind() == "postgres" {
		gov = sender.NewSharedGovernor(b.Store, Limits(cfg), nil, log.With("component", "governor"))
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, inbound.NewProcessWorker(b.Store, proc, m, log))
	writers := 1
	if b.Kind() == "postgres" {
		writers = max(1, min(4, cfg.DatabaseMaxConns()/2))
	}
	s.commits = store.NewBatcher(b.Store, writers, 256)
	sendWorker := sender.NewWorker(b.Store, s.commits, s.providers, gov, cfg.SendBackoffCap(), log.With("component", "sender"))
	river.AddWorker(workers, sendWorker)
	cat, err := s.templateCatalogue(workers, sendWorker, names)
	if err != nil {
		return nil, err
	}
	river.AddWorker(workers, sender.NewMarkReadWorker(s.providers))
	mediaSvc, periodic, err := newMedia(cfg, b.Store, workers, s.providers, m, log)
	if err != nil {
		return nil, err
	}
	s.events = newEvents(cfg, b.Store, s.commits, workers, log.With("component", "subscriber"))
	periodic = append(periodic, s.events.periodic()...)
	periodic = append(periodic, templatePeriodicJobs(cfg)...)
	q, err := b.NewQueue(queue.Config{Workers: workers, MaxWorkers: cfg.QueueWorkers(), Logger: log.With("component", "queue"),
		PeriodicJobs: periodic})
	if err != nil {
		return nil, err
	}
	s.queue = q
	mediaSvc.SetQueue(q)
	proc.SetMedia(mediaSvc.EnqueueFetchTx)
	sendWorker.SetFiles(mediaSvc)
	if err := s.events.attach(context.Background(), q); err != nil {
		return nil, err
	}
	// Two committing writers ingest fastest on PostgreSQL (measured with 1, 2, 4 and 8): fewer, larger batches
	// commit less often, yet a second writer overlaps one batch's round trips with another's.
	ingestWriters := 1
	if b.Kind() == "postgres" {
		ingestWriters = 2
	}
	s.ingester = inbound.NewIngester(b.Store, q, proc, m, log.With("component", "ingest"), inbound.IngesterConfig{Writers: ingestWriters})
	s.sender = sender.NewService(b.Store, q, s.commits, names, s.providers)
	s.sender.SetFiles(mediaSvc)
	s.useTemplates(cat, q)

	mux := http.NewServeMux()
	inbound.NewReceiver(proc, s.ingester, cfg.MaxWebhookBody, m, log.With("component", "webhook")).Register(mux)
	s.api = httpapi.New(httpapi.Options{Store: b.Store, Token: cfg.APIToken.Reveal(), Replay: s.Replay, Sender: s.sender,
		Channels: channelDirectory{s}, Log: log.With("component", "api"), Access: AccessOptions(cfg), Subscriptions: s.events.svc,
		ReadReceipts: ReadReceipts(cfg)})
	s.api.SetMedia(mediaSvc)
	s.api.Register(mux)
	if s.web, err = s.newWeb(mediaSvc); err != nil {
		return nil, err
	}
	s.web.Register(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.ready)
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /{$}", s.home)
	s.handler = httpapi.CompatPaths(mux)
	return s, nil
}

// demoDeliver hands a demo channel's simulated webhooks to the real inbound path: parsed, made durable and
// processed like a provider's.
func (s *Server) demoDeliver(channel string) demo.Deliver {
	return func(ctx context.Context, body []byte) error {
		hook, perr := webhook.Parse(body)
		ev := &store.Event{Channel: channel, AuthChannels: []string{channel}, Body: body, ContentType: "application/json", RemoteAddr: "demo"}
		_, err := s.ingester.Accept(ctx, ev, hook, perr)
		return err
	}
}

// Sender returns the send service.
func (s *Server) Sender() *sender.Service { return s.sender }

type channelDirectory struct{ s *Server }

func (d channelDirectory) List() []httpapi.ChannelInfo {
	out := []httpapi.ChannelInfo{}
	for i := range d.s.cfg.Channels {
		c := &d.s.cfg.Channels[i]
		out = append(out, httpapi.ChannelInfo{Name: c.Name, Provider: string(c.Provider), PhoneNumber: c.PhoneNumber,
			PhoneNumberID: c.PhoneNumberID, WebhookURL: d.s.cfg.WebhookURL(c), WebhookSecret: c.WebhookSecret.IsSet(),
			AppSecret: c.AppSecret.IsSet(), RatePerSecond: c.RatePerSecond, Default: i == 0})
	}
	return out
}

func (d channelDirectory) Check(ctx context.Context, name string) (health.Report, bool) {
	ch, ok := d.s.cfg.Channel(name)
	if !ok {
		return health.Report{}, false
	}
	return CheckChannel(ctx, d.s.cfg, ch, d.s.providers[name]), true
}

func (d channelDirectory) Provider(name string) (provider.Provider, bool) {
	p, ok := d.s.providers[name]
	return p, ok
}

// APIRoutes returns the /v1 endpoints the server mounted.
func (s *Server) APIRoutes() []httpapi.Route { return s.api.Routes() }

// Use puts mw in front of every endpoint; call it before Run.
func (s *Server) Use(mw func(http.Handler) http.Handler) { s.handler = mw(s.handler) }

// Handler returns the HTTP handler of every endpoint.
func (s *Server) Handler() http.Handler { return s.handler }

// Replay processes a stored webhook event again.
func (s *Server) Replay(ctx context.Context, id string) (store.Event, error) {
	return inbound.Replay(ctx, s.backend.Store, s.proc, id)
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	rc := s.backend.Ready(r.Context())
	rc.Warnings = s.cfg.Warnings()
	status := http.StatusOK
	if !rc.Ready {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, rc)
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	if wantsHTML(r) {
		http.Redirect(w, r, "/inbox", http.StatusSeeOther)
		return
	}
	type channel struct {
		Name       string `json:"name"`
		Provider   string `json:"provider"`
		WebhookURL string `json:"webhook_url"`
	}
	var chans []channel
	for i := range s.cfg.Channels {
		c := &s.cfg.Channels[i]
		chans = append(chans, channel{c.Name, string(c.Provider), s.cfg.WebhookURL(c)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"service": "wagate", "version": Version, "channels": chans,
		"endpoints": []string{"/v1/conversations", "/v1/events", "/healthz", "/readyz", "/metrics"}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Run serves on ln until ctx ends, then shuts down in order: stop taking requests (waiting for those in
// flight, whose webhooks are committed), stop the ingester, stop the job queue.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	if err := s.queue.Start(ctx); err != nil {
		return err
	}
	s.ingester.Start()
	go s.events.hub.Watch(ctx, subscriberRefresh)
	go s.runLive(ctx)
	s.announceSetup(ctx)
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	s.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil {
		s.log.Warn("http shutdown", "err", serr)
	}
	s.ingester.Stop()
	for _, d := range s.demos {
		d.Close()
	}
	if qerr := s.queue.Stop(sctx); qerr != nil {
		s.log.Warn("queue shutdown", "err", qerr)
	}
	s.commits.Close()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// Version is the build's version, set with -ldflags "-X github.com/wagate/wagate/internal/server.Version=...".
var Version = "dev"
