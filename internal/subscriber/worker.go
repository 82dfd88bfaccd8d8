package subscriber

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"github.com/wagate/wagate/internal/store"
)

// DeliverArgs is the job that delivers one event to one subscription.
type DeliverArgs struct {
	DeliveryID string `json:"delivery_id"`
}

// Kind names the job.
func (DeliverArgs) Kind() string { return "deliver_event" }

// InsertOpts lets the worker, not River's attempt count, end retries: a delivery is dead-lettered when its
// retry period is over.
func (DeliverArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 100_000} }

// excerptLimit bounds the response excerpt kept in the delivery log.
const excerptLimit = 512

// Result is the outcome of one attempt.
type Result struct {
	Status  int
	Latency time.Duration
	Err     string // a network error or timeout, or why the request could not be built
	Excerpt string
}

// OK reports whether the receiver accepted the event (2xx).
func (r Result) OK() bool { return r.Status >= 200 && r.Status < 300 }

// Deliverer builds, signs and posts deliveries.
type Deliverer struct {
	st     *store.Store
	client *http.Client
	cfg    Config
}

// NewDeliverer returns a deliverer with cfg's timeout and guard.
func NewDeliverer(st *store.Store, cfg Config) *Deliverer {
	cfg = cfg.withDefaults()
	return &Deliverer{st: st, client: newClient(cfg.Guard, cfg.Timeout), cfg: cfg}
}

// Attempt makes one attempt to deliver w.
func (d *Deliverer) Attempt(ctx context.Context, w *store.DeliveryWork) Result {
	body, err := d.body(ctx, w)
	if err != nil {
		return Result{Err: "payload: " + err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.Subscription.URL, bytes.NewReader(body))
	if err != nil {
		return Result{Err: "request: " + plainErr(err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "wagate")
	req.Header.Set("X-Wagate-Event-Type", w.Event.Type)
	req.Header.Set("X-Wagate-Delivery-Id", w.Delivery.ID)
	if w.Subscription.Format == FormatMeta {
		req.Header.Set("X-Hub-Signature-256", SignMeta(w.Subscription.Secret, body))
	} else if err := signStandard(req.Header, w.Subscription.Secret, w.Event.ID, d.cfg.Now(), body); err != nil {
		return Result{Err: "signing: " + err.Error()}
	}
	start := time.Now()
	resp, err := d.client.Do(req)
	if err != nil {
		res := Result{Latency: time.Since(start), Err: plainErr(err)}
		if errors.Is(err, context.DeadlineExceeded) || strings.Contains(res.Err, "Client.Timeout") {
			res.Err = fmt.Sprintf("no answer within %s", d.cfg.Timeout)
		}
		return res
	}
	buf, _ := io.ReadAll(io.LimitReader(resp.Body, excerptLimit))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	_ = resp.Body.Close()
	return Result{Status: resp.StatusCode, Latency: time.Since(start), Excerpt: excerpt(buf)}
}

// plainErr is an error's text without the request URL, which may hold a token the application put there.
func plainErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}

func excerpt(b []byte) string {
	for len(b) > 0 && !utf8.Valid(b) {
		b = b[:len(b)-1] // cut inside a multi-byte character at the limit
	}
	return strings.ToValidUTF8(string(b), "")
}

// Worker works DeliverArgs jobs.
type Worker struct {
	river.WorkerDefaults[DeliverArgs]
	st      *store.Store
	hub     *Hub
	d       *Deliverer
	commits *store.Batcher
	cfg     Config
	log     *slog.Logger
}

// NewWorker returns the delivery worker. Outcomes are written through commits, which commits many deliveries'
// outcomes together.
func NewWorker(st *store.Store, hub *Hub, d *Deliverer, commits *store.Batcher, log *slog.Logger) *Worker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Worker{st: st, hub: hub, d: d, commits: commits, cfg: d.cfg, log: log}
}

// NextRetry backs off exponentially from MinBackoff, doubling per attempt up to MaxBackoff, with ±20% jitter.
func (w *Worker) NextRetry(job *river.Job[DeliverArgs]) time.Time {
	return w.cfg.Now().Add(backoff(w.cfg, job.Attempt))
}

func backoff(cfg Config, attempt int) time.Duration {
	d := cfg.MinBackoff << min(max(attempt-1, 0), 30)
	if d <= 0 || d > cfg.MaxBackoff {
		d = cfg.MaxBackoff
	}
	return d + time.Duration((rand.Float64()*0.4-0.2)*float64(d))
}

// Timeout bounds a job: the attempt and recording its outcome.
func (w *Worker) Timeout(*river.Job[DeliverArgs]) time.Duration {
	return w.cfg.Timeout + 30*time.Second
}

// errRetry makes River schedule the next attempt.
type errRetry struct{ why string }

func (e *errRetry) Error() string { return "delivery failed, will retry: " + e.why }

// Work makes one attempt and records it: delivered, pending for a retry, or failed (dead-lettered).
func (w *Worker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	work, err := w.st.DeliveryWorkGet(ctx, job.Args.DeliveryID)
	if errors.Is(err, store.ErrNotFound) {
		return w.orphan(ctx, job.Args.DeliveryID)
	}
	if err != nil {
		return err
	}
	if work.Delivery.State != store.DeliveryPending {
		return nil // delivered, or dead-lettered, by an earlier run; a replay enqueues a new job
	}
	if !work.Subscription.Enabled {
		return w.record(ctx, &work, store.DeliveryAttempt{State: store.DeliveryFailed,
			Error: "subscription disabled: " + work.Subscription.DisabledReason, At: w.cfg.Now()})
	}
	res := w.d.Attempt(ctx, &work)
	return w.Finish(ctx, &work, res, job.Attempt)
}

// Finish records the outcome of an attempt; attempt is the job's attempt number (for the next pause). It
// returns an error when the delivery will be tried again.
func (w *Worker) Finish(ctx context.Context, work *store.DeliveryWork, res Result, attempt int) error {
	now := w.cfg.Now()
	a := store.DeliveryAttempt{Status: res.Status, Latency: res.Latency, ResponseExcerpt: res.Excerpt, At: now}
	sub := &work.Subscription
	if res.OK() {
		a.State = store.DeliveryDelivered
		return w.commits.Do(context.WithoutCancel(ctx), func(tx store.Tx) error {
			if err := w.st.DeliveryRecord(ctx, tx, work.Delivery.ID, a); err != nil {
				return err
			}
			if sub.FailingSince.IsZero() && !sub.LastSuccessAt.IsZero() {
				return nil // nothing changes: skip the write
			}
			return w.st.SubscriptionSucceeded(ctx, tx, sub.ID, now)
		})
	}
	a.Error = res.Err
	if a.Error == "" {
		a.Error = fmt.Sprintf("receiver answered HTTP %d", res.Status)
	}
	disable := ""
	switch {
	case res.Status == http.StatusGone:
		a.State = store.DeliveryFailed
		disable = "the receiver answered 410 Gone: it asked for no more events. Fix the receiver, enable the subscription, then replay its failed deliveries"
	case now.Sub(work.Delivery.StartedAt) >= w.cfg.RetryFor:
		a.State = store.DeliveryFailed
		a.Error = fmt.Sprintf("gave up after %d attempts over %s: %s", work.Delivery.Attempts+1, w.cfg.RetryFor, a.Error)
	default:
		a.State = store.DeliveryPending
		a.NextAttemptAt = now.Add(backoff(w.cfg, attempt))
	}
	failingSince := sub.FailingSince
	if failingSince.IsZero() {
		failingSince = now
	}
	if disable == "" && now.Sub(failingSince) >= w.cfg.DisableAfter {
		disable = fmt.Sprintf("every delivery has failed since %s (%s): fix the receiver, enable the subscription, then replay its failed deliveries",
			failingSince.UTC().Format(time.RFC3339), w.cfg.DisableAfter)
	}
	disabled := false
	err := w.commits.Do(context.WithoutCancel(ctx), func(tx store.Tx) error {
		if err := w.st.DeliveryRecord(ctx, tx, work.Delivery.ID, a); err != nil {
			return err
		}
		if err := w.st.SubscriptionFailing(ctx, tx, sub.ID, now); err != nil {
			return err
		}
		if disable != "" {
			var err error
			disabled, err = w.st.SubscriptionDisable(ctx, tx, sub.ID, disable)
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	if disabled {
		w.log.Warn("subscription disabled", "subscription_id", sub.ID, "reason", disable)
		if err := w.hub.Refresh(context.WithoutCancel(ctx)); err != nil {
			w.log.Warn("subscriptions not refreshed", "err", err)
		}
	}
	if a.State == store.DeliveryPending {
		return &errRetry{why: a.Error}
	}
	return nil
}

// orphan ends a delivery whose subscription was deleted.
func (w *Worker) orphan(ctx context.Context, id string) error {
	d, err := w.st.DeliveryGet(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if d.State != store.DeliveryPending {
		return nil
	}
	return w.commits.Do(context.WithoutCancel(ctx), func(tx store.Tx) error {
		return w.st.DeliveryRecord(ctx, tx, id, store.DeliveryAttempt{State: store.DeliveryFailed, Error: "subscription deleted", At: w.cfg.Now()})
	})
}

func (w *Worker) record(ctx context.Context, work *store.DeliveryWork, a store.DeliveryAttempt) error {
	return w.commits.Do(context.WithoutCancel(ctx), func(tx store.Tx) error {
		return w.st.DeliveryRecord(ctx, tx, work.Delivery.ID, a)
	})
}
