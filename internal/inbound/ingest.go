package inbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

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
// survives a crash and its effects are applied exactly once. A batch whose transaction fails is committed again
// one event at a time: one event that fails is kept pending for the job queue without holding back the rest.
type Ingester struct {
	st       *store.Store
	q        *queue.Queue
	proc     *Processor
	m        *metrics.Metrics
	log      *slog.Logger
	reqs     chan *request
	writers  int
	maxBatch int
	gather   time.Duration
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
	// Gather is the longest a writer waits, under load, for more webhooks to join a batch (default 2 ms;
	// negative: never wait). See fill.
	Gather time.Duration
}

// NewIngester returns an ingester; call Start before Accept.
func NewIngester(st *store.Store, q *queue.Queue, proc *Processor, m *metrics.Metrics, log *slog.Logger, cfg IngesterConfig) *Ingester {
	if cfg.Writers <= 0 {
		cfg.Writers = 1
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 256
	}
	if cfg.Gather == 0 {
		cfg.Gather = 2 * time.Millisecond
	}
	return &Ingester{st: st, q: q, proc: proc, m: m, log: log, reqs: make(chan *request, cfg.MaxBatch*cfg.Writers),
		writers: cfg.Writers, maxBatch: cfg.MaxBatch, gather: cfg.Gather, stop: make(chan struct{})}
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

// committed is a batch whose transaction committed (or failed), on its way to the acknowledger.
type committed struct {
	reqs    []*request
	durable func() error // returns once the commit is durable; nil when err is set
	err     error
}

// write runs one writer: it commits batches back to back, and hands each to an acknowledger that waits until
// the batch is durable and answers its requests. The next batch is processed while the disk flushes the last.
func (in *Ingester) write() {
	acks := make(chan committed, 64)
	acked := make(chan struct{})
	go func() {
		defer close(acked)
		for c := range acks {
			in.acknowledge(c)
		}
	}()
	defer func() {
		close(acks)
		<-acked
	}()
	batch := make([]*request, 0, in.maxBatch)
	var rate rateMeter
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
					in.commit([]*request{r}, acks)
				default:
					return
				}
			}
		}
		in.fill(&batch, &rate)
		rate.add(len(batch), time.Now())
		in.commit(batch, acks)
	}
}

// fill adds the queued requests to batch. Under load (gatherMinRate and more) it also waits, up to the gather
// time, until the batch holds what arrives in a gather time at the current rate: a commit and its fsync cost
// much the same for one webhook as for many, so fewer, larger commits leave more CPU to everything else. Below
// that rate it never waits, so a lone webhook is committed at once.
func (in *Ingester) fill(batch *[]*request, rate *rateMeter) {
	want := 0
	if r := rate.perSecond(); r >= gatherMinRate {
		want = min(in.maxBatch, int(r*in.gather.Seconds()))
	}
	var deadline <-chan time.Time
	for len(*batch) < in.maxBatch {
		select {
		case r := <-in.reqs:
			*batch = append(*batch, r)
			continue
		default:
		}
		if len(*batch) >= want {
			return
		}
		if deadline == nil {
			t := time.NewTimer(in.gather)
			defer t.Stop()
			deadline = t.C
		}
		select {
		case r := <-in.reqs:
			*batch = append(*batch, r)
		case <-deadline:
			return
		case <-in.stop:
			return
		}
	}
}

// rateMeter estimates the rate of webhooks reaching a writer.
type rateMeter struct {
	since time.Time
	n     int
	rate  float64
}

// add counts n webhooks at now.
func (m *rateMeter) add(n int, now time.Time) {
	if m.since.IsZero() {
		m.since = now
	}
	m.n += n
	if el := now.Sub(m.since); el >= rateWindow {
		m.rate = float64(m.n) / el.Seconds()
		m.since, m.n = now, 0
	}
}

// perSecond is the rate over the last full window, or 0 when the last webhook is a window old.
func (m *rateMeter) perSecond() float64 {
	if m.since.IsZero() || time.Since(m.since) > 2*rateWindow {
		return 0
	}
	return m.rate
}

// gatherMinRate is the rate of webhooks (per second, per writer) from which a writer gathers larger batches.
const gatherMinRate = 4000

// rateWindow is the time over which a writer measures the rate of webhooks.
const rateWindow = 50 * time.Millisecond

// commit makes a batch durable in one transaction: the events are processed together (see ProcessMany) and
// inserted with their final states.
// When the transaction fails, each request is committed alone, so that one bad request cannot fail the others;
// a request that fails alone as well is stored pending and handed to the job queue. The outcome goes to acks.
func (in *Ingester) commit(batch []*request, acks chan<- committed) {
	ctx := context.Background()
	durable, err := in.st.InTxDeferred(ctx, func(tx store.Tx) error {
		evs := make([]*store.Event, len(batch))
		parsed := make([]Parsed, len(batch))
		for i, r := range batch {
			if r.ev.ID == "" {
				r.ev.ID = store.NewID()
			}
			evs[i], parsed[i] = r.ev, Parsed{Event: r.ev, Hook: r.hook, ParseErr: r.parseErr}
		}
		outs, err := in.proc.ProcessMany(ctx, tx, parsed, true)
		if err != nil {
			return err
		}
		for i, r := range batch {
			r.out = outs[i]
			r.res = Result{EventID: r.ev.ID, State: outs[i].State, Error: r.ev.Error, Counts: outs[i].Counts}
		}
		return in.st.EventInsertMany(ctx, tx, evs)
	})
	if err != nil {
		if len(batch) > 1 {
			for _, r := range batch {
				in.commit([]*request{r}, acks)
			}
			return
		}
		durable, err = in.defer1(ctx, batch[0], err)
	}
	if in.m != nil {
		in.m.IngestBatchSize.Observe(float64(len(batch)))
	}
	if err == nil {
		// What the batch learnt of its senders is committed: later batches may use it at once.
		for _, r := range batch {
			in.proc.Committed(r.out)
		}
	}
	acks <- committed{reqs: slices.Clone(batch), durable: durable, err: err}
}

// acknowledge waits until a committed batch is durable and answers its requests.
func (in *Ingester) acknowledge(c committed) {
	err := c.err
	if err == nil {
		err = c.durable()
	}
	for _, r := range c.reqs {
		if err != nil {
			r.err = fmt.Errorf("store webhook: %w", err)
			in.log.Error("webhook not stored", "err", err)
		} else {
			in.observe(r)
		}
		close(r.done)
	}
}

// defer1 stores a request whose processing failed alone: the raw event, pending, with a job that processes it
// again with backoff. An error here means the database cannot store the webhook at all.
func (in *Ingester) defer1(ctx context.Context, r *request, cause error) (func() error, error) {
	reason := "processing deferred: " + cause.Error()
	ev := r.ev
	ev.State, ev.Error, ev.Counts, ev.Attempts, ev.Shape = store.EventPending, reason, store.Counts{}, 0, string(r.hook.Shape)
	durable, err := in.st.InTxDeferred(ctx, func(tx store.Tx) error {
		if err := in.st.EventInsert(ctx, tx, ev); err != nil {
			return err
		}
		return in.q.InsertTx(ctx, tx, ProcessArgs{EventID: ev.ID}, nil)
	})
	if err != nil {
		return nil, errors.Join(cause, err)
	}
	r.out = Outcome{State: store.EventPending}
	r.res = Result{EventID: ev.ID, State: store.EventPending, Error: reason, Queued: true}
	for _, c := range r.hook.Changes {
		r.res.Counts.Received += len(c.Messages)
		r.res.Counts.Statuses += len(c.Statuses)
	}
	return durable, nil
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
