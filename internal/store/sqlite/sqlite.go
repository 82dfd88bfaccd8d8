// Package sqlite opens wagate's embedded SQLite database: one write connection (SQLite has a single writer;
// queueing writers in Go avoids lock waits) shared with the job queue, a pool of read connections, WAL
// journaling with the log fsynced before any commit is reported (walsync.go) so that an acknowledged webhook
// survives a crash or a power loss, and checkpoints in the background (checkpoint.go).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/wagate/wagate/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is an open SQLite database. It implements store.Driver.
type DB struct {
	path  string
	write *sql.DB
	read  *sql.DB
	rb    *rebinder
	// ckpt is the connection of the background checkpointer (see checkpoint.go).
	ckpt     *sql.DB
	stopCkpt context.CancelFunc
	ckptDone chan struct{}
	// checkpoints counts the background checkpoints that copied pages into the database file.
	checkpoints atomic.Uint64
	// wal makes commits durable (walsync.go).
	wal *walSyncer
}

var _ store.Driver = (*DB)(nil)

// Open opens (creating when missing) the SQLite database at path. It does not migrate; call Migrate.
func Open(ctx context.Context, path string) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("sqlite: create data directory: %w", err)
		}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	path = abs
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(ON)&_pragma=temp_store(MEMORY)"
	u := (&url.URL{Scheme: "file", Path: path}).String()
	drv, err := registeredDriver()
	if err != nil {
		return nil, err
	}
	// The write connection commits at synchronous=NORMAL and InTx fsyncs the log after the commit (walsync.go).
	writePragmas := strings.Replace(pragmas, "synchronous(FULL)", "synchronous(NORMAL)", 1) +
		fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)", walBackstopPages)
	write := sql.OpenDB(connector{dsn: u + "?" + writePragmas + "&_txlock=immediate", drv: drv})
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	read := sql.OpenDB(connector{dsn: u + "?" + pragmas + "&_pragma=query_only(1)", drv: drv})
	read.SetMaxOpenConns(4)
	read.SetMaxIdleConns(4)
	ckpt := sql.OpenDB(connector{dsn: u + "?" + pragmas, drv: drv})
	ckpt.SetMaxOpenConns(1)
	ckpt.SetMaxIdleConns(1)
	ckptCtx, stop := context.WithCancel(context.Background())
	db := &DB{path: path, write: write, read: read, ckpt: ckpt, stopCkpt: stop, ckptDone: make(chan struct{}),
		wal: newWALSyncer(path), rb: newRebinder()}
	go checkpointer(ckptCtx, ckpt, &db.checkpoints, db.ckptDone)
	return db, nil
}

// WriteDB returns the single-connection write pool, which the job queue shares.
func (db *DB) WriteDB() *sql.DB { return db.write }

// Path returns the database file.
func (db *DB) Path() string { return db.path }

func (db *DB) provider() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("sqlite: migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db.write, sub)
	if err != nil {
		return nil, fmt.Errorf("sqlite: migrations: %w", err)
	}
	return p, nil
}

// Migrate applies wagate's schema migrations.
func (db *DB) Migrate(ctx context.Context) error {
	p, err := db.provider()
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// Pending reports whether schema migrations are waiting to be applied.
func (db *DB) Pending(ctx context.Context) (bool, error) {
	p, err := db.provider()
	if err != nil {
		return false, err
	}
	return p.HasPending(ctx)
}

// Read returns the read pool.
func (db *DB) Read() store.Conn { return sqlConn{db.read, db.rb} }

// InTx runs fn in one IMMEDIATE transaction on the write connection and returns once the commit is durable.
func (db *DB) InTx(ctx context.Context, fn func(store.Tx) error) error {
	durable, err := db.InTxDeferred(ctx, fn)
	if err != nil {
		return err
	}
	return durable()
}

// InTxDeferred runs fn in one IMMEDIATE transaction on the write connection and returns as soon as it
// committed, releasing the connection, with a function that waits until the commit is durable. Nothing may be
// acknowledged before that function returned nil.
func (db *DB) InTxDeferred(ctx context.Context, fn func(store.Tx) error) (func() error, error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: begin: %w", err)
	}
	if err := fn(sqlTx{sqlConn{tx, db.rb}, tx}); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: commit: %w", err)
	}
	seq := db.wal.commit()
	return func() error { return db.wal.wait(seq) }, nil
}

// Fsyncs returns how many times wagate has fsynced the write-ahead log to make commits durable; one fsync
// serves every commit that finished before it started.
func (db *DB) Fsyncs() uint64 { return db.wal.count() }

// Checkpoints returns how many background checkpoints have copied pages from the write-ahead log into the
// database file.
func (db *DB) Checkpoints() uint64 { return db.checkpoints.Load() }

// Retryable reports SQLite busy and locked errors.
func (db *DB) Retryable(err error) bool {
	var e *sqlite.Error
	if errors.As(err, &e) {
		switch e.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
	}
	return false
}

// Unavailable reports errors that mean the database cannot take work now (locked beyond the busy timeout,
// read-only, full, or failing to read or write its files), as opposed to a problem with the request.
func (db *DB) Unavailable(err error) bool {
	var e *sqlite.Error
	if errors.As(err, &e) {
		switch e.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR,
			sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN:
			return true
		}
	}
	return false
}

// Ping checks both pools.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.read.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}

// Name returns "sqlite".
func (db *DB) Name() string { return "sqlite" }

// Close closes both pools, checkpointing the WAL.
func (db *DB) Close() error {
	db.stopCkpt()
	<-db.ckptDone
	return errors.Join(db.ckpt.Close(), db.read.Close(), db.write.Close(), db.wal.close())
}

// Backup writes a consistent copy of the database to path while it stays in use.
func (db *DB) Backup(ctx context.Context, path string) error {
	if strings.ContainsRune(path, '\'') {
		return errors.New("sqlite: backup path must not contain a quote")
	}
	if _, err := db.write.ExecContext(ctx, "VACUUM INTO '"+path+"'"); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	return nil
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type sqlConn struct {
	e  execer
	rb *rebinder
}

func (c sqlConn) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	q, args = c.rb.rebind(q, store.TextArgs(args))
	res, err := c.e.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (c sqlConn) Query(ctx context.Context, q string, args ...any) (store.Rows, error) {
	q, args = c.rb.rebind(q, store.TextArgs(args))
	rows, err := c.e.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (c sqlConn) QueryRow(ctx context.Context, q string, args ...any) store.Row {
	q, args = c.rb.rebind(q, store.TextArgs(args))
	return sqlRow{c.e.QueryRowContext(ctx, q, args...)}
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }

type sqlRow struct{ r *sql.Row }

func (r sqlRow) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNoRows
	}
	return err
}

type sqlTx struct {
	sqlConn
	tx *sql.Tx
}

func (t sqlTx) Raw() any { return t.tx }

// LockTx does nothing: SQLite runs one write transaction at a time.
func (db *DB) LockTx(ctx context.Context, tx store.Tx, keys ...int64) error { return nil }
