package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/store/sqlite"
	"github.com/wagate/wagate/internal/store/storetest"
)

func open(t *testing.T) *store.Store {
	_, st := openDB(t)
	return st
}

// openDB opens a migrated database in a temporary directory, closed when the test ends.
func openDB(t *testing.T) (*sqlite.DB, *store.Store) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "wagate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db, store.New(db, nil)
}

func TestSQLite_Conformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, open)
}

func TestSQLite_MigrateIdempotentAndReportsPending(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sub", "wagate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if p, err := db.Pending(ctx); err != nil || !p {
		t.Fatalf("fresh database: pending = %v, %v; want true", p, err)
	}
	for i := 0; i < 2; i++ {
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if p, err := db.Pending(ctx); err != nil || p {
		t.Fatalf("migrated database: pending = %v, %v; want false", p, err)
	}
}

func TestSQLite_Backup(t *testing.T) {
	t.Parallel()
	st := open(t)
	ctx := context.Background()
	if err := st.InTx(ctx, func(tx store.Tx) error {
		return st.EventInsert(ctx, tx, &store.Event{Body: []byte(`{}`)})
	}); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "copy.db")
	if err := st.Driver().(*sqlite.DB).Backup(ctx, dst); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	counts, err := store.New(db, nil).EventCounts(ctx)
	if err != nil || counts[store.EventPending] != 1 {
		t.Fatalf("backup counts = %v, %v", counts, err)
	}
}

// TestSQLite_CommitsAreFsyncedBeforeInTxReturns checks the durability contract of the write path: the write
// connection commits without waiting for the disk (synchronous=NORMAL), so InTx itself must fsync the log before
// it returns, and InTxDeferred must leave that to the function it returns.
func TestSQLite_CommitsAreFsyncedBeforeInTxReturns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, st := openDB(t)
	insert := func(tx store.Tx) error { return st.EventInsert(ctx, tx, &store.Event{Body: []byte(`{}`)}) }
	for i := 0; i < 3; i++ {
		before := db.Fsyncs()
		if err := st.InTx(ctx, insert); err != nil {
			t.Fatal(err)
		}
		if db.Fsyncs() <= before {
			t.Fatalf("InTx returned without fsyncing the log (fsyncs %d, before %d)", db.Fsyncs(), before)
		}
	}
	var mode string
	if err := db.WriteDB().QueryRowContext(ctx, "PRAGMA synchronous").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "1" {
		t.Errorf("write connection synchronous = %s, want 1 (NORMAL): the fsync is wagate's", mode)
	}

	before := db.Fsyncs()
	durable, err := st.InTxDeferred(ctx, insert)
	if err != nil {
		t.Fatal(err)
	}
	if db.Fsyncs() != before {
		t.Fatal("InTxDeferred waited for the fsync; it should leave it to the function it returns")
	}
	if err := durable(); err != nil {
		t.Fatal(err)
	}
	if db.Fsyncs() <= before {
		t.Fatal("the durability function returned without an fsync")
	}
}

// TestSQLite_BackgroundCheckpoints checks that the log is copied into the database file by the background
// checkpointer, not left to grow until a commit does it.
func TestSQLite_BackgroundCheckpoints(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, st := openDB(t)
	if err := st.InTx(ctx, func(tx store.Tx) error {
		return st.EventInsert(ctx, tx, &store.Event{Body: []byte(`{"x":1}`)})
	}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for db.Checkpoints() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no background checkpoint within 10 s of a commit")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
