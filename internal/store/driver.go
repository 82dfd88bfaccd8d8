// Package store keeps wagate's state: raw webhook events, contacts, conversations, messages and their receipt
// history. One implementation of the SQL serves both databases through a small Driver seam; the packages
// store/sqlite and store/postgres open a database, migrate it and hand a Driver to New.
package store

import (
	"context"
	"errors"
)

// ErrNotFound is returned when a record asked for by id does not exist.
var ErrNotFound = errors.New("not found")

// ErrNoRows is what a Driver's Row.Scan returns when the query matched nothing.
var ErrNoRows = errors.New("no rows")

// Conn runs SQL. Both a pool and a transaction are Conns.
type Conn interface {
	// Exec runs a statement and returns the number of rows it affected.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// Query runs a query that returns rows.
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	// QueryRow runs a query that returns at most one row; Scan returns ErrNoRows when there is none.
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Rows is a result set.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Row is a single-row result.
type Row interface {
	Scan(dest ...any) error
}

// Tx is a write transaction.
type Tx interface {
	Conn
	// Raw returns the driver's own transaction (*sql.Tx for SQLite, pgx.Tx for PostgreSQL) so that the job
	// queue can enqueue in the same transaction.
	Raw() any
}

// Stmt is a statement with its arguments.
type Stmt struct {
	// Op names the operation in an error ("event insert"): a statement sent together with others may fail
	// after its caller has returned.
	Op   string
	SQL  string
	Args []any
}

// Pipeliner is a Tx that sends several statements to the database in one round trip (PostgreSQL's pipeline).
// They run in order, exactly as if executed one by one, and the first error stops the rest; ExecAll returns the
// number of rows each affected. A statement that begins with PlanPerCall cannot be pipelined.
type Pipeliner interface {
	ExecAll(ctx context.Context, stmts []Stmt) ([]int64, error)
}

// Driver is what a database package provides to the store.
type Driver interface {
	// Read returns the Conn used for reads outside transactions.
	Read() Conn
	// InTx runs fn in one write transaction, committing when fn returns nil.
	InTx(ctx context.Context, fn func(Tx) error) error
	// Retryable reports whether err is a transient conflict (deadlock, serialization, busy) after which the
	// whole transaction may simply be run again.
	Retryable(err error) bool
	// LockTx takes an exclusive lock on each key, in the order given, for the rest of tx. Transactions that change the same logical row
	// from two sides (a receipt parked for a provider id, and the send result that records that id) take it so
	// that one sees the other's commit. A no-op where transactions are serialized anyway (SQLite).
	LockTx(ctx context.Context, tx Tx, keys ...int64) error
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Name is "sqlite" or "postgres".
	Name() string
	// Close releases the connections.
	Close() error
}

// DeferredCommitter is a Driver whose commits can return before they are durable, so that the next
// transaction runs while the disk flushes the last one. InTxDeferred is InTx, except that it returns once the
// transaction committed, with a function that returns once the commit is durable (or why it could not be made
// durable). Nothing may be acknowledged before that function returned nil.
type DeferredCommitter interface {
	InTxDeferred(ctx context.Context, fn func(Tx) error) (durable func() error, err error)
}

// UnavailabilityReporter is a Driver that tells errors meaning "the database cannot take work now" from others.
type UnavailabilityReporter interface {
	Unavailable(err error) bool
}
