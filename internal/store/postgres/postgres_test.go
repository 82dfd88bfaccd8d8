package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/store/postgres"
	"github.com/wagate/wagate/internal/store/postgres/pgtest"
	"github.com/wagate/wagate/internal/store/storetest"
)

func open(t *testing.T) *store.Store { return openPool(t, 8) }

// openPool opens a new, migrated database with a pool of at most conns connections.
func openPool(t *testing.T, conns int32) *store.Store {
	t.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.NewDatabase(t), conns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	return store.New(db, nil)
}

func TestPostgres_Conformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, open)
}

func TestPostgres_MigrateTwiceConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u := pgtest.NewDatabase(t)
	errs := make(chan error, 3)
	for i := 0; i < 3; i++ {
		go func() {
			db, err := postgres.Open(ctx, u, 2)
			if err != nil {
				errs <- err
				return
			}
			defer db.Close()
			errs <- db.Migrate(ctx, nil)
		}()
	}
	for i := 0; i < 3; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent migrate: %v", err)
		}
	}
	db, err := postgres.Open(ctx, u, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pending, err := db.Pending(ctx)
	if err != nil || pending {
		t.Fatalf("pending = %v, %v; want false, nil", pending, err)
	}
}

func TestPostgres_OpenHidesPassword(t *testing.T) {
	t.Parallel()
	_, err := postgres.Open(context.Background(), "postgres://u:hunter2@[::1:5432/db", 1)
	if err == nil {
		t.Fatal("want error for a malformed URL")
	}
	if got := err.Error(); strings.Contains(got, "hunter2") {
		t.Fatalf("error leaks the password: %s", got)
	}
}

// A statement marked store.PlanPerCall is planned for its values at each call: pgx does not keep it as a
// prepared statement, so PostgreSQL cannot settle on a generic plan made while the table was empty. An unmarked
// statement is kept, and after five calls runs on a generic plan.
func TestPostgres_PlanPerCallIsNotKept(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openPool(t, 2)
	const (
		perCall = store.PlanPerCall + `SELECT COUNT(*) FROM messages WHERE channel = $1 AND provider_id IN ($2, $3)`
		kept    = `SELECT COUNT(*) FROM messages WHERE channel = $1 AND provider_id IN ($2, $3, $4)`
	)
	// One transaction: every statement below runs on its connection, whose prepared statements the view lists.
	err := st.InTx(ctx, func(tx store.Tx) error {
		for range 6 {
			var n int
			if err := tx.QueryRow(ctx, perCall, "default", "wamid.a", "wamid.b").Scan(&n); err != nil {
				return err
			}
			if err := tx.QueryRow(ctx, kept, "default", "wamid.a", "wamid.b", "wamid.c").Scan(&n); err != nil {
				return err
			}
		}
		var perCallKept, keptGeneric int
		err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM pg_prepared_statements WHERE starts_with(statement, $1)`, store.PlanPerCall).Scan(&perCallKept)
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `SELECT COALESCE(SUM(generic_plans), 0) FROM pg_prepared_statements WHERE statement = $1`, kept).Scan(&keptGeneric)
		if err != nil {
			return err
		}
		if perCallKept != 0 {
			t.Errorf("the per-call statement is kept as a prepared statement (%d)", perCallKept)
		}
		if keptGeneric == 0 {
			t.Error("the unmarked statement never ran on a generic plan: the check above proves nothing")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestPostgres_ExecAll checks the pipeline of the store's transactions: statements run in their order, the
// first error stops the rest and rolls the transaction back, and a statement planned per call is refused.
func TestPostgres_ExecAll(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openPool(t, 2)
	err := st.InTx(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `CREATE TABLE pipe (n INTEGER NOT NULL)`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	run := func(stmts ...store.Stmt) error {
		return st.InTx(ctx, func(tx store.Tx) error {
			p, ok := tx.(store.Pipeliner)
			if !ok {
				t.Fatalf("the store's transaction (%T) is not a Pipeliner", tx)
			}
			n, err := p.ExecAll(ctx, stmts)
			if err == nil && len(n) != len(stmts) {
				t.Errorf("%d counts for %d statements", len(n), len(stmts))
			}
			return err
		})
	}
	// Order: the update sees the first insert and not the second.
	err = run(store.Stmt{SQL: `INSERT INTO pipe (n) VALUES ($1)`, Args: []any{1}},
		store.Stmt{SQL: `UPDATE pipe SET n = n * 10`},
		store.Stmt{SQL: `INSERT INTO pipe (n) VALUES ($1)`, Args: []any{2}})
	if err != nil {
		t.Fatal(err)
	}
	// An error in the middle: nothing of the transaction stays.
	err = run(store.Stmt{SQL: `INSERT INTO pipe (n) VALUES ($1)`, Args: []any{3}},
		store.Stmt{Op: "null insert", SQL: `INSERT INTO pipe (n) VALUES ($1)`, Args: []any{nil}},
		store.Stmt{SQL: `INSERT INTO pipe (n) VALUES ($1)`, Args: []any{4}})
	if err == nil || !strings.Contains(err.Error(), "23502") || !strings.Contains(err.Error(), "null insert (statement 2 of 3 sent together)") {
		t.Errorf("a NOT NULL violation in the middle: %v", err)
	}
	err = run(store.Stmt{SQL: `INSERT INTO pipe (n) VALUES ($1)`, Args: []any{5}},
		store.Stmt{SQL: store.PlanPerCall + `UPDATE pipe SET n = n + 1`})
	if err == nil || !strings.Contains(err.Error(), "cannot be pipelined") {
		t.Errorf("a statement planned per call: %v", err)
	}
	var got string
	err = st.InTx(ctx, func(tx store.Tx) error {
		return tx.QueryRow(ctx, `SELECT string_agg(n::text, ' ' ORDER BY n) FROM pipe`).Scan(&got)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != "2 10" {
		t.Errorf("rows %v, want [2 10]", got)
	}
}
