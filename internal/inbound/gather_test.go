package inbound

import (
	"testing"
	"time"
)

func TestRateMeter(t *testing.T) {
	var m rateMeter
	if r := m.perSecond(); r != 0 {
		t.Fatalf("empty meter: %v", r)
	}
	start := time.Now()
	m.add(10, start)
	m.add(90, start.Add(rateWindow))
	// 100 webhooks over one window.
	if got, want := m.perSecond(), 100/rateWindow.Seconds(); got != want {
		t.Errorf("rate = %v, want %v", got, want)
	}
	m.since = time.Now().Add(-3 * rateWindow)
	if r := m.perSecond(); r != 0 {
		t.Errorf("rate after a quiet spell = %v, want 0", r)
	}
}

func newGatherIngester(gather time.Duration, maxBatch int) *Ingester {
	return &Ingester{reqs: make(chan *request, 64), maxBatch: maxBatch, gather: gather, stop: make(chan struct{})}
}

func TestFill_NoWaitWhenIdle(t *testing.T) {
	in := newGatherIngester(time.Second, 10)
	in.reqs <- &request{}
	in.reqs <- &request{}
	batch := []*request{{}}
	var m rateMeter
	start := time.Now()
	in.fill(&batch, &m)
	if len(batch) != 3 {
		t.Errorf("batch of %d, want the 3 queued", len(batch))
	}
	if el := time.Since(start); el > 200*time.Millisecond {
		t.Errorf("fill waited %v with no load", el)
	}
}

func TestFill_GathersUnderLoad(t *testing.T) {
	in := newGatherIngester(150*time.Millisecond, 100)
	var m rateMeter
	now := time.Now()
	m.add(1, now.Add(-rateWindow))
	m.add(999, now) // about 20,000 a second: wants the whole gather time's worth, capped at maxBatch
	go func() {
		for i := 0; i < 3; i++ {
			time.Sleep(10 * time.Millisecond)
			in.reqs <- &request{}
		}
	}()
	batch := []*request{{}}
	start := time.Now()
	in.fill(&batch, &m)
	el := time.Since(start)
	if len(batch) != 4 {
		t.Errorf("batch of %d, want 4 (the first and the 3 that arrived while gathering)", len(batch))
	}
	if el < 100*time.Millisecond {
		t.Errorf("fill returned after %v, before the gather time, with a batch short of its target", el)
	}

	// A full batch commits at once.
	in = newGatherIngester(time.Hour, 5)
	for i := 0; i < 4; i++ {
		in.reqs <- &request{}
	}
	batch = []*request{{}}
	start = time.Now()
	in.fill(&batch, &m)
	if len(batch) != 5 || time.Since(start) > time.Second {
		t.Errorf("full batch: %d requests after %v", len(batch), time.Since(start))
	}

	// A negative gather time never waits.
	in = newGatherIngester(-1, 100)
	batch = []*request{{}}
	start = time.Now()
	in.fill(&batch, &m)
	if time.Since(start) > 200*time.Millisecond {
		t.Errorf("gather < 0 waited %v", time.Since(start))
	}
}
