package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// maxCachedStmts bounds the prepared statements kept per connection.
const maxCachedStmts = 512

// connector opens connections that keep their statements prepared. Parsing SQL is a large part of the cost of a
// small statement in SQLite, and database/sql re-prepares every statement run on a connection or in a
// transaction by its text. Caching at the connection serves everything that uses the database: wagate's store,
// the job queue (River) and the migrations alike.
type connector struct {
	dsn string
	drv driver.Driver
}

// registeredDriver is the driver modernc.org/sqlite registers as "sqlite", with its registered functions and
// hooks (sql.Open connects to nothing).
func registeredDriver() (driver.Driver, error) {
	db, err := sql.Open("sqlite", "")
	if err != nil {
		return nil, fmt.Errorf("sqlite: driver: %w", err)
	}
	defer db.Close()
	return db.Driver(), nil
}

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	inner, ok := conn.(innerConn)
	if !ok {
		_ = conn.Close()
		return nil, fmt.Errorf("sqlite: driver connection %T lacks context methods", conn)
	}
	return &cachedConn{inner: inner, stmts: map[string]*cachedStmt{}}, nil
}

func (c connector) Driver() driver.Driver { return c.drv }

type innerConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

type stmtContext interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// cachedConn runs ExecContext and QueryContext through prepared statements kept by SQL text. A connection is used
// by one goroutine at a time (database/sql guarantees it), so the cache needs no lock. A statement whose rows
// are still open is busy: running the same SQL again meanwhile uses a one-off statement.
type cachedConn struct {
	inner innerConn
	stmts map[string]*cachedStmt
}

type cachedStmt struct {
	st   stmtContext
	busy bool
}

var (
	_ driver.ExecerContext      = (*cachedConn)(nil)
	_ driver.QueryerContext     = (*cachedConn)(nil)
	_ driver.ConnBeginTx        = (*cachedConn)(nil)
	_ driver.ConnPrepareContext = (*cachedConn)(nil)
)

func (c *cachedConn) stmt(ctx context.Context, q string) (*cachedStmt, error) {
	if cs, ok := c.stmts[q]; ok {
		return cs, nil
	}
	st, err := c.inner.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	sc, ok := st.(stmtContext)
	if !ok {
		_ = st.Close()
		return nil, errors.New("sqlite: statement lacks context methods")
	}
	if len(c.stmts) >= maxCachedStmts {
		c.closeIdle()
	}
	cs := &cachedStmt{st: sc}
	c.stmts[q] = cs
	return cs, nil
}

// closeIdle closes the cached statements not in use.
func (c *cachedConn) closeIdle() {
	for q, cs := range c.stmts {
		if !cs.busy {
			_ = cs.st.Close()
			delete(c.stmts, q)
		}
	}
}

func (c *cachedConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	if cs.busy {
		return c.inner.ExecContext(ctx, q, args)
	}
	return cs.st.ExecContext(ctx, args)
}

func (c *cachedConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	if cs.busy {
		return c.inner.QueryContext(ctx, q, args)
	}
	rows, err := cs.st.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	cs.busy = true
	return &cachedRows{Rows: rows, cs: cs}, nil
}

func (c *cachedConn) Prepare(q string) (driver.Stmt, error) { return c.inner.Prepare(q) }

func (c *cachedConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	return c.inner.PrepareContext(ctx, q)
}

func (c *cachedConn) Begin() (driver.Tx, error) {
	return c.inner.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *cachedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.inner.BeginTx(ctx, opts)
}

func (c *cachedConn) Ping(ctx context.Context) error { return c.inner.Ping(ctx) }

func (c *cachedConn) ResetSession(ctx context.Context) error { return c.inner.ResetSession(ctx) }

func (c *cachedConn) IsValid() bool { return c.inner.IsValid() }

func (c *cachedConn) Close() error {
	var errs []error
	for q, cs := range c.stmts {
		errs = append(errs, cs.st.Close())
		delete(c.stmts, q)
	}
	return errors.Join(append(errs, c.inner.Close())...)
}

// cachedRows frees its statement for the next use when closed.
type cachedRows struct {
	driver.Rows
	cs *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.cs.busy = false
	return err
}
