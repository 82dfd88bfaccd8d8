package sqlite

import (
	"context"
	"path/filepath"
	"testing"
)

func TestUnavailable_ClassifiesSQLiteErrors(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.write.ExecContext(ctx, "CREATE TABLE t (a INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	// The read pool is query_only: a write there fails as on a read-only database.
	_, roErr := db.read.ExecContext(ctx, "INSERT INTO t VALUES (1)")
	if roErr == nil || !db.Unavailable(roErr) {
		t.Errorf("read-only write: %v; unavailable = %v, want true", roErr, db.Unavailable(roErr))
	}
	if _, err := db.write.ExecContext(ctx, "INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	_, dupErr := db.write.ExecContext(ctx, "INSERT INTO t VALUES (1)")
	_, synErr := db.write.ExecContext(ctx, "INSERT INTO nowhere VALUES (1)")
	for _, err := range []error{dupErr, synErr} {
		if err == nil || db.Unavailable(err) {
			t.Errorf("%v counted as unavailability", err)
		}
	}
}
