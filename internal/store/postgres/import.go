package postgres

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/wagate/wagate/internal/store"
)

const sqlColumnTypes = `SELECT column_name, data_type FROM information_schema.columns
	WHERE table_schema = current_schema() AND table_name = $1`

// Importer loads rows read from another database into tables of this one, inside one transaction.
type Importer struct {
	tx pgx.Tx
}

// Importer returns an importer working in tx, a transaction of this database.
func (db *DB) Importer(tx store.Tx) (*Importer, error) {
	t, ok := tx.Raw().(pgx.Tx)
	if !ok {
		return nil, fmt.Errorf("postgres: import: transaction %T is not PostgreSQL's", tx.Raw())
	}
	return &Importer{t}, nil
}

// Count returns the number of rows of table.
func (im *Importer) Count(ctx context.Context, table string) (int64, error) {
	var n int64
	if err := im.tx.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{table}.Sanitize()).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: count %s: %w", table, err)
	}
	return n, nil
}

// Copy loads rows into table with COPY. Each value is converted to the type of its column here (SQLite keeps
// booleans as integers and may return text as bytes). A column the table lacks is an error.
func (im *Importer) Copy(ctx context.Context, table string, cols []string, rows [][]any) (int64, error) {
	types := map[string]string{}
	r, err := im.tx.Query(ctx, sqlColumnTypes, table)
	if err != nil {
		return 0, fmt.Errorf("postgres: columns of %s: %w", table, err)
	}
	for r.Next() {
		var name, typ string
		if err := r.Scan(&name, &typ); err != nil {
			r.Close()
			return 0, fmt.Errorf("postgres: columns of %s: %w", table, err)
		}
		types[name] = typ
	}
	r.Close()
	if len(types) == 0 {
		return 0, fmt.Errorf("postgres: import: no table %s (are both databases migrated to the same version?)", table)
	}
	for _, c := range cols {
		if _, ok := types[c]; !ok {
			return 0, fmt.Errorf("postgres: import: table %s has no column %s (are both databases migrated to the same version?)", table, c)
		}
	}
	for _, row := range rows {
		for i, v := range row {
			cv, err := convert(v, types[cols[i]])
			if err != nil {
				return 0, fmt.Errorf("postgres: import %s.%s: %w", table, cols[i], err)
			}
			row[i] = cv
		}
	}
	n, err := im.tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
	if err != nil {
		return n, fmt.Errorf("postgres: import %s: %w", table, err)
	}
	return n, nil
}

// convert turns a SQLite value into one for a PostgreSQL column of type typ.
func convert(v any, typ string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case "boolean":
		switch x := v.(type) {
		case int64:
			return x != 0, nil
		case bool:
			return x, nil
		case string:
			return strconv.ParseBool(x)
		}
	case "bytea":
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	case "text", "character varying", "json", "jsonb":
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		}
	case "bigint", "integer", "smallint":
		switch x := v.(type) {
		case int64:
			return x, nil
		case float64:
			return int64(x), nil
		case string:
			return strconv.ParseInt(x, 10, 64)
		}
	case "double precision", "real", "numeric":
		switch x := v.(type) {
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		}
	default:
		return v, nil
	}
	return nil, fmt.Errorf("cannot store a %T in a %s column", v, typ)
}
