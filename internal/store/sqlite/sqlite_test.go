package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/store/sqlite"
	"github.com/wagate/wagate/internal/store/storetest"
)

func open(t *testing.T) *store.Store {
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
	return store.New(db, nil)
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
