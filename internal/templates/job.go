package templates

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
)

// DefaultSyncInterval is how often every channel's templates are synced when not configured.
const DefaultSyncInterval = 15 * time.Minute

// SyncArgs is the job that syncs one channel's templates ("" for every channel).
type SyncArgs struct {
	Channel string `json:"channel,omitempty"`
}

// Kind names the job.
func (SyncArgs) Kind() string { return "template_sync" }

// InsertOpts: a sync is worth a few tries; a later sync (periodic or from the next webhook) repairs the rest.
func (SyncArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 3} }

// SyncWorker works SyncArgs jobs.
type SyncWorker struct {
	river.WorkerDefaults[SyncArgs]
	cat *Catalogue
}

// NewSyncWorker returns the worker of template syncs.
func NewSyncWorker(cat *Catalogue) *SyncWorker { return &SyncWorker{cat: cat} }

// Timeout bounds one sync job.
func (w *SyncWorker) Timeout(*river.Job[SyncArgs]) time.Duration { return 2 * SyncTimeout }

// Work syncs the job's channel, or every channel; a channel whose provider cannot list templates is not an
// error worth retrying.
func (w *SyncWorker) Work(ctx context.Context, job *river.Job[SyncArgs]) error {
	if job.Args.Channel == "" {
		var errs []error
		for _, r := range w.cat.SyncAll(ctx) {
			if r.Error != "" {
				errs = append(errs, fmt.Errorf("%s: %s", r.Channel, r.Error))
			}
		}
		return errors.Join(errs...)
	}
	_, err := w.cat.Sync(ctx, job.Args.Channel)
	if errors.Is(err, ErrCannotList) || errors.Is(err, ErrUnknownChannel) {
		return river.JobCancel(err)
	}
	return err
}

// PeriodicSync is the periodic job that syncs every channel each interval, and once when the queue starts.
// River runs periodic jobs on the elected leader only, so several instances do not all sync.
func PeriodicSync(interval time.Duration) *river.PeriodicJob {
	if interval <= 0 {
		interval = DefaultSyncInterval
	}
	return river.NewPeriodicJob(river.PeriodicInterval(interval), func() (river.JobArgs, *river.InsertOpts) {
		return SyncArgs{}, nil
	}, &river.PeriodicJobOpts{RunOnStart: true})
}
