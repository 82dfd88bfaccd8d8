package sender

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river"

	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/templates"
	"github.com/wagate/wagate/internal/wa"
)

// SendArgs is the job that sends one queued message.
type SendArgs struct {
	MessageID string `json:"message_id"`
}

// Kind names the job.
func (SendArgs) Kind() string { return "send_message" }

// MaxAttempts is how many times a message is tried before it fails for good (retryable errors only; pauses
// for throttling do not count). With the backoff below that spans about an hour.
const MaxAttempts = 15

// InsertOpts sets the attempts.
func (SendArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: MaxAttempts} }

// SendTimeout bounds one provider call.
const SendTimeout = 10 * time.Second

// maxThrottles bounds how often one message may be paused by throttling before it fails, so that a channel
// throttled for good does not hold messages forever.
const maxThrottles = 200

// Worker works SendArgs jobs.
type Worker struct {
	river.WorkerDefaults[SendArgs]
	st        *store.Store
	providers map[string]provider.Provider
	gov       Pacer
	log       *slog.Logger
	sleep     func(context.Context, time.Duration) error
	backoff   time.Duration
	commits   *store.Batcher
	files     Files                // nil: stored files are not resolved
	tpl       *templates.Catalogue // explains template and window refusals (see UseTemplates)
}

// NewWorker returns the send worker for the given channel providers; maxBackoff caps the pause between
// retries (0: 5 min). Outcomes are written through commits, which commits many sends' results together.
func NewWorker(st *store.Store, commits *store.Batcher, providers map[string]provider.Provider, gov Pacer, maxBackoff time.Duration, log *slog.Logger) *Worker {
	if maxBackoff <= 0 {
		maxBackoff = 5 * time.Minute
	}
	return &Worker{st: st, commits: commits, providers: providers, gov: gov, log: log, sleep: sleepCtx, backoff: maxBackoff}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// NextRetry backs off exponentially from 1 s, doubling per attempt up to the configured cap (5 min by
// default), with ±20% jitter so that messages failed together do not retry together.
func (w *Worker) NextRetry(job *river.Job[SendArgs]) time.Time {
	d := time.Second << min(job.Attempt, 12)
	d = min(d, w.backoff)
	jitter := time.Duration((rand.Float64()*0.4 - 0.2) * float64(d))
	return time.Now().Add(d + jitter)
}

// Timeout bounds a job: pacing waits plus the provider call.
func (w *Worker) Timeout(*river.Job[SendArgs]) time.Duration { return time.Minute }

// Work sends the message once the governor lets it go and records the outcome.
func (w *Worker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	m, err := w.st.MessageForSend(ctx, job.Args.MessageID)
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if m.Status != wa.StatusQueued {
		return nil // already sent (or failed) by an earlier run of this job
	}
	var out wa.Outbound
	if err := json.Unmarshal(m.Request, &out); err != nil {
		return w.fail(ctx, &m, 0, "stored request is unreadable", err.Error(), "invalid")
	}
	p, ok := w.providers[m.Channel]
	if !ok {
		return w.fail(ctx, &m, 0, "channel not configured",
			fmt.Sprintf("channel %q is not in the configuration any more; add it back and retry the message", m.Channel), string(provider.ClassAuth))
	}
	for {
		wait, granted := w.gov.Reserve(m.Channel, out.To)
		if granted {
			if wait > 0 {
				if err := w.sleep(ctx, wait); err != nil {
					return river.JobSnooze(0)
				}
			}
			for {
				d := w.gov.Admit(m.Channel)
				if d == 0 {
					break
				}
				if err := w.sleep(ctx, d); err != nil {
					return river.JobSnooze(0)
				}
			}
			break
		}
		if wait > maxHold {
			return river.JobSnooze(wait)
		}
		if err := w.sleep(ctx, wait); err != nil {
			return river.JobSnooze(0)
		}
	}
	res, out, err := w.sendResolved(ctx, m.Channel, p, out)
	if err == nil {
		w.gov.Success(m.Channel, out.To)
		// No job completion in this transaction: a job run again after a crash finds the message no longer
		// queued and does nothing, so River's own completion after Work returns is enough.
		return w.commits.Do(context.WithoutCancel(ctx), func(tx store.Tx) error {
			return w.st.MessageAccepted(ctx, tx, m.Channel, m.ID, res.ProviderID, time.Now())
		})
	}
	var pe *provider.Error
	if !errors.As(err, &pe) {
		pe = &provider.Error{Provider: p.Kind(), Op: "send", Class: provider.ClassRetry, Message: err.Error(), Err: err}
	}
	detail := pe.Details
	if detail == "" {
		detail = pe.Title
	}
	switch pe.Class {
	case provider.ClassRate, provider.ClassPairRate:
		if m.Attempts >= maxThrottles {
			return w.fail(ctx, &m, pe.Code, pe.Message, detail, string(pe.Class))
		}
		var pause time.Duration
		if pe.Class == provider.ClassRate {
			pause = w.gov.PauseChannel(m.Channel, pe.RetryAfter)
		} else {
			pause = w.gov.PauseRecipient(m.Channel, out.To, pe.RetryAfter)
		}
		w.log.Warn("provider throttled; pausing", "message_id", m.ID, "channel", m.Channel, "class", pe.Class, "code", pe.Code, "pause", pause)
		if err := w.attempted(ctx, &m, pe, detail); err != nil {
			return err
		}
		return river.JobSnooze(pause)
	case provider.ClassRetry:
		if job.Attempt >= job.MaxAttempts {
			return w.fail(ctx, &m, pe.Code, pe.Message, fmt.Sprintf("gave up after %d attempts: %s", job.Attempt, detail), string(pe.Class))
		}
		w.log.Warn("send failed; will retry", "message_id", m.ID, "attempt", job.Attempt, "err", pe.Message)
		if err := w.attempted(ctx, &m, pe, detail); err != nil {
			return err
		}
		if pe.RetryAfter > 0 {
			return river.JobSnooze(pe.RetryAfter)
		}
		return pe
	default:
		detail = w.explain(ctx, &m, out, pe, detail)
		w.log.Warn("send failed for good", "message_id", m.ID, "class", pe.Class, "code", pe.Code, "err", pe.Message)
		return w.fail(ctx, &m, pe.Code, pe.Message, detail, string(pe.Class))
	}
}

func (w *Worker) attempted(ctx context.Context, m *store.Message, pe *provider.Error, detail string) error {
	return w.commits.Do(context.WithoutCancel(ctx), func(tx store.Tx) error {
		return w.st.MessageAttempted(ctx, tx, m.ID, pe.Code, pe.Message, detail, string(pe.Class))
	})
}

// fail marks the message failed; the job then completes (a re-run finds it failed and does nothing).
func (w *Worker) fail(ctx context.Context, m *store.Message, code int, title, detail, class string) error {
	return w.commits.Do(context.WithoutCancel(ctx), func(tx store.Tx) error {
		return w.st.MessageFailed(ctx, tx, m.ID, code, title, detail, class)
	})
}
