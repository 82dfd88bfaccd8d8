package queue_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/wagate/wagate/internal/queue"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/store/sqlite"
)

type pingArgs struct{}

func (pingArgs) Kind() string { return "ping" }

type pingWorker struct {
	river.WorkerDefaults[pingArgs]
	done chan struct{}
}

func (w *pingWorker) Work(ctx context.Context, job *river.Job[pingArgs]) error {
	close(w.done)
	return nil
}

// TestSQLite_RetriesJobsCutOffByACrash: a job left "running" by a process that died is run again as soon as the
// next process starts, not an hour later.
func TestSQLite_RetriesJobsCutOffByACrash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	insertOnly, err := queue.NewSQLite(db.WriteDB(), queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := insertOnly.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	st := store.New(db, nil)
	if err := st.InTx(ctx, func(tx store.Tx) error {
		if err := insertOnly.InsertTx(ctx, tx, pingArgs{}, nil); err != nil {
			return err
		}
		// What a process killed in the middle of the job leaves behind.
		_, err := tx.Exec(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = scheduled_at`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	w := &pingWorker{done: make(chan struct{})}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	q, err := queue.NewSQLite(db.WriteDB(), queue.Config{Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer q.Stop(ctx)
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the interrupted job was not run again after the restart")
	}
}
