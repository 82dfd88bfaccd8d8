package sqlite

import (
	"context"
	"database/sql"
	"sync/atomic"
	"time"
)

// Checkpointing. SQLite's default copies the write-ahead log back into the database file from inside the
// commit that crosses 1,000 log pages: that commit then reads the log, writes the pages and fsyncs the database
// file while every webhook of its batch waits. wagate checkpoints on a connection of its own instead, in the
// background, so commits only append to the log. The writer keeps an automatic checkpoint at a much larger log
// (walBackstopPages) in case the background checkpointer falls behind or stops.
const (
	// walBackstopPages is the log size, in pages, at which a commit checkpoints by itself (about 64 MB).
	walBackstopPages = 16384
	// checkpointBusy is the pause between checkpoints while the log grows.
	checkpointBusy = 50 * time.Millisecond
	// checkpointIdle is the pause after a checkpoint that found nothing to copy.
	checkpointIdle = 500 * time.Millisecond
)

// checkpointer runs passive checkpoints on conn until ctx ends, counting in copied the checkpoints that
// copied pages. A passive checkpoint never blocks the writer or readers: it copies what it can and leaves the
// rest for the next round.
func checkpointer(ctx context.Context, conn *sql.DB, copied *atomic.Uint64, done chan<- struct{}) {
	defer close(done)
	wait := checkpointIdle
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		var busy, logPages, copiedPages int
		err := conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logPages, &copiedPages)
		if err != nil || logPages <= 0 {
			wait = checkpointIdle
			continue
		}
		if copiedPages > 0 {
			copied.Add(1)
		}
		wait = checkpointBusy
	}
}
