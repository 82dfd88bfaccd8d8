package server

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/wagate/wagate/internal/config"
	"github.com/wagate/wagate/internal/health"
	"github.com/wagate/wagate/internal/live"
	"github.com/wagate/wagate/internal/media"
	"github.com/wagate/wagate/internal/web"
)

// newLive makes the hub of committed changes and installs the store's sink: in-process on SQLite, through
// LISTEN/NOTIFY on PostgreSQL, so that every instance hears of every instance's changes (runLive listens).
func (s *Server) newLive() {
	s.live = live.NewHub()
	if s.backend.pg != nil {
		s.backend.Store.SetChangeSink(live.NotifySink{Store: s.backend.Store})
		return
	}
	s.backend.Store.SetChangeSink(live.LocalSink{Hub: s.live})
}

// runLive receives the changes of every instance on PostgreSQL until ctx ends.
func (s *Server) runLive(ctx context.Context) {
	if s.backend.pg == nil {
		return
	}
	log := s.log.With("component", "live")
	s.backend.pg.Listen(ctx, live.Channel, func(payload string) { s.live.Publish(live.Decode(payload)) },
		func() { s.live.Publish(live.Decode("")) }, // reconnected: changes may have been missed
		func(err error) { log.Warn("listening for changes", "err", err) })
}

// newWeb builds the web UI.
func (s *Server) newWeb(mediaSvc *media.Service) (*web.Handler, error) {
	return web.New(web.Options{Store: s.backend.Store, Sender: s.sender, Channels: webChannels{s}, Media: mediaSvc,
		Replay: s.Replay, Subscriptions: s.events.svc, Live: s.live, Demo: s.cfg.AllDemo(),
		SecureCookies: strings.HasPrefix(s.cfg.ExternalURL(), "https://"), TrustedProxies: s.cfg.TrustedProxies,
		ReadReceipts: ReadReceipts(s.cfg), Log: s.log.With("component", "web")})
}

// Web returns the web UI.
func (s *Server) Web() *web.Handler { return s.web }

// wantsHTML reports whether a request comes from a browser navigating (rather than an API client).
func wantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

type webChannels struct{ s *Server }

func (d webChannels) List() []web.Channel {
	cfg := d.s.cfg
	out := make([]web.Channel, 0, len(cfg.Channels))
	for i := range cfg.Channels {
		c := &cfg.Channels[i]
		out = append(out, web.Channel{Name: c.Name, Provider: string(c.Provider), Demo: c.Demo(), PhoneNumber: c.PhoneNumber,
			PhoneNumberID: c.PhoneNumberID, WebhookURL: cfg.WebhookURL(c), WebhookURLWithToken: cfg.WebhookURLWithToken(c),
			WebhookSecret: c.WebhookSecret.IsSet(), AppSecret: c.AppSecret.IsSet(), VerifyToken: c.VerifyToken.IsSet(),
			IsMeta: c.Provider == config.ProviderMeta, RatePerSecond: c.RatePerSecond, ReadReceipts: c.SendsReadReceipts(),
			WindowCheck: c.WindowCheck, Default: i == 0})
	}
	return out
}

func (d webChannels) Check(ctx context.Context, name string) (health.Report, bool) {
	return channelDirectory(d).Check(ctx, name)
}

// announceSetup tells the operator how to create the first user when there is none: in demo mode the sign-in
// page offers the demo director; otherwise the first-run page asks for a one-time code, which is written to a
// file only the operator can read (never to the log).
func (s *Server) announceSetup(ctx context.Context) {
	code, err := s.web.PrepareSetup(ctx)
	if err != nil {
		s.log.Warn("web ui: counting users", "err", err)
		return
	}
	if code == "" {
		return
	}
	if s.cfg.AllDemo() {
		s.log.Info("web ui: demo mode, sign in as the demo director at " + s.cfg.ExternalURL() + "/login")
		return
	}
	path, err := writeSetupCode(s.cfg.DataDir, code)
	if err != nil {
		s.log.Warn("web ui: no user yet, and the setup code could not be written; create one with `wagate user add --role director`", "err", err)
		return
	}
	s.log.Warn("web ui: no user yet; open " + s.cfg.ExternalURL() + "/setup and enter the code in " + path +
		", or run `wagate user add --role director`")
}

// SetupCodeFile is the file in the data directory holding the first-run setup code.
const SetupCodeFile = "setup-code"

// writeSetupCode writes the first-run code to SetupCodeFile in dir, readable by its owner only, and returns the
// file's path.
func writeSetupCode(dir, code string) (string, error) {
	path := filepath.Join(dir, SetupCodeFile)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return path, fmt.Errorf("setup code: %w", err)
	}
	if err := os.WriteFile(path, []byte(code+"\n"), 0o600); err != nil {
		return path, fmt.Errorf("setup code: %w", err)
	}
	return path, nil
}
