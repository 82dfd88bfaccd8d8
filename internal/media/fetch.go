package media

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/store"
)

// FetchArgs is the job that fetches the media of one inbound message.
type FetchArgs struct {
	MessageID string `json:"message_id"`
}

// Kind names the job.
func (FetchArgs) Kind() string { return "media_fetch" }

// FetchAttempts is how many times a fetch is tried before the media is marked failed. With the default backoff
// (5 s doubling, capped at 10 min) that spans about 30 minutes; media ids from webhooks live 7 days, and every
// attempt looks the id up again, so an expired download URL is no obstacle.
const FetchAttempts = 8

// InsertOpts sets the attempts.
func (FetchArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: FetchAttempts} }

// fetchTimeout bounds one download (up to 100 MB).
const fetchTimeout = 90 * time.Second

// FetchConfig tunes the fetch worker.
type FetchConfig struct {
	// Backoff is the pause after the first failed attempt, doubling per attempt (default 5 s).
	Backoff time.Duration
	// MaxBackoff caps the pause (default 10 min).
	MaxBackoff time.Duration
	// Now is the clock of the lookup guard (default time.Now).
	Now func() time.Time
	// Fetched and Failed, when set, are told of each fetch that stored its bytes and of each that failed for good.
	Fetched func(size int64)
	Failed  func()
}

// FetchWorker works FetchArgs jobs: it looks the media up at the channel's provider, downloads it (the
// provider client checks the provider's SHA-256; the worker checks the webhook's too), stores the bytes and
// marks the media ready. Temporary failures are retried with backoff; a failure that will not go away, or the
// last attempt, marks the media failed with the reason. The message itself is never touched otherwise.
type FetchWorker struct {
	river.WorkerDefaults[FetchArgs]
	svc       *Service
	providers map[string]provider.Provider
	guard     *LookupGuard
	cfg       FetchConfig
	log       *slog.Logger
}

// NewFetchWorker returns the worker for the channels' providers.
func NewFetchWorker(svc *Service, providers map[string]provider.Provider, cfg FetchConfig, log *slog.Logger) *FetchWorker {
	if cfg.Backoff <= 0 {
		cfg.Backoff = 5 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 10 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &FetchWorker{svc: svc, providers: providers, guard: NewLookupGuard(), cfg: cfg, log: log}
}

// Guard returns the worker's guard against 360dialog's penalty for failed lookups.
func (w *FetchWorker) Guard() *LookupGuard { return w.guard }

// NextRetry backs off exponentially with ±20% jitter.
func (w *FetchWorker) NextRetry(job *river.Job[FetchArgs]) time.Time {
	d := w.cfg.Backoff << min(max(job.Attempt-1, 0), 16)
	d = min(d, w.cfg.MaxBackoff)
	jitter := time.Duration((rand.Float64()*0.4 - 0.2) * float64(d))
	return time.Now().Add(d + jitter)
}

// Timeout bounds a job.
func (w *FetchWorker) Timeout(*river.Job[FetchArgs]) time.Duration {
	return fetchTimeout + 30*time.Second
}

// Work fetches the message's media.
func (w *FetchWorker) Work(ctx context.Context, job *river.Job[FetchArgs]) error {
	st := w.svc.st
	mm, err := st.MessageMediaGet(ctx, job.Args.MessageID)
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if mm.Status != store.MediaPending {
		return nil // fetched already, or failed and not retried
	}
	p, ok := w.providers[mm.Channel]
	if !ok {
		return w.fail(ctx, mm.MessageID, fmt.Sprintf("channel %q is not configured any more: add it back and retry the media", mm.Channel))
	}
	guarded := p.Kind() == provider.Kind360Dialog
	done := func(bool, time.Time) {}
	if guarded {
		wait, release := w.guard.Acquire(mm.Channel, w.cfg.Now())
		if release == nil {
			w.log.Warn("media lookup held back to avoid 360dialog's penalty for failed lookups", "message_id", mm.MessageID, "channel", mm.Channel, "wait", wait)
			return river.JobSnooze(wait)
		}
		done = release
		defer release(false, w.cfg.Now())
	}
	cctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	f, err := p.DownloadMedia(cctx, mm.MediaID)
	cancel()
	if err == nil && len(f.Data) == 0 {
		err = &provider.Error{Provider: p.Kind(), Op: provider.OpDownloadMedia, Class: provider.ClassRetry,
			Message: "The provider sent an empty media file."}
	}
	if err == nil && p.Kind() == provider.Kind360DialogOnPremise {
		// The Cloud clients check the lookup's digest; On-Premise has no lookup, only the webhook's digest.
		if _, cerr := provider.CheckSHA256(f.Data, mm.ProviderSHA256); cerr != nil {
			err = provider.MediaChecksumError(p.Kind(), fmt.Errorf("webhook digest: %w", cerr))
		}
	}
	if err != nil {
		var pe *provider.Error
		done(errors.As(err, &pe) && failedLookup(pe), w.cfg.Now())
		return w.failed(ctx, job, mm, p.Kind(), guarded, err)
	}
	sha, err := w.svc.blobs.Put(f.Data)
	if err != nil {
		return err // the disk, not the provider: River retries
	}
	mt := f.MimeType
	if baseType(mt) == "" {
		mt = mm.Mime
	}
	if baseType(mt) == "" {
		mt = Sniff(f.Data)
	}
	mt = CleanType(mt)
	size := int64(len(f.Data))
	var stored bool
	err = st.InTx(ctx, func(tx store.Tx) error {
		if err := st.MediaBlobPut(ctx, tx, sha, size, mt); err != nil {
			return err
		}
		stored, err = st.MediaFetched(ctx, tx, mm.MessageID, sha, size, mt)
		return err
	})
	if err != nil {
		return err
	}
	if stored && w.cfg.Fetched != nil {
		w.cfg.Fetched(size)
	}
	return nil
}

// failed records a failed attempt: retried when the error is temporary and attempts remain, else final.
func (w *FetchWorker) failed(ctx context.Context, job *river.Job[FetchArgs], mm store.MessageMedia, kind string, guarded bool, err error) error {
	var pe *provider.Error
	if !errors.As(err, &pe) {
		pe = &provider.Error{Provider: kind, Op: provider.OpDownloadMedia, Class: provider.ClassRetry, Message: err.Error(), Err: err}
	}
	reason := pe.Message
	if pe.Details != "" {
		reason += " (" + pe.Details + ")"
	}
	if guarded && pe.Class == provider.ClassRate {
		// 360dialog blocks lookups for an hour after too many failures: wait it out (does not use an attempt).
		w.guard.Block(mm.Channel, w.cfg.Now().Add(time.Hour))
		if aerr := w.attempted(ctx, mm.MessageID, reason); aerr != nil {
			return aerr
		}
		return river.JobSnooze(time.Hour)
	}
	if !pe.Class.Retryable() {
		w.log.Warn("media fetch failed for good", "message_id", mm.MessageID, "channel", mm.Channel, "class", pe.Class, "code", pe.Code, "err", pe.Message)
		return w.fail(ctx, mm.MessageID, reason)
	}
	if job.Attempt >= job.MaxAttempts {
		w.log.Warn("media fetch gave up", "message_id", mm.MessageID, "channel", mm.Channel, "attempts", job.Attempt, "err", pe.Message)
		return w.fail(ctx, mm.MessageID, fmt.Sprintf("gave up after %d attempts: %s", job.Attempt, reason))
	}
	if aerr := w.attempted(ctx, mm.MessageID, reason); aerr != nil {
		return aerr
	}
	if pe.RetryAfter > 0 {
		return river.JobSnooze(pe.RetryAfter)
	}
	return pe
}

// failedLookup reports whether a download error was a refused lookup of the media id (the request 360dialog
// counts against its limit), rather than the download that follows it or the network.
func failedLookup(pe *provider.Error) bool {
	return pe.HTTPStatus >= 400 && pe.HTTPStatus < 500 && pe.HTTPStatus != http.StatusTooManyRequests &&
		!errors.Is(pe, provider.ErrMediaURL) && !errors.Is(pe, provider.ErrMediaChecksum)
}

func (w *FetchWorker) attempted(ctx context.Context, id, reason string) error {
	st := w.svc.st
	return st.InTx(context.WithoutCancel(ctx), func(tx store.Tx) error { return st.MediaAttempted(ctx, tx, id, reason) })
}

func (w *FetchWorker) fail(ctx context.Context, id, reason string) error {
	st := w.svc.st
	err := st.InTx(context.WithoutCancel(ctx), func(tx store.Tx) error { return st.MediaFailed(ctx, tx, id, reason) })
	if err == nil && w.cfg.Failed != nil {
		w.cfg.Failed()
	}
	return err
}

// LookupLimit is how many failed media lookups a 360dialog channel may make within an hour. 360dialog blocks
// the lookup endpoint of a number for an hour after more than 5 (docs/provider-api.md §1.2 item 5); wagate
// stays one below, leaving room for another client of the same number.
const LookupLimit = 4

// LookupGuard counts failed media lookups per channel over the last hour, with the lookups in flight (each
// may fail), and holds lookups back while they reach LookupLimit, or while the provider said the channel is
// blocked. It is kept in memory: instances sharing a number each keep their own count.
type LookupGuard struct {
	mu       sync.Mutex
	fails    map[string][]time.Time
	inflight map[string]int
	blocked  map[string]time.Time
}

// NewLookupGuard returns an empty guard.
func NewLookupGuard() *LookupGuard {
	return &LookupGuard{fails: map[string][]time.Time{}, inflight: map[string]int{}, blocked: map[string]time.Time{}}
}

// Acquire asks to make a lookup on channel at now. It returns how long to wait (and nil) when the lookup must
// not be made yet; otherwise 0 and the function to call with the lookup's outcome.
func (g *LookupGuard) Acquire(channel string, now time.Time) (time.Duration, func(failed bool, at time.Time)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if until := g.blocked[channel]; now.Before(until) {
		return until.Sub(now), nil
	}
	recent := g.prune(channel, now)
	if len(recent)+g.inflight[channel] >= LookupLimit {
		if len(recent) == 0 {
			return time.Second, nil // only lookups in flight: ask again soon
		}
		return recent[max(0, len(recent)-LookupLimit+g.inflight[channel])].Add(time.Hour).Sub(now) + time.Second, nil
	}
	g.inflight[channel]++
	var once sync.Once
	return 0, func(failed bool, at time.Time) {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			g.inflight[channel]--
			if failed {
				g.fails[channel] = append(g.prune(channel, at), at)
			}
		})
	}
}

// Failures returns how many failed lookups channel made in the hour before now.
func (g *LookupGuard) Failures(channel string, now time.Time) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.prune(channel, now))
}

// Block holds every lookup on channel back until the given time.
func (g *LookupGuard) Block(channel string, until time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if until.After(g.blocked[channel]) {
		g.blocked[channel] = until
	}
}

func (g *LookupGuard) prune(channel string, now time.Time) []time.Time {
	recent := g.fails[channel][:0]
	for _, t := range g.fails[channel] {
		if now.Sub(t) < time.Hour {
			recent = append(recent, t)
		}
	}
	g.fails[channel] = recent
	return recent
}
