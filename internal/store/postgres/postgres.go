// Package postgres opens wagate's PostgreSQL database through a pgx pool, for deployments that outgrow one
// machine: several wagate instances share it.
package postgres

import (
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/wagate/wagate/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the advisory lock key held while any instance migrates ("wagate" in ASCII).
const migrationLock int64 = 0x776167617465

// DB is an open PostgreSQL database. It implements store.Driver.
type DB struct {
	pool *pgxpool.Pool
}

var _ store.Driver = (*DB)(nil)

// Open connects to the database at url (postgres://...). maxConns <= 0 keeps pgx's default.
func Open(ctx context.Context, url string, maxConns int32) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message may quote the URL, password included: say only what kind of problem it is.
		return nil, errors.New("postgres: WAGATE_DATABASE_URL is not a valid PostgreSQL connection URL")
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect to %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	return &DB{pool: pool}, nil
}

// Pool returns the pgx pool, which the job queue shares.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

func (db *DB) provider() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, stdlib.OpenDBFromPool(db.pool), sub)
	if err != nil {
		return nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	return p, nil
}

// Migrate applies wagate's schema migrations and then more (the job queue's), all under one advisory lock so
// that instances starting together migrate one at a time.
func (db *DB) Migrate(ctx context.Context, more func(context.Context) error) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return fmt.Errorf("postgres: migration lock: %w", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock)
	}()
	p, err := db.provider()
	if err != nil {
		return err
	}
	defer p.Close()
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if more != nil {
		if err := more(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Pending reports whether schema migrations are waiting to be applied.
func (db *DB) Pending(ctx context.Context) (bool, error) {
	p, err := db.provider()
	if err != nil {
		return false, err
	}
	defer p.Close()
	return p.HasPending(ctx)
}

// Read returns the pool as a Conn.
func (db *DB) Read() store.Conn { return pgConn{db.pool} }

// InTx runs fn in one transaction.
func (db *DB) InTx(ctx context.Context, fn func(store.Tx) error) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	if err := fn(pgTx{pgConn{tx}, tx}); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

// Retryable reports deadlocks, serialization failures and unique violations raced by a concurrent insert.
func (db *DB) Retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "40001", "40P01", "23505":
			return true
		}
	}
	return false
}

// Unavailable reports errors that mean the database cannot be reached or cannot take work now (the server is
// down, restarting, out of connections or read-only), as opposed to a problem with the request.
func (db *DB) Unavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "53"),                           // insufficient resources (too many connections, disk full)
			pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03", // shutting down, crashed, starting up
			pe.Code == "25006": // read-only transaction (a standby)
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF)
}

// Ping checks the connection.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

// Name returns "postgres".
func (db *DB) Name() string { return "postgres" }

// Close closes the pool.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

type pgConn struct{ q querier }

func (c pgConn) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := c.q.Exec(ctx, q, pgArgs(q, args)...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (c pgConn) Query(ctx context.Context, q string, args ...any) (store.Rows, error) {
	rows, err := c.q.Query(ctx, q, pgArgs(q, args)...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func (c pgConn) QueryRow(ctx context.Context, q string, args ...any) store.Row {
	return pgRow{c.q.QueryRow(ctx, q, pgArgs(q, args)...)}
}

// pgArgs returns the arguments to hand pgx for q. pgx prepares each statement once per connection, and
// PostgreSQL then reuses a generic plan; a statement that begins with store.PlanPerCall runs as an unnamed
// statement instead, which PostgreSQL plans for its values and the table's current size at each call.
func pgArgs(q string, args []any) []any {
	args = store.TextArgs(args)
	if strings.HasPrefix(q, store.PlanPerCall) {
		return append([]any{pgx.QueryExecModeExec}, args...)
	}
	return args
}

type pgRow struct{ r pgx.Row }

func (r pgRow) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNoRows
	}
	return err
}

type pgTx struct {
	pgConn
	tx pgx.Tx
}

func (t pgTx) Raw() any { return t.tx }

// ExecAll sends stmts in one batch: one round trip, run in order in the transaction.
func (t pgTx) ExecAll(ctx context.Context, stmts []store.Stmt) ([]int64, error) {
	b := &pgx.Batch{}
	for _, st := range stmts {
		if strings.HasPrefix(st.SQL, store.PlanPerCall) {
			// A batch runs in the connection's mode, which keeps plans.
			return nil, fmt.Errorf("postgres: a statement planned per call cannot be pipelined: %.60s", st.SQL)
		}
		b.Queue(st.SQL, store.TextArgs(st.Args)...)
	}
	br := t.tx.SendBatch(ctx, b)
	n := make([]int64, len(stmts))
	for i := range stmts {
		tag, err := br.Exec()
		if err != nil {
			_ = br.Close()
			return nil, fmt.Errorf("%s (statement %d of %d sent together): %w", cmp.Or(stmts[i].Op, "statement"), i+1, len(stmts), err)
		}
		n[i] = tag.RowsAffected()
	}
	return n, br.Close()
}

// LockTx takes transaction-scoped advisory locks on the keys, in their order.
func (db *DB) LockTx(ctx context.Context, tx store.Tx, keys ...int64) error {
	var err error
	switch len(keys) {
	case 0:
	case 1:
		_, err = tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", keys[0])
	default:
		// unnest yields the keys in the array's order, and the scan locks them one row at a time in that order.
		_, err = tx.Exec(ctx, "SELECT pg_advisory_xact_lock(k) FROM unnest(CAST($1 AS BIGINT[])) AS k", keys)
	}
	return err
}
