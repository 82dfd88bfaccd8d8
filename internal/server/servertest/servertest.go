// Package servertest starts a whole wagate server in-process for tests: the real composition of server.New on a
// real database (SQLite in a temporary folder, or a fresh PostgreSQL database), listening on 127.0.0.1.
package servertest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/config"
	"github.com/wagate/wagate/internal/httpapi/contract"
	"github.com/wagate/wagate/internal/server"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/store/postgres/pgtest"
)

// Instance is a running server.
type Instance struct {
	URL    string
	Config *config.Config
	Store  *store.Store
	Server *server.Server
}

// Listen reserves a loopback address for an instance, so that a fake provider can be told where to post
// webhooks before the instance starts.
func Listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// Start runs wagate on ln with the configuration env (as environment variables) on database db ("sqlite" or
// "postgres"), and stops it when the test ends.
func Start(t testing.TB, ln net.Listener, db string, env map[string]string) *Instance {
	t.Helper()
	e := map[string]string{"WAGATE_DATA_DIR": filepath.Join(t.TempDir(), "data"), "WAGATE_LISTEN": ln.Addr().String()}
	if db == "postgres" {
		e["WAGATE_DATABASE_URL"] = pgtest.NewDatabase(t)
	}
	for k, v := range env {
		e[k] = v
	}
	cfg, err := config.Load(nil, func(k string) string { return e[k] }, os.ReadFile)
	if err != nil {
		t.Fatalf("servertest: config: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b, err := server.OpenBackend(ctx, cfg)
	if err != nil {
		t.Fatalf("servertest: %v", err)
	}
	if err := b.Migrate(ctx); err != nil {
		t.Fatalf("servertest: %v", err)
	}
	level := slog.LevelError
	var out io.Writer = io.Discard
	if os.Getenv("WAGATE_TEST_LOG") != "" {
		level, out = slog.LevelDebug, os.Stderr
	}
	srv, err := server.New(cfg, b, slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: level})))
	if err != nil {
		t.Fatalf("servertest: %v", err)
	}
	if _, bench := t.(*testing.B); !bench {
		// Every answer of the API is checked against its OpenAPI document.
		srv.Use(func(h http.Handler) http.Handler { return contract.Wrap(t, h) })
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("servertest: server did not stop within 30s")
		}
		b.Close()
	})
	inst := &Instance{URL: "http://" + ln.Addr().String(), Config: cfg, Store: b.Store, Server: srv}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(inst.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			return inst
		}
		if time.Now().After(deadline) {
			t.Fatalf("servertest: server did not answer: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
