package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/wagate/wagate/internal/childproc"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/store/postgres"
	"github.com/wagate/wagate/internal/store/postgres/pgtest"
	"github.com/wagate/wagate/internal/store/sqlite"
)

// Credentials of the drills' wagate processes.
const (
	// apiToken is WAGATE_API_TOKEN: the API clients send it as a bearer token.
	apiToken = "faults-api-token-5f2a9c7e1b3d4f6a8c0e2b4d6f8a0c1e"
	// webhookSecret is WAGATE_WEBHOOK_SECRET, carried by every webhook the drills post.
	webhookSecret = "faults-webhook-secret-0123456789abcdef"
	// providerKey is the fake 360dialog account's D360-API-KEY.
	providerKey = "faults-d360-api-key-0123456789"
	// channel is the default channel's name.
	channel = "default"
)

// node is one wagate server of a drill: its database (a SQLite file in a data directory of its own, or a fresh
// PostgreSQL database) and its address stay the same across restarts, so that a restarted process takes over
// where the killed one stopped and the fake provider's and clients' requests reach it.
type node struct {
	e       *env
	key     string // sqlite or postgres
	addr    string
	url     string
	dataDir string
	dbURL   string
	vars    []string
	p       *childproc.Proc
	runs    int
	cleanup []func() error
}

// newNode prepares a wagate on a fresh database of kind key with the extra environment variables; it is not
// started.
func (e *env) newNode(ctx context.Context, key string, extra ...string) (*node, error) {
	n := &node{e: e, key: key}
	dir, err := os.MkdirTemp("", "wagate-faults-data-*")
	if err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	n.dataDir = dir
	n.cleanup = append(n.cleanup, func() error { return os.RemoveAll(dir) })
	if n.addr, err = childproc.FreeAddr(); err != nil {
		n.close()
		return nil, err
	}
	n.url = "http://" + n.addr
	n.vars = []string{"WAGATE_LISTEN=" + n.addr, "WAGATE_PUBLIC_URL=" + n.url, "WAGATE_DATA_DIR=" + dir,
		"WAGATE_LOG_LEVEL=warn", "WAGATE_API_TOKEN=" + apiToken, "WAGATE_WEBHOOK_SECRET=" + webhookSecret,
		"WAGATE_API_RATE_PER_MINUTE=0", "WAGATE_API_RATE_PER_HOUR=0"}
	if key == "postgres" {
		dbURL, drop, err := pgtest.Create(ctx, e.opts.PostgresURL, "wagate_faults_")
		if err != nil {
			n.close()
			return nil, err
		}
		n.dbURL = dbURL
		n.cleanup = append(n.cleanup, drop)
		n.vars = append(n.vars, "WAGATE_DATABASE_URL="+dbURL)
	}
	n.vars = append(n.vars, extra...)
	return n, nil
}

// start starts wagate (again) and waits until /readyz answers 200.
// startNode prepares a wagate as newNode does and starts it; the caller closes it.
func (e *env) startNode(ctx context.Context, key string, extra ...string) (*node, error) {
	n, err := e.newNode(ctx, key, extra...)
	if err != nil {
		return nil, err
	}
	if err := n.start(ctx); err != nil {
		n.close()
		return nil, err
	}
	return n, nil
}

func (n *node) start(ctx context.Context) error {
	n.runs++
	p, err := n.e.procs.Start(fmt.Sprintf("wagate-%s-%d", n.key, n.runs), n.e.opts.Wagate, []string{"serve"}, childproc.Env(n.vars...))
	if err != nil {
		return err
	}
	n.p = p
	return childproc.WaitReady(ctx, p, n.url+"/readyz", 2*time.Minute)
}

// kill SIGKILLs the running wagate.
func (n *node) kill() error { return n.p.Kill() }

// stop stops the running wagate with SIGTERM.
func (n *node) stop() error { return n.p.Stop() }

// close stops wagate if it still runs and removes its database.
func (n *node) close() {
	if n.p != nil {
		_ = n.p.Stop()
	}
	for i := len(n.cleanup) - 1; i >= 0; i-- {
		if err := n.cleanup[i](); err != nil {
			n.e.logf("cleanup: %v", err)
		}
	}
	n.cleanup = nil
}

// open opens the node's database directly, to check what wagate committed.
func (n *node) open(ctx context.Context) (*store.Store, error) {
	if n.key == "postgres" {
		db, err := postgres.Open(ctx, n.dbURL, 4)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		return store.New(db, nil), nil
	}
	db, err := sqlite.Open(ctx, filepath.Join(n.dataDir, "wagate.db"))
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	return store.New(db, nil), nil
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
