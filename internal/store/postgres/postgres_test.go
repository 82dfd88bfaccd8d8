package postgres_test

import (
	"context"
	"testing"

	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/store/postgres"
	"github.com/wagate/wagate/internal/store/postgres/pgtest"
	"github.com/wagate/wagate/internal/store/storetest"
)

func open(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.NewDatabase(t), 8)
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
	if got := err.Error(); contains(got, "hunter2") {
		t.Fatalf("error leaks the password: %s", got)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
