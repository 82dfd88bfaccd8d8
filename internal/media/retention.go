package media

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/riverqueue/river"

	"github.com/wagate/wagate/internal/store"
)

// PurgeArgs is the periodic job that applies the media retention policy.
type PurgeArgs struct{}

// Kind names the job.
func (PurgeArgs) Kind() string { return "media_purge" }

// PurgeWorker deletes media kept longer than the retention: the messages keep a note instead of their bytes,
// uploads are forgotten, and content no message or upload refers to any more is deleted from the disk.
type PurgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	svc       *Service
	retention time.Duration
	log       *slog.Logger
}

// NewPurgeWorker returns the worker for a retention (> 0).
func NewPurgeWorker(svc *Service, retention time.Duration, log *slog.Logger) *PurgeWorker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &PurgeWorker{svc: svc, retention: retention, log: log}
}

// PurgeEvery is how often the retention job runs.
const PurgeEvery = time.Hour

// PeriodicPurge is the periodic job that runs PurgeArgs every PurgeEvery, and once at start.
func PeriodicPurge() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(PurgeEvery), func() (river.JobArgs, *river.InsertOpts) {
		return PurgeArgs{}, &river.InsertOpts{MaxAttempts: 3}
	}, &river.PeriodicJobOpts{RunOnStart: true, ID: "media_purge"})
}

// Work applies the policy once.
func (w *PurgeWorker) Work(ctx context.Context, _ *river.Job[PurgeArgs]) error {
	n, removed, err := w.Purge(ctx)
	if err != nil {
		return err
	}
	if n > 0 || removed > 0 {
		w.log.Info("media retention applied", "messages", n, "files_removed", removed, "retention", FormatRetention(w.retention))
	}
	return nil
}

// Purge deletes what is older than the retention and returns how many messages lost their media and how many
// files were removed from the disk.
func (w *PurgeWorker) Purge(ctx context.Context) (int64, int, error) {
	if w.retention <= 0 {
		return 0, 0, nil
	}
	now := w.svc.now()
	cutoff := now.Add(-w.retention)
	note := fmt.Sprintf("media deleted on %s: older than the retention of %s (WAGATE_MEDIA_RETENTION)",
		now.UTC().Format("2006-01-02"), FormatRetention(w.retention))
	st := w.svc.st
	var n int64
	var gone []string
	err := st.InTx(ctx, func(tx store.Tx) error {
		var err error
		n, gone, err = st.MediaExpire(ctx, tx, cutoff, note)
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("media retention: %w", err)
	}
	removed := 0
	for _, sha := range gone {
		if err := w.svc.blobs.Remove(sha); err != nil {
			w.log.Warn("media retention: could not delete a file", "sha256", sha, "err", err)
			continue
		}
		removed++
	}
	return n, removed, nil
}

// FormatRetention writes a retention as ParseRetention reads it: whole days as "90d", "forever" for 0.
func FormatRetention(d time.Duration) string {
	switch {
	case d <= 0:
		return "forever"
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	return d.String()
}
