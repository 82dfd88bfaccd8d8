package sender

import (
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

// drive has many senders ask at once for d, and returns the times at which sends were allowed to go.
func drive(g *Governor, c *clock, channel string, to func(i int) string, d time.Duration) []time.Time {
	var grants []time.Time
	end := c.t.Add(d)
	for i := 0; c.t.Before(end); {
		w, ok := g.Reserve(channel, to(i))
		if !ok {
			c.advance(w)
			continue
		}
		// The sender sleeps w, then is admitted.
		c.advance(w)
		for {
			d := g.Admit(channel)
			if d == 0 {
				break
			}
			c.advance(d)
		}
		grants = append(grants, c.t)
		i++
	}
	return grants
}

// reserve is Reserve for tests that only care whether a send may go now.
func reserve(g *Governor, channel, to string) time.Duration {
	w, ok := g.Reserve(channel, to)
	if ok && w == 0 {
		return 0
	}
	if w == 0 {
		w = time.Nanosecond
	}
	return w
}

func TestGovernor_ChannelRateIsPreciseAndNeverAbove(t *testing.T) {
	t.Parallel()
	c := newClock()
	g := NewGovernor(map[string]Limits{"a": {PerSecond: 80}}, c.now)
	start := c.t
	all := drive(g, c, "a", func(i int) string { return "+34" + string(rune('0'+i%10)) + "00000000" }, 12*time.Second)
	var grants []time.Time
	for _, at := range all {
		if at.Before(start.Add(10 * time.Second)) {
			grants = append(grants, at)
		}
	}
	if n := len(grants); n < 760 || n > 800 {
		t.Fatalf("%d sends in 10 s at 80/s", n)
	}
	// No one-second window holds more than 80 (+1 for the window's edge).
	for i := range grants {
		j := i
		for j < len(grants) && grants[j].Sub(grants[i]) < time.Second {
			j++
		}
		if j-i > 80 {
			t.Fatalf("%d sends within one second from %v", j-i, grants[i])
		}
	}
}

func TestGovernor_RecipientPacing(t *testing.T) {
	t.Parallel()
	c := newClock()
	g := NewGovernor(map[string]Limits{"a": {PerSecond: 0, PairInterval: 6 * time.Second, PairBurst: 3}}, c.now)
	for i := 0; i < 3; i++ {
		if w := reserve(g, "a", "+34696247355"); w != 0 {
			t.Fatalf("burst message %d waits %v", i, w)
		}
	}
	if w := reserve(g, "a", "+34696247355"); w < 5*time.Second || w > 6*time.Second {
		t.Fatalf("fourth message to the same recipient waits %v, want about 6s", w)
	}
	if w := reserve(g, "a", "+34600000001"); w != 0 {
		t.Fatalf("another recipient waits %v", w)
	}
}

func TestGovernor_PausesBackOffAndReset(t *testing.T) {
	t.Parallel()
	c := newClock()
	g := NewGovernor(map[string]Limits{"a": {PerSecond: 0, PairInterval: time.Millisecond, PairBurst: 100}}, c.now)
	if d := g.PauseChannel("a", 0); d != time.Second {
		t.Fatalf("first channel pause %v", d)
	}
	if d := g.PauseChannel("a", 0); d != 2*time.Second {
		t.Fatalf("second channel pause %v", d)
	}
	if w := reserve(g, "a", "+34600000001"); w != 2*time.Second {
		t.Fatalf("paused channel wait %v", w)
	}
	if d := g.PauseChannel("a", 30*time.Second); d != 30*time.Second {
		t.Fatalf("Retry-After pause %v", d)
	}
	c.advance(31 * time.Second)
	if w := reserve(g, "a", "+34600000001"); w != 0 {
		t.Fatalf("after the pause: wait %v", w)
	}
	g.Success("a", "+34600000001")
	if d := g.PauseChannel("a", 0); d != time.Second {
		t.Fatalf("pause after success %v, want the backoff reset", d)
	}
	c.advance(2 * time.Second)
	// Pair rate: 4 s, 16 s, 64 s for one recipient; the others are not held.
	for i, want := range []time.Duration{4 * time.Second, 16 * time.Second, 64 * time.Second} {
		if d := g.PauseRecipient("a", "+34696247355", 0); d != want {
			t.Fatalf("recipient pause %d = %v, want %v", i, d, want)
		}
	}
	if w := reserve(g, "a", "+34696247355"); w < 60*time.Second {
		t.Fatalf("paused recipient waits %v", w)
	}
	if w := reserve(g, "a", "+34600000002"); w != 0 {
		t.Fatalf("another recipient waits %v", w)
	}
}

func TestGovernor_OffWhenRateIsZero(t *testing.T) {
	t.Parallel()
	c := newClock()
	g := NewGovernor(map[string]Limits{"a": {}}, c.now)
	for i := 0; i < 10000; i++ {
		if w := reserve(g, "a", "+34696247355"); w != 0 {
			t.Fatalf("send %d waits %v with pacing off", i, w)
		}
	}
}

// TestGovernor_AdmitCapsEveryWindow: senders delayed so that they arrive bunched are held back, so that no
// one-second window holds more than the configured rate.
func TestGovernor_AdmitCapsEveryWindow(t *testing.T) {
	t.Parallel()
	c := newClock()
	g := NewGovernor(map[string]Limits{"a": {PerSecond: 80}}, c.now)
	g.Reserve("a", "+34600000001") // creates the channel
	start := c.t
	var admitted []time.Time
	for i := 0; i < 200; i++ {
		for {
			d := g.Admit("a")
			if d == 0 {
				break
			}
			c.advance(d)
		}
		admitted = append(admitted, c.t)
	}
	for i := range admitted {
		j := i
		for j < len(admitted) && admitted[j].Sub(admitted[i]) < time.Second {
			j++
		}
		if j-i > 80 {
			t.Fatalf("%d sends within one second from %v", j-i, admitted[i].Sub(start))
		}
	}
	if got := admitted[80].Sub(start); got != time.Second {
		t.Fatalf("the 81st bunched send went at %v, want 1s", got)
	}
}
