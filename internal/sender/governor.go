// Package sender sends outbound messages: it queues them durably, paces them with the rate governor, calls the
// channel's provider, records the outcome, and retries what is worth retrying.
package sender

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limits configure the governor of one channel.
type Limits struct {
	// PerSecond is the channel's messages per second (Meta's default for a number is 80, up to 1,000). 0 means
	// unlimited.
	PerSecond float64
	// PairInterval and PairBurst pace messages to one recipient: on average one per PairInterval, with bursts of
	// PairBurst (Meta's pair rate limit is about one per 6 s, with short bursts tolerated). PairInterval 0
	// turns recipient pacing off.
	PairInterval time.Duration
	PairBurst    int
}

// DefaultLimits are Meta's documented defaults for a number.
var DefaultLimits = Limits{PerSecond: 80, PairInterval: 6 * time.Second, PairBurst: 10}

// Governor paces sends per channel and per recipient, and pauses a channel or a recipient after the provider
// said it was throttled. It is in-process: with several instances each instance paces itself (see README).
type Governor struct {
	mu         sync.Mutex
	limits     map[string]Limits
	channels   map[string]*throttle
	recipients map[string]*throttle
	now        func() time.Time
}

type throttle struct {
	lim         *rate.Limiter
	pausedUntil time.Time
	strikes     int
	lastUsed    time.Time
	// sent holds the times of the channel's last sends (a ring of PerSecond entries), for Admit.
	sent []time.Time
	next int
}

// NewGovernor returns a governor with per-channel limits; channels not named use DefaultLimits.
func NewGovernor(limits map[string]Limits, now func() time.Time) *Governor {
	if now == nil {
		now = time.Now
	}
	return &Governor{limits: limits, channels: map[string]*throttle{}, recipients: map[string]*throttle{}, now: now}
}

func (g *Governor) limitsOf(channel string) Limits {
	if l, ok := g.limits[channel]; ok {
		return l
	}
	return DefaultLimits
}

// maxHold is the longest a granted send may wait for its slot; a longer wait is not granted (the caller asks
// again later and holds no slot meanwhile).
const maxHold = 2 * time.Second

// Reserve asks to send one message on channel to recipient. When granted, the message holds a slot of the
// channel's rate and may go after the returned delay (0: now): slots are spaced exactly, so the rate is reached
// and never exceeded. When not granted, nothing is held and the caller asks again after the returned delay (a
// pause, recipient pacing, or a channel slot further than maxHold away).
func (g *Governor) Reserve(channel, recipient string) (time.Duration, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	l := g.limitsOf(channel)
	ch := g.channel(channel, l)
	if wait := ch.pausedUntil.Sub(now); wait > 0 {
		return wait, false
	}
	var rc *throttle
	var rcRes *rate.Reservation
	if l.PairInterval > 0 {
		rc = g.recipient(channel, recipient, l, now)
		if wait := rc.pausedUntil.Sub(now); wait > 0 {
			return wait, false
		}
		rcRes = rc.lim.ReserveN(now, 1)
		if d := rcRes.DelayFrom(now); d > 0 {
			rcRes.CancelAt(now)
			return d, false
		}
		rc.lastUsed = now
	}
	if ch.lim == nil {
		return 0, true
	}
	chRes := ch.lim.ReserveN(now, 1)
	d := chRes.DelayFrom(now)
	if d > maxHold {
		chRes.CancelAt(now)
		if rcRes != nil {
			rcRes.CancelAt(now)
		}
		return d, false
	}
	return d, true
}

func (g *Governor) channel(name string, l Limits) *throttle {
	t, ok := g.channels[name]
	if !ok {
		t = &throttle{}
		if l.PerSecond > 0 {
			// Slots are spaced 2% under the configured rate: a sender that wakes late for its slot then lands
			// closer to the next one, and the margin absorbs that jitter (Admit caps the window itself).
			t.lim = rate.NewLimiter(rate.Limit(l.PerSecond*0.98), 1)
			t.sent = make([]time.Time, max(1, int(l.PerSecond)))
		}
		g.channels[name] = t
	}
	return t
}

func (g *Governor) recipient(channel, to string, l Limits, now time.Time) *throttle {
	key := channel + "\x00" + to
	t, ok := g.recipients[key]
	if !ok {
		burst := max(1, l.PairBurst)
		t = &throttle{lim: rate.NewLimiter(rate.Every(l.PairInterval), burst)}
		g.recipients[key] = t
		if len(g.recipients) > 100_000 {
			g.sweep(now, l)
		}
	}
	return t
}

// sweep forgets recipients idle long enough for their bucket to be full again.
func (g *Governor) sweep(now time.Time, l Limits) {
	idle := l.PairInterval * time.Duration(max(1, l.PairBurst))
	for k, t := range g.recipients {
		if now.Sub(t.lastUsed) > idle && now.After(t.pausedUntil) {
			delete(g.recipients, k)
		}
	}
}

// Admit is called by a sender just before it calls the provider, after waiting for its slot. It records the send
// and returns 0, or returns how long to wait first: it lets no one-second window hold more sends of the channel
// than its configured rate, whatever delays bunched the senders up.
func (g *Governor) Admit(channel string) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	t, ok := g.channels[channel]
	if !ok || len(t.sent) == 0 {
		return 0
	}
	now := g.now()
	if oldest := t.sent[t.next]; !oldest.IsZero() {
		if wait := oldest.Add(time.Second).Sub(now); wait > 0 {
			return wait
		}
	}
	t.sent[t.next] = now
	t.next = (t.next + 1) % len(t.sent)
	return 0
}

// PauseChannel stops sends on channel after a throughput error: for at least d (the provider's Retry-After),
// else for 1 s doubling with each consecutive throttle up to 1 min. It returns the pause.
func (g *Governor) PauseChannel(channel string, d time.Duration) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	t := g.channel(channel, g.limitsOf(channel))
	return t.pause(g.now(), d, time.Second, time.Minute, 2)
}

// PauseRecipient stops sends to one recipient after a pair-rate error: 4^n seconds (4, 16, 64, ...) up to
// 15 min, as Meta advises, or d when longer. Other recipients keep flowing. It returns the pause.
func (g *Governor) PauseRecipient(channel, recipient string, d time.Duration) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	t := g.recipient(channel, recipient, g.limitsOf(channel), now)
	return t.pause(now, d, 4*time.Second, 15*time.Minute, 4)
}

func (t *throttle) pause(now time.Time, floor, base, ceiling time.Duration, factor int) time.Duration {
	d := base
	for i := 0; i < t.strikes && d < ceiling; i++ {
		d *= time.Duration(factor)
	}
	d = min(max(d, floor), ceiling)
	t.strikes++
	if until := now.Add(d); until.After(t.pausedUntil) {
		t.pausedUntil = until
	}
	return d
}

// Success records a message the provider accepted: the throttle strikes of its channel and recipient reset.
func (g *Governor) Success(channel, recipient string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if t, ok := g.channels[channel]; ok {
		t.strikes = 0
	}
	if t, ok := g.recipients[channel+"\x00"+recipient]; ok {
		t.strikes = 0
	}
}
