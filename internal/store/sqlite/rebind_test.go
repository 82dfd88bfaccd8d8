package sqlite

import (
	"reflect"
	"testing"
)

func TestRebind(t *testing.T) {
	t.Parallel()
	r := newRebinder()
	q, args := r.rebind(`UPDATE t SET a = CASE WHEN $2 >= a THEN CAST($3 AS TEXT) ELSE b END, c = $2, d = $10 WHERE id = $1`,
		[]any{"id", 5, "x", 4, 5, 6, 7, 8, 9, "ten"})
	if q != `UPDATE t SET a = CASE WHEN ? >= a THEN CAST(? AS TEXT) ELSE b END, c = ?, d = ? WHERE id = ?` {
		t.Fatalf("query = %s", q)
	}
	if !reflect.DeepEqual(args, []any{5, "x", 5, "ten", "id"}) {
		t.Fatalf("args = %v", args)
	}
	// In order, once each: the arguments pass through; with one argument fewer they are copied and padded.
	in := []any{1, 2, 3}
	if q, args := r.rebind(`INSERT INTO t VALUES ($1, $2, $3)`, in); q != `INSERT INTO t VALUES (?, ?, ?)` ||
		!reflect.DeepEqual(args, in) || &args[0] != &in[0] {
		t.Fatalf("in order: %q %v", q, args)
	}
	if _, args := r.rebind(`INSERT INTO t VALUES ($1, $2, $3)`, in[:2]); !reflect.DeepEqual(args, []any{1, 2, nil}) {
		t.Fatalf("one argument short: %v", args)
	}
	if q, args := r.rebind(`SELECT 1`, nil); q != `SELECT 1` || args != nil {
		t.Fatalf("no placeholders: %q %v", q, args)
	}
}
