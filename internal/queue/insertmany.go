package queue

import (
	"context"
	"fmt"

	"github.com/riverqueue/river"

	"github.com/wagate/wagate/internal/store"
)

// InsertManyTx enqueues jobs in tx with one statement (River's fast multi-row insert): they run only if tx
// commits. Each job takes its args' own InsertOpts.
func (q *Queue) InsertManyTx(ctx context.Context, tx store.Tx, args []river.JobArgs) error {
	if len(args) == 0 {
		return nil
	}
	return q.insertMany(ctx, tx, args)
}

func insertManyTx[TTx any](ctx context.Context, client *river.Client[TTx], tx TTx, args []river.JobArgs) error {
	params := make([]river.InsertManyParams, len(args))
	for i, a := range args {
		params[i] = river.InsertManyParams{Args: a}
	}
	if _, err := client.InsertManyFastTx(ctx, tx, params); err != nil {
		return fmt.Errorf("queue: insert %d %s jobs: %w", len(args), args[0].Kind(), err)
	}
	return nil
}
