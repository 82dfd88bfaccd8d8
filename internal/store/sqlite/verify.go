package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
)

// verifyTables are the tables whose rows Verify counts, in the order it reports them.
var verifyTables = []string{"events", "contacts", "conversations", "messages"}

// TableCount is the number of rows of one table.
type TableCount struct {
	Table string
	Rows  int64
}

// Verify opens the database file at path read-only, runs SQLite's integrity check and counts the rows of
// wagate's main tables. A backup that fails it is not usable.
func Verify(ctx context.Context, path string) ([]TableCount, error) {
	drv, err := registeredDriver()
	if err != nil {
		return nil, err
	}
	u := (&url.URL{Scheme: "file", Path: path, RawQuery: "mode=ro&_pragma=query_only(1)"}).String()
	db := sql.OpenDB(connector{dsn: u, drv: drv})
	defer db.Close()
	var res []string
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return nil, fmt.Errorf("sqlite: verify %s: %w", path, err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: verify %s: %w", path, err)
		}
		res = append(res, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: verify %s: %w", path, err)
	}
	if len(res) != 1 || res[0] != "ok" {
		return nil, fmt.Errorf("sqlite: verify %s: integrity check failed: %s", path, strings.Join(res, "; "))
	}
	out := make([]TableCount, 0, len(verifyTables))
	for _, t := range verifyTables {
		var n int64
		// The table names are constants of this package, not input.
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+t).Scan(&n); err != nil {
			return nil, fmt.Errorf("sqlite: verify %s: count %s: %w", path, t, err)
		}
		out = append(out, TableCount{t, n})
	}
	return out, nil
}
