// Package server composes wagate: it opens the database the configuration names, builds the receiver, API and
// probes on one http.ServeMux, and runs them until the context ends.
package server

import (
	"context"
	"fmt"
	"time"

	"github.com/wagate/wagate/internal/config"
	"github.com/wagate/wagate/internal/queue"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/store/postgres"
	"github.com/wagate/wagate/internal/store/sqlite"
)

// Backend is the database of one process: the store over it and the means to build its job queue.
type Backend struct {
	Store *store.Store
	lite  *sqlite.DB
	pg    *postgres.DB
}

// OpenBackend opens the SQLite file in the data directory, or PostgreSQL when WAGATE_DATABASE_URL is set.
func OpenBackend(ctx context.Context, cfg *config.Config) (*Backend, error) {
	if cfg.SQLite() {
		db, err := sqlite.Open(ctx, cfg.SQLitePath())
		if err != nil {
			return nil, err
		}
		return &Backend{Store: store.New(db, nil), lite: db}, nil
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL.Reveal(), int32(cfg.DatabaseMaxConns()))
	if err != nil {
		return nil, err
	}
	return &Backend{Store: store.New(db, nil), pg: db}, nil
}

// Kind is "sqlite" or "postgres".
func (b *Backend) Kind() string { return b.Store.Driver().Name() }

// SQLite returns the SQLite database, or nil on PostgreSQL.
func (b *Backend) SQLite() *sqlite.DB { return b.lite }

// NewQueue builds the job queue on this database.
func (b *Backend) NewQueue(cfg queue.Config) (*queue.Queue, error) {
	if b.lite != nil {
		return queue.NewSQLite(b.lite.WriteDB(), cfg)
	}
	return queue.NewPostgres(b.pg.Pool(), cfg)
}

// Migrate applies wagate's and the job queue's migrations (on PostgreSQL under one advisory lock).
func (b *Backend) Migrate(ctx context.Context) error {
	q, err := b.NewQueue(queue.Config{})
	if err != nil {
		return err
	}
	if b.lite != nil {
		if err := b.lite.Migrate(ctx); err != nil {
			return err
		}
		return q.Migrate(ctx)
	}
	return b.pg.Migrate(ctx, q.Migrate)
}

// Pending reports whether any migration is waiting.
func (b *Backend) Pending(ctx context.Context) (bool, error) {
	var pending bool
	var err error
	if b.lite != nil {
		pending, err = b.lite.Pending(ctx)
	} else {
		pending, err = b.pg.Pending(ctx)
	}
	if err != nil || pending {
		return pending, err
	}
	q, err := b.NewQueue(queue.Config{})
	if err != nil {
		return false, err
	}
	return q.Pending(ctx)
}

// Close closes the database.
func (b *Backend) Close() error { return b.Store.Close() }

// ReadyCheck is the readiness state shown by /readyz.
type ReadyCheck struct {
	Ready      bool     `json:"ready"`
	Database   string   `json:"database"`
	Migrations string   `json:"migrations"`
	Problems   []string `json:"problems,omitempty"`
	Warnings   []string `json:"warnings,omitempty"`
}

// Ready checks that the database answers and that migrations are applied.
func (b *Backend) Ready(ctx context.Context) ReadyCheck {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	rc := ReadyCheck{Database: b.Kind(), Migrations: "applied", Ready: true}
	if err := b.Store.Ping(ctx); err != nil {
		rc.Ready = false
		rc.Problems = append(rc.Problems, fmt.Sprintf("database unreachable: %v", err))
		rc.Migrations = "unknown"
		return rc
	}
	pending, err := b.Pending(ctx)
	switch {
	case err != nil:
		rc.Ready, rc.Migrations = false, "unknown"
		rc.Problems = append(rc.Problems, fmt.Sprintf("cannot read migration state: %v", err))
	case pending:
		rc.Ready, rc.Migrations = false, "pending"
		rc.Problems = append(rc.Problems, "migrations are pending: run `wagate migrate` (wagate serve applies them at start)")
	}
	return rc
}
