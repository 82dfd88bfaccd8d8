package sender

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/wagate/wagate/internal/store"
)

// Pacer decides when each send may go: the Governor within one instance, SharedGovernor across the instances of
// one database.
type Pacer interface {
	// Reserve asks to send one message on channel to recipient (see Governor.Reserve).
	Reserve(channel, recipient string) (time.Duration, bool)
	// Admit is asked just before the provider call (see Governor.Admit).
	Admit(channel string) time.Duration
	// PauseChannel and PauseRecipient stop sends after the provider throttled them, and return the pause.
	PauseChannel(channel string, d time.Duration) time.Duration
	PauseRecipient(channel, recipient string, d time.Duration) time.Duration
	// Success records a send the provider accepted.
	Success(channel, recipient string)
}

var (
	_ Pacer = (*Governor)(nil)
	_ Pacer = (*SharedGovernor)(nil)
)

// sharedTimeout bounds each database call of the shared governor; past it the instance paces alone.
const sharedTimeout = 2 * time.Second

// sharedMargin is the fraction of the configured rate the shared slots are spaced at.
const sharedMargin = 0.95

// sweepEvery is how often an instance deletes the shared buckets idle for an hour.
const sweepEvery = 10 * time.Minute

// SharedGovernor paces the sends of every instance on one database together: a channel's slots and each
// recipient's pacing are token buckets in the database (store.RateReserve), so two or more instances never
// exceed a channel's rate between them, and pauses after a throttle apply to all. When the database does not
// answer in time, the instance falls back to pacing itself alone (its in-process Governor) and says so in the log.
type SharedGovernor struct {
	st    *store.Store
	local *Governor
	now   func() time.Time
	log   *slog.Logger

	mu        sync.Mutex
	lastSweep time.Time
	lastWarn  time.Time
	struck    map[string]time.Time // keys this instance saw throttled, to clear their strikes on success
}

// NewSharedGovernor returns a governor shared through st with per-channel limits (DefaultLimits for channels not
// named); now is the clock (time.Now when nil).
func NewSharedGovernor(st *store.Store, limits map[string]Limits, now func() time.Time, log *slog.Logger) *SharedGovernor {
	if now == nil {
		now = time.Now
	}
	return &SharedGovernor{st: st, local: NewGovernor(limits, now), now: now, log: log, struck: map[string]time.Time{}}
}

func channelKey(channel string) string             { return "c:" + channel }
func recipientKey(channel, to string) string       { return "r:" + channel + ":" + to }
func (g *SharedGovernor) limitsOf(c string) Limits { return g.local.limitsOf(c) }

// Reserve takes the recipient's and the channel's slots together in the database (both or neither).
func (g *SharedGovernor) Reserve(channel, recipient string) (time.Duration, bool) {
	l := g.limitsOf(channel)
	var asks []store.RateAsk
	if l.PairInterval > 0 {
		asks = append(asks, store.RateAsk{Key: recipientKey(channel, recipient), Interval: l.PairInterval, Burst: max(1, l.PairBurst)})
	}
	if l.PerSecond > 0 {
		// Slots are spaced 5% under the rate: a send that leaves up to 50 ms after its slot (a late wake-up, a
		// busy instance, the network) still does not put more than the rate into any one second at the provider.
		asks = append(asks, store.RateAsk{Key: channelKey(channel), Interval: time.Duration(float64(time.Second) / (l.PerSecond * sharedMargin)),
			Burst: 1, Hold: maxHold})
	}
	if len(asks) == 0 {
		return 0, true
	}
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	now := g.now()
	grant, err := g.st.RateReserve(ctx, now, asks...)
	if err != nil {
		g.warn("shared rate governor unavailable; pacing this instance alone", err)
		return g.local.Reserve(channel, recipient)
	}
	g.sweep(now)
	return grant.Delay, grant.Granted
}

// Admit applies the in-process one-second window check (a safeguard against bunched wake-ups within this
// instance; the shared slots already space the instances' sends).
func (g *SharedGovernor) Admit(channel string) time.Duration { return g.local.Admit(channel) }

// PauseChannel pauses the channel on every instance.
func (g *SharedGovernor) PauseChannel(channel string, d time.Duration) time.Duration {
	return g.pause(channelKey(channel), d, time.Second, time.Minute, 2, func() time.Duration { return g.local.PauseChannel(channel, d) })
}

// PauseRecipient pauses one recipient on every instance.
func (g *SharedGovernor) PauseRecipient(channel, recipient string, d time.Duration) time.Duration {
	return g.pause(recipientKey(channel, recipient), d, 4*time.Second, 15*time.Minute, 4,
		func() time.Duration { return g.local.PauseRecipient(channel, recipient, d) })
}

func (g *SharedGovernor) pause(key string, floor, base, ceiling time.Duration, factor int, local func() time.Duration) time.Duration {
	localPause := local()
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	strikes, err := g.st.RateStrike(ctx, key)
	if err != nil {
		g.warn("shared rate governor unavailable; pausing this instance alone", err)
		return localPause
	}
	t := throttle{strikes: strikes - 1}
	now := g.now()
	d := t.pause(now, floor, base, ceiling, factor)
	if err := g.st.RatePause(ctx, key, now.Add(d)); err != nil {
		g.warn("shared rate governor unavailable; pausing this instance alone", err)
		return localPause
	}
	g.mu.Lock()
	g.struck[key] = now
	g.mu.Unlock()
	return d
}

// Success clears the strikes of the channel and recipient when this instance saw them throttled.
func (g *SharedGovernor) Success(channel, recipient string) {
	g.local.Success(channel, recipient)
	g.mu.Lock()
	var keys []string
	for _, k := range []string{channelKey(channel), recipientKey(channel, recipient)} {
		if _, ok := g.struck[k]; ok {
			keys = append(keys, k)
			delete(g.struck, k)
		}
	}
	g.mu.Unlock()
	for _, k := range keys {
		ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
		if err := g.st.RateClear(ctx, k); err != nil {
			g.warn("shared rate governor: clearing strikes", err)
		}
		cancel()
	}
}

// sweep deletes idle buckets now and then, so that one row per recipient ever paced does not accumulate.
func (g *SharedGovernor) sweep(now time.Time) {
	g.mu.Lock()
	due := now.Sub(g.lastSweep) >= sweepEvery
	if due {
		g.lastSweep = now
	}
	g.mu.Unlock()
	if !due {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := g.st.RateSweep(ctx, now.Add(-time.Hour)); err != nil {
			g.warn("shared rate governor: sweeping idle buckets", err)
		}
	}()
}

// warn logs err at most once a minute.
func (g *SharedGovernor) warn(msg string, err error) {
	g.mu.Lock()
	now := g.now()
	quiet := now.Sub(g.lastWarn) < time.Minute
	if !quiet {
		g.lastWarn = now
	}
	g.mu.Unlock()
	if !quiet && g.log != nil {
		g.log.Warn(msg, "err", err)
	}
}
