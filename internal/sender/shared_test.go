package sender

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/store/postgres"
	"github.com/wagate/wagate/internal/store/postgres/pgtest"
)

// sharedStore opens one PostgreSQL database twice, as two instances would.
func sharedStores(t *testing.T) (*store.Store, *store.Store) {
	t.Helper()
	ctx := context.Background()
	u := pgtest.NewDatabase(t)
	var out []*store.Store
	for range 2 {
		db, err := postgres.Open(ctx, u, 4)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(ctx, nil); err != nil {
			t.Fatal(err)
		}
		out = append(out, store.New(db, nil))
	}
	return out[0], out[1]
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestSharedGovernor_TwoInstancesShareTheChannelRate(t *testing.T) {
	t.Parallel()
	st1, st2 := sharedStores(t)
	clock := &fakeClock{t: time.UnixMilli(1_700_000_000_000)}
	limits := map[string]Limits{"main": {PerSecond: 49, PairInterval: 6 * time.Second, PairBurst: 2}}
	a := NewSharedGovernor(st1, limits, clock.now, nil)
	b := NewSharedGovernor(st2, limits, clock.now, nil)
	perSecond := 49.0
	interval := time.Duration(float64(time.Second) / (perSecond * sharedMargin))
	// Both instances ask at once, for distinct recipients, from many goroutines: every granted slot is distinct
	// and the slots are spaced by the interval, whichever instance got them.
	var mu sync.Mutex
	var delays []time.Duration
	refused := 0
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := a
			if i%2 == 1 {
				g = b
			}
			d, ok := g.Reserve("main", "+3460000"+string(rune('0'+i%10))+string(rune('a'+i/10)))
			mu.Lock()
			defer mu.Unlock()
			if ok {
				delays = append(delays, d)
			} else {
				refused++
			}
		}()
	}
	wg.Wait()
	slices.Sort(delays)
	// Slots within maxHold (2 s) are granted: about 2 s / interval + 1 of them; the rest are refused.
	if want := int(maxHold/interval) + 1; len(delays) != want || refused != 200-want {
		t.Fatalf("granted %d, refused %d; want %d granted", len(delays), refused, want)
	}
	for i, d := range delays {
		if want := time.Duration(i) * interval; d < want-time.Millisecond || d > want+time.Millisecond {
			t.Fatalf("slot %d at %s, want %s: the instances' slots overlap", i, d, want)
		}
	}
}

func TestSharedGovernor_PairPacingAndPausesAcrossInstances(t *testing.T) {
	t.Parallel()
	st1, st2 := sharedStores(t)
	clock := &fakeClock{t: time.UnixMilli(1_700_000_000_000)}
	limits := map[string]Limits{"main": {PerSecond: 0, PairInterval: 6 * time.Second, PairBurst: 2}}
	a := NewSharedGovernor(st1, limits, clock.now, nil)
	b := NewSharedGovernor(st2, limits, clock.now, nil)
	if _, ok := a.Reserve("main", "+34600000001"); !ok {
		t.Fatal("first message to the recipient refused")
	}
	if _, ok := b.Reserve("main", "+34600000001"); !ok {
		t.Fatal("second message (within the burst) refused")
	}
	if d, ok := a.Reserve("main", "+34600000001"); ok || d != 6*time.Second {
		t.Fatalf("third message to one recipient from two instances: granted=%v wait=%s, want a 6 s wait", ok, d)
	}
	if _, ok := b.Reserve("main", "+34600000002"); !ok {
		t.Fatal("another recipient refused")
	}
	// A throttle seen by one instance pauses the recipient on the other, growing 4 s, 16 s.
	clock.add(time.Minute)
	if d := a.PauseRecipient("main", "+34600000002", 0); d != 4*time.Second {
		t.Fatalf("first pause %s", d)
	}
	if d, ok := b.Reserve("main", "+34600000002"); ok || d != 4*time.Second {
		t.Fatalf("other instance during the pause: granted=%v wait=%s", ok, d)
	}
	if d := b.PauseRecipient("main", "+34600000002", 0); d != 16*time.Second {
		t.Fatalf("second pause (on the other instance) %s, want 16 s", d)
	}
	clock.add(17 * time.Second)
	if _, ok := a.Reserve("main", "+34600000002"); !ok {
		t.Fatal("recipient still paused after the pause")
	}
	b.Success("main", "+34600000002")
	if d := a.PauseRecipient("main", "+34600000002", 0); d != 4*time.Second {
		t.Fatalf("pause after a success: %s, want the first step again", d)
	}
}
