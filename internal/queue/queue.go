// Package queue sets up River, wagate's durable job queue, on either database. Callers enqueue jobs in the
// same transaction as the rows they belong to (InsertTx) and register workers; this package hides which
// database River runs on.
package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/wagate/wagate/internal/store"
)

// Config configures the queue. With nil Workers the queue only inserts (for command-line tools).
type Config struct {
	Workers    *river.Workers
	MaxWorkers int // concurrent jobs per instance; default 20
	Logger     *slog.Logger
	// FetchCooldown and FetchPollInterval tune how quickly new jobs are picked up; zero keeps River's
	// defaults (100 ms and 1 s).
	FetchCooldown     time.Duration
	FetchPollInterval time.Duration
	// PeriodicJobs are enqueued on their schedules by the instance River elects leader.
	PeriodicJobs []*river.PeriodicJob
}

// JobTimeout bounds one run of any job.
const JobTimeout = 2 * time.Minute

// RescueAfter is how long after its start a job left running by a crashed instance is retried on PostgreSQL
// (on SQLite, where one process owns the database, such jobs are retried at once when wagate starts).
const RescueAfter = JobTimeout + time.Minute

// Queue is River on wagate's database.
type Queue struct {
	insertTx   func(ctx context.Context, tx store.Tx, args river.JobArgs, opts *river.InsertOpts) error
	insertMany func(ctx context.Context, tx store.Tx, args []river.JobArgs) error
	start      func(ctx context.Context) error
	stop       func(ctx context.Context) error
	migrate    func(ctx context.Context) error
	pending    func(ctx context.Context) (bool, error)
	subscribe  func(kinds ...river.EventKind) (<-chan *river.Event, func())
	list       func(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	canProcess bool
}

func riverConfig(cfg Config) *river.Config {
	rc := &river.Config{
		Logger:            cfg.Logger,
		FetchCooldown:     cfg.FetchCooldown,
		FetchPollInterval: cfg.FetchPollInterval,
		// A job still "running" RescueAfter after it started belonged to a crashed process: it is retried.
		JobTimeout:           JobTimeout,
		RescueStuckJobsAfter: RescueAfter,
	}
	if rc.Logger == nil {
		rc.Logger = slog.New(slog.DiscardHandler)
	} else {
		// River reports routine state at info; wagate's log keeps its warnings and errors.
		rc.Logger = slog.New(minLevel{rc.Logger.Handler(), slog.LevelWarn})
	}
	if cfg.Workers != nil {
		n := cfg.MaxWorkers
		if n <= 0 {
			n = 20
		}
		rc.Workers = cfg.Workers
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: n}}
		rc.PeriodicJobs = cfg.PeriodicJobs
	}
	return rc
}

// NewSQLite returns a queue on the SQLite write pool (which must have a single connection).
func NewSQLite(db *sql.DB, cfg Config) (*Queue, error) {
	drv := riversqlite.New(db)
	if cfg.FetchPollInterval == 0 {
		// SQLite has no LISTEN/NOTIFY: River polls. A poll is one indexed query on the write connection, cheap
		// enough to run every 50 ms (a few percent of a core when idle); sends queued meanwhile leave within that.
		cfg.FetchPollInterval = 50 * time.Millisecond
	}
	if cfg.FetchCooldown == 0 || cfg.FetchCooldown > cfg.FetchPollInterval {
		cfg.FetchCooldown = min(5*time.Millisecond, cfg.FetchPollInterval)
	}
	rc := riverConfig(cfg)
	rc.PollOnly = true
	client, err := river.NewClient(drv, rc)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	q := build(drv, client, cfg.Workers != nil)
	start := q.start
	q.start = func(ctx context.Context) error {
		// One process owns a SQLite database: jobs still marked running were cut off when the last process
		// died (kill -9, power loss). Make them available again now instead of after RescueAfter.
		res, err := db.ExecContext(ctx, sqlRescueRunning)
		if err != nil {
			return fmt.Errorf("queue: rescue jobs of the previous process: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 && cfg.Logger != nil {
			cfg.Logger.Warn("jobs interrupted by the previous process are retried now", "jobs", n)
		}
		return start(ctx)
	}
	return q, nil
}

const sqlRescueRunning = `UPDATE river_job SET state = 'available' WHERE state = 'running'`

// NewPostgres returns a queue on the PostgreSQL pool, woken by LISTEN/NOTIFY.
func NewPostgres(pool *pgxpool.Pool, cfg Config) (*Queue, error) {
	if cfg.FetchCooldown == 0 {
		// River fetches at most once per cooldown even when a notification says jobs arrived (default 100 ms):
		// a send accepted just after a fetch would wait that long.
		cfg.FetchCooldown = 10 * time.Millisecond
	}
	drv := riverpgxv5.New(pool)
	client, err := river.NewClient(drv, riverConfig(cfg))
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	return build(drv, client, cfg.Workers != nil), nil
}

func migrationsPending[TTx any](ctx context.Context, drv riverdriver.Driver[TTx]) (bool, error) {
	m, err := rivermigrate.New(drv, nil)
	if err != nil {
		return false, fmt.Errorf("queue: migrations: %w", err)
	}
	res, err := m.Validate(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("queue: migrations: %w", err)
	}
	return !res.OK, nil
}

func build[TTx any](drv riverdriver.Driver[TTx], client *river.Client[TTx], canProcess bool) *Queue {
	return &Queue{
		canProcess: canProcess,
		insertTx: func(ctx context.Context, tx store.Tx, args river.JobArgs, opts *river.InsertOpts) error {
			t, ok := tx.Raw().(TTx)
			if !ok {
				return fmt.Errorf("queue: transaction %T does not belong to this database", tx.Raw())
			}
			if _, err := client.InsertTx(ctx, t, args, opts); err != nil {
				return fmt.Errorf("queue: insert %s: %w", args.Kind(), err)
			}
			return nil
		},
		insertMany: func(ctx context.Context, tx store.Tx, args []river.JobArgs) error {
			t, ok := tx.Raw().(TTx)
			if !ok {
				return fmt.Errorf("queue: transaction %T does not belong to this database", tx.Raw())
			}
			return insertManyTx(ctx, client, t, args)
		},
		migrate: func(ctx context.Context) error {
			m, err := rivermigrate.New(drv, nil)
			if err != nil {
				return fmt.Errorf("queue: migrate: %w", err)
			}
			if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
				return fmt.Errorf("queue: migrate: %w", err)
			}
			return nil
		},
		pending:   func(ctx context.Context) (bool, error) { return migrationsPending(ctx, drv) },
		start:     client.Start,
		stop:      client.Stop,
		subscribe: client.Subscribe,
		list:      client.JobList,
	}
}

// Migrate creates or upgrades River's tables.
func (q *Queue) Migrate(ctx context.Context) error { return q.migrate(ctx) }

// InsertTx enqueues a job in tx: it runs only if tx commits.
func (q *Queue) InsertTx(ctx context.Context, tx store.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	return q.insertTx(ctx, tx, args, opts)
}

// Start starts working jobs. It returns at once; Stop waits for running jobs.
func (q *Queue) Start(ctx context.Context) error {
	if !q.canProcess {
		return errors.New("queue: insert-only queue cannot start")
	}
	if err := q.start(ctx); err != nil {
		return fmt.Errorf("queue: start: %w", err)
	}
	return nil
}

// Stop stops fetching jobs and waits for running ones to finish, or for ctx.
func (q *Queue) Stop(ctx context.Context) error {
	if !q.canProcess {
		return nil
	}
	if err := q.stop(ctx); err != nil {
		return fmt.Errorf("queue: stop: %w", err)
	}
	return nil
}

// Subscribe returns a channel of job events (completed, failed, ...) for tests and metrics.
func (q *Queue) Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func()) {
	return q.subscribe(kinds...)
}

// Pending reports whether River's migrations are waiting to be applied.
func (q *Queue) Pending(ctx context.Context) (bool, error) { return q.pending(ctx) }

// CompleteTx marks a job completed inside tx, so that the job's effects and its completion commit together:
// a crash either keeps both or neither, and the job's work is never applied twice.
func CompleteTx[T river.JobArgs](ctx context.Context, tx store.Tx, job *river.Job[T]) error {
	var err error
	switch t := tx.Raw().(type) {
	case *sql.Tx:
		_, err = river.JobCompleteTx[*riversqlite.Driver](ctx, t, job)
	case pgx.Tx:
		_, err = river.JobCompleteTx[*riverpgxv5.Driver](ctx, t, job)
	default:
		err = fmt.Errorf("unknown transaction type %T", t)
	}
	if err != nil {
		return fmt.Errorf("queue: complete job %d: %w", job.ID, err)
	}
	return nil
}

// minLevel drops records below a level.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(a), h.min}
}

func (h minLevel) WithGroup(n string) slog.Handler { return minLevel{h.Handler.WithGroup(n), h.min} }
