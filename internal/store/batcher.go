package store

import (
	"context"
	"errors"
	"sync"
)

// ErrBatcherClosed is returned by Batcher.Do after Close.
var ErrBatcherClosed = errors.New("batcher closed")

// Batcher commits work from many goroutines together (group commit): each Do waits until its function has run
// in a transaction that committed, but one transaction serves every Do that arrived while the previous one was
// committing. On SQLite, whose writer commits one transaction at a time with an fsync each, this multiplies the
// rate of small writes. A function that fails rolls back its batch; the others are then run again, each alone,
// so that one bad function never fails the rest.
type Batcher struct {
	st       *Store
	reqs     chan *batchReq
	maxBatch int
	stop     chan struct{}
	once     sync.Once
	wg       sync.WaitGroup
}

type batchReq struct {
	fn   func(Tx) error
	err  error
	done chan struct{}
}

// NewBatcher starts a batcher with writers committing goroutines (1 for SQLite; a few for PostgreSQL) and at most
// maxBatch functions per transaction.
func NewBatcher(st *Store, writers, maxBatch int) *Batcher {
	b := &Batcher{st: st, reqs: make(chan *batchReq, maxBatch*writers), maxBatch: maxBatch, stop: make(chan struct{})}
	for i := 0; i < max(1, writers); i++ {
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.loop()
		}()
	}
	return b
}

// Do runs fn in a transaction shared with other callers and returns once that transaction committed (nil) or
// fn's own error (its effects rolled back). fn must have no effects outside the transaction and may run more
// than once.
func (b *Batcher) Do(ctx context.Context, fn func(Tx) error) error {
	r := &batchReq{fn: fn, done: make(chan struct{})}
	select {
	case <-b.stop:
		return ErrBatcherClosed
	default:
	}
	select {
	case b.reqs <- r:
	case <-b.stop:
		return ErrBatcherClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	<-r.done
	return r.err
}

// Close stops the batcher after committing what was already handed to it.
func (b *Batcher) Close() {
	b.once.Do(func() { close(b.stop) })
	b.wg.Wait()
}

func (b *Batcher) loop() {
	batch := make([]*batchReq, 0, b.maxBatch)
	for {
		batch = batch[:0]
		select {
		case r := <-b.reqs:
			batch = append(batch, r)
		case <-b.stop:
			for {
				select {
				case r := <-b.reqs:
					b.commit([]*batchReq{r})
				default:
					return
				}
			}
		}
	fill:
		for len(batch) < b.maxBatch {
			select {
			case r := <-b.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		b.commit(batch)
	}
}

func (b *Batcher) commit(batch []*batchReq) {
	ctx := context.Background()
	err := b.st.InTx(ctx, func(tx Tx) error {
		for _, r := range batch {
			if err := r.fn(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && len(batch) > 1 {
		for _, r := range batch {
			b.commit([]*batchReq{r})
		}
		return
	}
	for _, r := range batch {
		r.err = err
		close(r.done)
	}
}
