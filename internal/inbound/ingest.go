package inbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/wagate/wagate/internal/metrics"
	"github.com/wagate/wagate/internal/queue"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/wa"
)

// ErrStopping is returned by Accept while the ingester shuts down: the webhook was not stored.
var ErrStopping = errors.New("shutting down")

// Result is what accepting one webhook did.
type Result struct {
	EventID string
	State   string // processed, failed, or pending (queued for the worker)
	Error   string // why the event failed, or which parts were skipped
	Counts  store.Counts
	Queued  bool // processing failed transiently and was handed to the job queue
}

type request struct {
	ev       *store.Event
	hook     wa.Webhook
	parseErr error
	res      Result
	out      Outcome
	err      error
	done     chan struct{}
}

// Ingester makes webhooks durable. Requests from many connections are committed together in one transaction
// (group commit): the raw body, its effects and its final state commit at once, so an answered webhook
// survives a crash and its effects are applied exactly once. Each event is processed inside a savepoint: one
// event that fails is kept pending for the job queue without holding back the rest of the batch.
type Ingester struct {
	st       *store.Store
	q        *queue.Queue
	proc     *Processor
	m        *metrics.Metrics
	log      *slog.Logger
	reqs     chan *request
	writers  int
	maxBatch int
	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// IngesterConfig tunes the ingester.
type IngesterConfig struct {
	// Writers is how many transactions commit in parallel: 1 for SQLite (one writer anyway), a few for
	// PostgreSQL.
	Writers int
	// MaxBatch caps the webhooks per transaction (default 256).
	MaxBatch int
}

// NewIngester returns an ingester; call Start before Accept.
func NewIngester(st *store.Store, q *queue.Queue, proc *Processor, m *metrics.Metrics, log *slog.Logger, cfg IngesterConfig) *Ingester {
	if cfg.Writers <= 0 {
		cfg.Writers = 1
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 256
	}
	return &Ingester{st: st, q: q, proc: proc, m: m, log: log, reqs: make(chan *request, cfg.MaxBatch*cfg.Writers),
		writers: cfg.Writers, maxBatch: cfg.MaxBatch, stop: make(chan struct{})}
}

// Start starts the writers.
func (in *Ingester) Start() {
	for i := 0; i < in.writers; i++ {
		in.wg.Add(1)
		go func() {
			defer in.wg.Done()
			in.write()
		}()
	}
}

// Stop stops accepting and waits until every accepted request has been committed or failed.
func (in *Ingester) Stop() {
	in.stopOnce.Do(func() { close(in.stop) })
	in.wg.Wait()
}

// Accept makes ev durable and processes it, and returns what happened. hook and parseErr are Parse's results
// for ev.Body. An error means the webhook was not stored and the provider should retry.
func (in *Ingester) Accept(ctx context.Context, ev *store.Event, hook wa.Webhook, parseErr error) (Result, error) {
	r := &request{ev: ev, hook: hook, parseErr: parseErr, done: make(chan struct{})}
	select {
	case <-in.stop:
		return Result{}, ErrStopping
	default:
	}
	select {
	case in.reqs <- r:
	case <-in.stop:
		return Result{}, ErrStopping
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	// Once queued, the request is committed or failed whatever the client does: wait for the answer.
	<-r.done
	return r.res, r.err
}

func (in *Ingester) write() {
	batch := make([]*request, 0, in.maxBatch)
	for {
		batch = batch[:0]
		select {
		case r := <-in.reqs:
			batch = append(batch, r)
		case <-in.stop:
			// Drain what was queued before the stop.
			for {
				select {
				case r := <-in.reqs:
					in.commit([]*request{r})
				default:
					return
				}
			}
		}
	fill:
		for len(batch) < in.maxBatch {
			select {
			case r := <-in.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		in.commit(batch)
	}
}

// commit makes a batch durable in one transaction: each event is processed and inserted with its final state.
// When the transaction fails, each request is committed alone, so that one bad request cannot fail the others;
// a request that fails alone as well is stored pending and handed to the job queue.
func (in *Ingester) commit(batch []*request) {
	ctx := context.Background()
	err := in.st.InTx(ctx, func(tx store.Tx) error {
		evs := make([]*store.Event, 0, len(batch))
		for _, r := range batch {
			if err := in.processOne(ctx, tx, r); err != nil {
				return err
			}
			evs = append(evs, r.ev)
		}
		return in.st.EventInsertMany(ctx, tx, evs)
	})
	if err != nil {
		if len(batch) > 1 {
			for _, r := range batch {
				in.commit([]*request{r})
			}
			return
		}
		err = in.defer1(ctx, batch[0], err)
	}
	if in.m != nil {
		in.m.IngestBatchSize.Observe(float64(len(batch)))
	}
	for _, r := range batch {
		if err != nil {
			r.err = fmt.Errorf("store webhook: %w", err)
			in.log.Error("webhook not stored", "err", err)
		} else {
			in.proc.Committed(r.out)
			in.observe(r)
		}
		close(r.done)
	}
}

func (in *Ingester) processOne(ctx context.Context, tx store.Tx, r *request) error {
	ev := r.ev
	if ev.ID == "" {
		ev.ID = store.NewID()
	}
	out, err := in.proc.ProcessParsed(ctx, tx, ev, r.hook, r.parseErr, true)
	if err != nil {
		return err
	}
	r.out = out
	r.res = Result{EventID: ev.ID, State: out.State, Error: ev.Error, Counts: out.Counts}
	return nil
}

// defer1 stores a request whose processing failed alone: the raw event, pending, with a job that processes it
// again with backoff. An error here means the database cannot store the webhook at all.
func (in *Ingester) defer1(ctx context.Context, r *request, cause error) error {
	reason := "processing deferred: " + cause.Error()
	ev := r.ev
	ev.State, ev.Error, ev.Counts, ev.Attempts, ev.Shape = store.EventPending, reason, store.Counts{}, 0, string(r.hook.Shape)
	err := in.st.InTx(ctx, func(tx store.Tx) error {
		if err := in.st.EventInsert(ctx, tx, ev); err != nil {
			return err
		}
		return in.q.InsertTx(ctx, tx, ProcessArgs{EventID: ev.ID}, nil)
	})
	if err != nil {
		return errors.Join(cause, err)
	}
	r.out = Outcome{State: store.EventPending}
	r.res = Result{EventID: ev.ID, State: store.EventPending, Error: reason, Queued: true}
	for _, c := range r.hook.Changes {
		r.res.Counts.Received += len(c.Messages)
		r.res.Counts.Statuses += len(c.Statuses)
	}
	return nil
}

func (in *Ingester) observe(r *request) {
	if r.res.Queued {
		in.log.Warn("webhook stored; processing deferred to the job queue", "event_id", r.res.EventID, "reason", r.res.Error)
	} else if r.res.State == store.EventFailed {
		in.log.Warn("webhook stored as failed", "event_id", r.res.EventID, "reason", r.res.Error)
	}
	observeOutcome(in.m, r.out, r.res.Queued)
}

func observeOutcome(m *metrics.Metrics, out Outcome, queued bool) {
	if m == nil {
		return
	}
	state := out.State
	if queued {
		state = "queued"
	}
	m.Events.WithLabelValues(state).Inc()
	m.InboundMessages.Add(float64(out.Counts.Stored))
	for k, n := range out.Receipts {
		m.Receipts.WithLabelValues(string(k)).Add(float64(n))
	}
}
