package queue

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/wagate/wagate/internal/store"
)

// rawArgs is a job's arguments as stored: River inserts them unchanged under their kind.
type rawArgs struct {
	kind string
	args json.RawMessage
}

func (a rawArgs) Kind() string                 { return a.kind }
func (a rawArgs) MarshalJSON() ([]byte, error) { return a.args, nil }

// waitingStates are the states of jobs that have yet to run to their end. A job "running" in a database no
// process serves any more was cut off, so it is moved as available.
var waitingStates = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStateScheduled,
	rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStatePending}

// WaitingJobs lists every job that has yet to run to its end, oldest first.
func (q *Queue) WaitingJobs(ctx context.Context) ([]*rivertype.JobRow, error) {
	var out []*rivertype.JobRow
	params := river.NewJobListParams().States(waitingStates...).First(1000)
	for {
		res, err := q.list(ctx, params)
		if err != nil {
			return nil, fmt.Errorf("queue: list waiting jobs: %w", err)
		}
		out = append(out, res.Jobs...)
		if len(res.Jobs) < 1000 || res.LastCursor == nil {
			return out, nil
		}
		params = params.After(res.LastCursor)
	}
}

// InsertCopyTx enqueues in tx a copy of job (from another database): the same kind, arguments, queue,
// priority, attempts left and schedule.
func (q *Queue) InsertCopyTx(ctx context.Context, tx store.Tx, job *rivertype.JobRow) error {
	left := job.MaxAttempts - job.Attempt
	if job.State == rivertype.JobStateRunning {
		left++ // the cut-off attempt is given back
	}
	opts := &river.InsertOpts{Queue: job.Queue, Priority: job.Priority, MaxAttempts: max(1, left),
		ScheduledAt: job.ScheduledAt, Tags: job.Tags}
	return q.InsertTx(ctx, tx, rawArgs{job.Kind, job.EncodedArgs}, opts)
}
