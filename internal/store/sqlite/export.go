package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// Snapshot reads the whole database as of one moment: every query sees the same committed state.
type Snapshot struct {
	tx *sql.Tx
}

// Snapshot runs fn with a read-only view of one moment of the database.
func (db *DB) Snapshot(ctx context.Context, fn func(*Snapshot) error) error {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: snapshot: %w", err)
	}
	defer tx.Rollback()
	return fn(&Snapshot{tx})
}

const sqlTables = `SELECT name FROM sqlite_master WHERE type = 'table'
	AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name NOT LIKE 'river\_%' ESCAPE '\' AND name <> 'goose_db_version'
	ORDER BY name`

// Tables lists wagate's tables (not the job queue's or the migrations' own), each after the tables its
// foreign keys point to.
func (s *Snapshot) Tables(ctx context.Context) ([]string, error) {
	names, err := s.strings(ctx, sqlTables)
	if err != nil {
		return nil, err
	}
	deps := map[string][]string{}
	for _, t := range names {
		// PRAGMA arguments cannot be bound; t comes from sqlite_master.
		refs, err := s.strings(ctx, `SELECT "table" FROM pragma_foreign_key_list(`+quoteLiteral(t)+`)`)
		if err != nil {
			return nil, err
		}
		deps[t] = refs
	}
	var out []string
	seen := map[string]bool{}
	var visit func(t string, path []string) error
	visit = func(t string, path []string) error {
		if seen[t] {
			return nil
		}
		if slices.Contains(path, t) {
			return fmt.Errorf("sqlite: tables: foreign keys form a cycle through %s", t)
		}
		for _, d := range deps[t] {
			if d != t && slices.Contains(names, d) {
				if err := visit(d, append(path, t)); err != nil {
					return err
				}
			}
		}
		seen[t] = true
		out = append(out, t)
		return nil
	}
	for _, t := range names {
		if err := visit(t, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Rows calls fn with the column names of table and then with each of its rows, in rowid order. The values are
// what the driver gives: int64, float64, string, []byte or nil.
func (s *Snapshot) Rows(ctx context.Context, table string, fn func(cols []string, row []any) error) error {
	rows, err := s.tx.QueryContext(ctx, `SELECT * FROM `+quoteIdent(table))
	if err != nil {
		return fmt.Errorf("sqlite: read %s: %w", table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return fmt.Errorf("sqlite: read %s: %w", table, err)
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("sqlite: read %s: %w", table, err)
		}
		if err := fn(cols, vals); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: read %s: %w", table, err)
	}
	return nil
}

func (s *Snapshot) strings(ctx context.Context, q string) ([]string, error) {
	rows, err := s.tx.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func quoteIdent(s string) string   { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
func quoteLiteral(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }
