package inbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river"

	"github.com/wagate/wagate/internal/metrics"
	"github.com/wagate/wagate/internal/queue"
	"github.com/wagate/wagate/internal/store"
)

// ProcessArgs is the job that processes a stored webhook event again: after a transient failure at ingest.
type ProcessArgs struct {
	EventID string `json:"event_id"`
}

// Kind names the job.
func (ProcessArgs) Kind() string { return "process_event" }

// InsertOpts gives the job fewer attempts than River's default: an event that fails ten times needs a person.
func (ProcessArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 10} }

// ProcessWorker works ProcessArgs jobs. The event's effects and the job's completion commit together.
type ProcessWorker struct {
	river.WorkerDefaults[ProcessArgs]
	st   *store.Store
	proc *Processor
	m    *metrics.Metrics
	log  *slog.Logger
}

// NewProcessWorker returns the worker.
func NewProcessWorker(st *store.Store, proc *Processor, m *metrics.Metrics, log *slog.Logger) *ProcessWorker {
	return &ProcessWorker{st: st, proc: proc, m: m, log: log}
}

// Work processes the event named by the job.
func (w *ProcessWorker) Work(ctx context.Context, job *river.Job[ProcessArgs]) error {
	var out Outcome
	err := w.st.InTx(ctx, func(tx store.Tx) error {
		ev, err := w.st.EventGet(ctx, tx, job.Args.EventID)
		if err != nil {
			return err
		}
		if ev.State == store.EventPending {
			if out, err = w.proc.Process(ctx, tx, &ev); err != nil {
				return err
			}
		}
		return queue.CompleteTx(ctx, tx, job)
	})
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		if job.Attempt >= job.MaxAttempts {
			reason := fmt.Sprintf("processing failed %d times, last: %v", job.Attempt, err)
			ferr := w.st.InTx(ctx, func(tx store.Tx) error {
				return w.st.EventFinish(ctx, tx, job.Args.EventID, "", store.EventFailed, reason, store.Counts{})
			})
			w.log.Error("webhook event failed for good", "event_id", job.Args.EventID, "err", err, "mark_err", ferr)
		}
		return err
	}
	w.proc.Committed(out)
	observeOutcome(w.m, out, false)
	return nil
}

// Replay processes a stored event again, now, whatever its state; deduplication makes that safe. It returns the
// event as it is afterwards.
func Replay(ctx context.Context, st *store.Store, proc *Processor, id string) (store.Event, error) {
	var ev store.Event
	err := st.InTx(ctx, func(tx store.Tx) error {
		var err error
		if ev, err = st.EventGet(ctx, tx, id); err != nil {
			return err
		}
		_, err = proc.Process(ctx, tx, &ev)
		return err
	})
	if err != nil {
		return store.Event{}, fmt.Errorf("replay %s: %w", id, err)
	}
	ev.Body = nil
	return ev, nil
}
