package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite" // the SQLite driver wagate uses
)

// The floor of webhook ingest: the least a receiver does that answers, as wagate must, only once a webhook is
// durable and deduplicated on its provider message id. It reads the body, decodes the ids of its messages and
// receipts (no more of the JSON than that: wagate decodes it whole), and appends the raw body under the first id
// to a table with a unique index on it, in group commits (one multi-row INSERT ... ON CONFLICT DO NOTHING a
// commit) that are on disk before it answers. It keeps no contact, conversation, message or receipt, so it shows
// what durability and deduplication alone cost on the machine and database at hand: wagate's ratio cannot
// exceed the floor's.

// floorCommand is the hidden subcommand that runs the floor server on a database.
const floorCommand = "floor"

// floorBatch bounds the webhooks of one commit (a multi-row INSERT of three columns a row).
const floorBatch = 256

// floorTargets are the floor's targets of the ingest scenario: -only name, table label, database.
var floorTargets = []struct{ key, label, db string }{
	{"floor-sqlite", "floor: durable, deduplicated raw body, SQLite", "sqlite"},
	{"floor-postgres", "floor: durable, deduplicated raw body, PostgreSQL", "postgres"},
}

// The floor's one table, in each dialect, and the count of its rows.
const (
	floorSchemaSQLite   = `CREATE TABLE IF NOT EXISTS floor_events (id INTEGER PRIMARY KEY, provider_id TEXT NOT NULL UNIQUE, received_at INTEGER NOT NULL, body BLOB NOT NULL)`
	floorSchemaPostgres = `CREATE TABLE IF NOT EXISTS floor_events (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, provider_id TEXT NOT NULL UNIQUE, received_at BIGINT NOT NULL, body BYTEA NOT NULL)`
	floorCount          = `SELECT count(*) FROM floor_events`
)

// floorStore is the floor's database: exec runs one statement in a transaction of its own, durable when it
// returns.
type floorStore struct {
	exec    func(ctx context.Context, q string, args ...any) error
	count   func(ctx context.Context) (int, error)
	close   func()
	writers int
}

// openFloor opens the floor's database: a PostgreSQL URL, or else a directory for a SQLite file.
func openFloor(ctx context.Context, dsn string) (*floorStore, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		pool, err := pgxpool.New(ctx, dsn)
		if err != nil {
			return nil, fmt.Errorf("floor: %w", err)
		}
		if _, err := pool.Exec(ctx, floorSchemaPostgres); err != nil {
			pool.Close()
			return nil, fmt.Errorf("floor: schema: %w", err)
		}
		// Two writers, like wagate's default on PostgreSQL: one commit is flushed while the next is sent.
		return &floorStore{
			exec: func(ctx context.Context, q string, args ...any) error {
				_, err := pool.Exec(ctx, q, args...)
				return err
			},
			count: func(ctx context.Context) (n int, err error) {
				err = pool.QueryRow(ctx, floorCount).Scan(&n)
				return n, err
			},
			close: pool.Close, writers: 2,
		}, nil
	}
	// WAL with synchronous=FULL: a commit fsyncs the log before it returns. One connection: SQLite has one writer.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dsn, "floor.db")+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, fmt.Errorf("floor: %w", err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, floorSchemaSQLite); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("floor: schema: %w", err)
	}
	return &floorStore{
		exec: func(ctx context.Context, q string, args ...any) error {
			_, err := db.ExecContext(ctx, q, args...)
			return err
		},
		count: func(ctx context.Context) (n int, err error) {
			err = db.QueryRowContext(ctx, floorCount).Scan(&n)
			return n, err
		},
		close: func() { _ = db.Close() }, writers: 1,
	}, nil
}

// floorInsert returns the multi-row insert of n webhooks, with $n placeholders (both drivers take them).
func floorInsert(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO floor_events (provider_id, received_at, body) VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "($%d,$%d,$%d)", 3*i+1, 3*i+2, 3*i+3)
	}
	b.WriteString(" ON CONFLICT (provider_id) DO NOTHING")
	return b.String()
}

// floorItem is one webhook waiting for its commit.
type floorItem struct {
	id   string
	body []byte
	done chan error
}

// floorHandler answers each webhook once its commit returned, with the baseline's answer.
func floorHandler(s *floorStore) http.Handler {
	queue := make(chan floorItem, 4*floorBatch)
	for range s.writers {
		go func() {
			for {
				batch := []floorItem{<-queue}
			fill:
				for len(batch) < floorBatch {
					select {
					case it := <-queue:
						batch = append(batch, it)
					default:
						break fill
					}
				}
				now := time.Now().UnixMilli()
				args := make([]any, 0, 3*len(batch))
				for _, it := range batch {
					args = append(args, it.id, now, it.body)
				}
				err := s.exec(context.Background(), floorInsert(len(batch)), args...)
				for _, it := range batch {
					it.done <- err
				}
			}
		}()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var hook cloudIDs
		body, ok := decodeBody(w, r, &hook)
		if !ok {
			return
		}
		done := make(chan error, 1)
		queue <- floorItem{id: hook.providerID(body), body: body, done: done}
		if err := <-done; err != nil {
			fmt.Fprintf(os.Stderr, "floor: commit: %v\n", err)
			http.Error(w, `{"ok":false,"error":"not stored"}`, http.StatusInternalServerError)
			return
		}
		answerOK(w)
	})
}

// cloudIDs is the least of a Cloud API webhook a receiver must decode to deduplicate it: the ids of its
// messages and receipts.
type cloudIDs struct {
	Entry []struct {
		Changes []struct {
			Value struct {
				Messages []struct {
					ID string `json:"id"`
				} `json:"messages"`
				Statuses []struct {
					ID string `json:"id"`
				} `json:"statuses"`
			} `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

// providerID returns the id of the webhook's first message or receipt, or else the SHA-256 of its body, so that a
// retried body is stored once.
func (h cloudIDs) providerID(body []byte) string {
	if len(h.Entry) > 0 && len(h.Entry[0].Changes) > 0 {
		v := h.Entry[0].Changes[0].Value
		if len(v.Messages) > 0 && v.Messages[0].ID != "" {
			return v.Messages[0].ID
		}
		if len(v.Statuses) > 0 && v.Statuses[0].ID != "" {
			return v.Statuses[0].ID
		}
	}
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// runFloor serves floorHandler on the database args[0] (a PostgreSQL URL or a directory for SQLite), on
// 127.0.0.1:0 or the address args[1].
func runFloor(args []string, stdout, stderr io.Writer) int {
	if len(args) < 1 || len(args) > 2 {
		fmt.Fprintln(stderr, "usage: wagate-bench floor <postgres-url|sqlite-dir> [addr]")
		return 2
	}
	s, err := openFloor(context.Background(), args[0])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer s.close()
	return serveChild("floor", floorHandler(s), args[1:], stdout, stderr)
}

// ingestFloor runs one floor target on a fresh database against base, then checks that its table holds every
// webhook it acknowledged (the bodies are distinct, so each is one row).
func ingestFloor(ctx context.Context, env *Env, base *Target, key, label, db string) (*ingestResult, error) {
	fail := func(err error) (*ingestResult, error) { return nil, fmt.Errorf("%s: %w", label, err) }
	var dsn string
	if db == "postgres" {
		u, drop, err := createDatabase(ctx, env.Opts.PostgresURL)
		if err != nil {
			return fail(err)
		}
		defer func() {
			if err := drop(); err != nil {
				env.Logf("   %s: %v", label, err)
			}
		}()
		dsn = u
	} else {
		dir, err := os.MkdirTemp("", "wagate-bench-floor-*")
		if err != nil {
			return fail(err)
		}
		defer os.RemoveAll(dir)
		dsn = dir
	}
	p, url, err := env.startChild(ctx, key, []string{floorCommand, dsn})
	if err != nil {
		return fail(err)
	}
	defer p.stop()
	t := env.newTarget(label, p, url, Load{Path: webhookPath, Header: webhookHeader(), Body: newWebhookGen().body, Check: checkBaseline})
	defer t.close()
	var errs []error
	ratio, ratios, err := env.interleave(ctx, base, t)
	if err != nil {
		errs = append(errs, err)
	}
	if ctx.Err() == nil {
		if err := t.readPeakRSS(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := p.stop(); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", label, err))
	}
	m := t.measurement()
	if len(errs) == 0 && ctx.Err() == nil {
		if err := checkFloorRows(ctx, dsn, m.OK()); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", label, err))
		} else {
			env.Logf("   %s: stored and checked: %s webhooks acknowledged, one row each", label, formatRate(float64(m.OK())))
		}
	}
	if len(t.rounds) == 0 {
		return nil, errors.Join(errs...)
	}
	return &ingestResult{label: label, m: m, ratio: ratio, ratios: ratios}, errors.Join(errs...)
}

// checkFloorRows checks that the floor's database holds want rows.
func checkFloorRows(ctx context.Context, dsn string, want int) error {
	s, err := openFloor(ctx, dsn)
	if err != nil {
		return err
	}
	defer s.close()
	n, err := s.count(ctx)
	if err != nil {
		return fmt.Errorf("count the stored webhooks: %w", err)
	}
	if n != want {
		return fmt.Errorf("%d webhooks acknowledged but %d stored", want, n)
	}
	return nil
}
