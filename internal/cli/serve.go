package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"runtime/debug"
	"time"

	"github.com/wagate/wagate/internal/server"
)

func version() string { return server.Version }

func (e Env) serve(ctx context.Context, args []string) int {
	var printConfig bool
	cfg := e.load(args, func(fs *flagSet) {
		fs.BoolVar(&printConfig, "print-config", false, "print the configuration (secrets redacted) and exit")
	})
	if cfg == nil {
		return 2
	}
	if printConfig {
		b, _ := json.MarshalIndent(cfg.Redacted(), "", "  ")
		fmt.Fprintln(e.Stdout, string(b))
		return 0
	}
	log := newLogger(cfg, e.Stderr)
	if e.Getenv("GOGC") == "" {
		// wagate's live heap is small, so the default (collect when the heap doubles) runs the collector
		// several times a second under load. Tripling instead halves that work for a few MB more memory.
		debug.SetGCPercent(200)
	}
	for _, w := range cfg.Warnings() {
		log.Warn(w)
	}
	b, err := server.OpenBackend(ctx, cfg)
	if err != nil {
		log.Error("cannot open the database", "err", err)
		return 1
	}
	defer b.Close()
	mctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	err = b.Migrate(mctx)
	cancel()
	if err != nil {
		log.Error("cannot migrate the database", "err", err)
		return 1
	}
	srv, err := server.New(cfg, b, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		log.Error("cannot listen", "addr", cfg.Listen, "err", err)
		return 1
	}
	where := b.Kind()
	if lite := b.SQLite(); lite != nil {
		where = "sqlite " + lite.Path()
	}
	log.Info("wagate listening", "url", cfg.ExternalURL(), "addr", ln.Addr().String(), "database", where, "version", version())
	for i := range cfg.Channels {
		c := &cfg.Channels[i]
		log.Info("register this webhook URL at the provider", "channel", c.Name, "provider", string(c.Provider),
			"webhook_url", cfg.WebhookURL(c), "authenticated", !(c.WebhookSecret == "" && c.AppSecret == ""))
		if c.Demo() {
			log.Info("demo mode: no provider credentials; sends are simulated and receipts come back through the webhook path", "channel", c.Name)
		}
	}
	logAPIAccess(ctx, cfg, b, log)
	if err := srv.Run(ctx, ln); err != nil {
		log.Error("server stopped", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

func (e Env) migrate(ctx context.Context, args []string) int {
	cfg := e.load(args, nil)
	if cfg == nil {
		return 2
	}
	b, err := server.OpenBackend(ctx, cfg)
	if err != nil {
		fmt.Fprintf(e.Stderr, "wagate migrate: %v\n", err)
		return 1
	}
	defer b.Close()
	if err := b.Migrate(ctx); err != nil {
		fmt.Fprintf(e.Stderr, "wagate migrate: %v\n", err)
		return 1
	}
	fmt.Fprintf(e.Stdout, "migrations applied (%s)\n", b.Kind())
	return 0
}
