// Package sqlite opens wagate's embedded SQLite database: one write connection (SQLite has a single writer;
// queueing writers in Go avoids lock waits) shared with the job queue, a pool of read connections, WAL
// journaling and full fsync on commit so that an acknowledged webhook survives a crash.
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
	"sync"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/wagate/wagate/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is an open SQLite database. It implements store.Driver.
type DB struct {
	path   string
	write  *sql.DB
	read   *sql.DB
	wstmts *stmtCache
	rstmts *stmtCache
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
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(ON)"
	u := (&url.URL{Scheme: "file", Path: path}).String()
	write, err := sql.Open("sqlite", u+"?"+pragmas+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", u+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	read.SetMaxOpenConns(4)
	read.SetMaxIdleConns(4)
	return &DB{path: path, write: write, read: read, wstmts: newStmtCache(write), rstmts: newStmtCache(read)}, nil
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
func (db *DB) Read() store.Conn { return poolConn{db.read, db.rstmts} }

// InTx runs fn in one IMMEDIATE transaction on the write connection.
func (db *DB) InTx(ctx context.Context, fn func(store.Tx) error) error {
	defer db.wstmts.prepareWanted(context.WithoutCancel(ctx))
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	if err := fn(sqlTx{txConn{tx, db.wstmts}, tx}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

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

// ReadOnly reports whether err says the database file cannot be written.
func ReadOnly(err error) bool {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()&0xff == sqlite3.SQLITE_READONLY
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
	return errors.Join(db.read.Close(), db.write.Close())
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

// stmtCache keeps one prepared statement per SQL text: parsing SQL is a third of the cost of a small statement
// in SQLite, and database/sql does not keep statements prepared by itself.
//
// The write pool has a single connection, which a transaction holds: a statement first seen inside a
// transaction cannot be prepared on the pool then (that would wait for the connection the transaction holds).
// It runs unprepared that time and is prepared once the transaction has ended.
type stmtCache struct {
	db     *sql.DB
	mu     sync.Mutex
	m      map[string]*sql.Stmt
	wanted map[string]bool
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}, wanted: map[string]bool{}}
}

// cached returns the prepared statement for q, or nil after noting that q is wanted.
func (c *stmtCache) cached(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.m[q]
	if !ok {
		c.wanted[q] = true
	}
	return st
}

// prepareWanted prepares the statements noted by cached. Call it with no transaction open on the pool.
func (c *stmtCache) prepareWanted(ctx context.Context) {
	c.mu.Lock()
	var qs []string
	for q := range c.wanted {
		qs = append(qs, q)
	}
	clear(c.wanted)
	c.mu.Unlock()
	for _, q := range qs {
		_, _ = c.get(ctx, q)
	}
}

func (c *stmtCache) get(ctx context.Context, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	st, ok := c.m[q]
	c.mu.Unlock()
	if ok {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if prev, ok := c.m[q]; ok {
		c.mu.Unlock()
		_ = st.Close()
		return prev, nil
	}
	c.m[q] = st
	c.mu.Unlock()
	return st, nil
}

// poolConn runs statements on a pool with cached prepared statements.
type poolConn struct {
	db *sql.DB
	c  *stmtCache
}

func (p poolConn) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	st, err := p.c.get(ctx, q)
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (p poolConn) Query(ctx context.Context, q string, args ...any) (store.Rows, error) {
	st, err := p.c.get(ctx, q)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (p poolConn) QueryRow(ctx context.Context, q string, args ...any) store.Row {
	st, err := p.c.get(ctx, q)
	if err != nil {
		return errRow{err}
	}
	return sqlRow{st.QueryRowContext(ctx, args...)}
}

// txConn runs statements in a transaction, reusing the statements prepared on its connection (the write pool
// has one connection, so they always are).
type txConn struct {
	tx *sql.Tx
	c  *stmtCache
}

// txExec runs one statement in a transaction: prepared when cached, else from its text.
type txExec struct {
	tx *sql.Tx
	st *sql.Stmt
	q  string
}

func (t txConn) stmt(ctx context.Context, q string) txExec {
	if st := t.c.cached(q); st != nil {
		return txExec{st: t.tx.StmtContext(ctx, st)}
	}
	return txExec{tx: t.tx, q: q}
}

func (e txExec) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	if e.st != nil {
		return e.st.ExecContext(ctx, args...)
	}
	return e.tx.ExecContext(ctx, e.q, args...)
}

func (e txExec) QueryContext(ctx context.Context, args ...any) (*sql.Rows, error) {
	if e.st != nil {
		return e.st.QueryContext(ctx, args...)
	}
	return e.tx.QueryContext(ctx, e.q, args...)
}

func (e txExec) QueryRowContext(ctx context.Context, args ...any) *sql.Row {
	if e.st != nil {
		return e.st.QueryRowContext(ctx, args...)
	}
	return e.tx.QueryRowContext(ctx, e.q, args...)
}

func (t txConn) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	st := t.stmt(ctx, q)
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t txConn) Query(ctx context.Context, q string, args ...any) (store.Rows, error) {
	rows, err := t.stmt(ctx, q).QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (t txConn) QueryRow(ctx context.Context, q string, args ...any) store.Row {
	return sqlRow{t.stmt(ctx, q).QueryRowContext(ctx, args...)}
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

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
	txConn
	tx *sql.Tx
}

func (t sqlTx) Raw() any { return t.tx }

// LockTx does nothing: SQLite runs one write transaction at a time.
func (db *DB) LockTx(ctx context.Context, tx store.Tx, key int64) error { return nil }
