package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/store/sqlite"
)

func TestBatcher_CommitsTogetherAndIsolatesFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	st := store.New(db, nil)
	b := store.NewBatcher(st, 1, 64)
	var wg sync.WaitGroup
	errs := make([]error, 200)
	ids := make([]string, 200)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = b.Do(ctx, func(tx store.Tx) error {
				if i%50 == 7 {
					return errors.New("bad one")
				}
				ev := store.Event{Body: []byte("x")}
				if err := st.EventInsert(ctx, tx, &ev); err != nil {
					return err
				}
				ids[i] = ev.ID
				return nil
			})
		}()
	}
	wg.Wait()
	b.Close()
	for i, err := range errs {
		if (i%50 == 7) != (err != nil) {
			t.Fatalf("call %d: err = %v", i, err)
		}
	}
	counts, _ := st.EventCounts(ctx)
	if counts[store.EventPending] != 196 {
		t.Fatalf("stored %d events, want 196", counts[store.EventPending])
	}
	if err := b.Do(ctx, func(store.Tx) error { return nil }); !errors.Is(err, store.ErrBatcherClosed) {
		t.Fatalf("after close: %v", err)
	}
}
