package subscriber

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/wagate/wagate/internal/store"
)

// WindowArgs is the periodic job that announces the conversations whose 24-hour window closes soon.
type WindowArgs struct{}

// Kind names the job.
func (WindowArgs) Kind() string { return "window_closing" }

// InsertOpts keeps one such job queued at a time.
func (WindowArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: 30 * time.Second}}
}

// WindowInterval is how often windows are checked.
const WindowInterval = time.Minute

// windowBatch bounds the announcements of one transaction.
const windowBatch = 500

// WindowWorker works WindowArgs jobs.
type WindowWorker struct {
	river.WorkerDefaults[WindowArgs]
	st  *store.Store
	cfg Config
}

// NewWindowWorker returns the window worker; cfg.WindowLead says how long before a window closes it is
// announced.
func NewWindowWorker(st *store.Store, cfg Config) *WindowWorker {
	return &WindowWorker{st: st, cfg: cfg.withDefaults()}
}

// PeriodicJob returns the job that runs the window worker every WindowInterval.
func PeriodicJob() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(WindowInterval),
		func() (river.JobArgs, *river.InsertOpts) { return WindowArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true})
}

// Work announces closing windows.
func (w *WindowWorker) Work(ctx context.Context, _ *river.Job[WindowArgs]) error {
	_, err := w.Announce(ctx)
	return err
}

// Announce emits window.closing once for each window that closes within the lead time and was not announced,
// and returns how many it announced. With no subscription to window.closing it reads nothing.
func (w *WindowWorker) Announce(ctx context.Context) (int, error) {
	if !w.st.Wants(store.EventWindowClosing, "") { // "" matches every channel filter
		return 0, nil
	}
	total := 0
	for {
		now := w.cfg.Now()
		n := 0
		err := w.st.InTx(ctx, func(tx store.Tx) error {
			n = 0
			list, err := w.st.WindowsClosing(ctx, tx, now, now.Add(w.cfg.WindowLead), windowBatch)
			if err != nil {
				return err
			}
			for _, c := range list {
				contact := c.Contact
				ev := &store.DomainEvent{Type: store.EventWindowClosing, Channel: c.Channel, ConversationID: c.ConversationID,
					Contact: &contact, Window: c.ExpiresAt, At: now}
				if err := w.st.Emit(ctx, tx, ev); err != nil {
					return err
				}
				if err := w.st.WindowAnnounced(ctx, tx, c.ConversationID, c.ExpiresAt); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < windowBatch {
			return total, nil
		}
	}
}
