package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wagate/wagate/internal/loadgen"
	"github.com/wagate/wagate/internal/simulate"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/wa"
)

// hookSenders is how many distinct WhatsApp users the drills' inbound messages come from.
const hookSenders = 300

// hookGen makes the drills' provider webhooks and records which ones wagate acknowledged. Webhook i is a
// delivered receipt for an outbound message wagate does not know (it is parked) when i%4 == 3, and otherwise
// an inbound text message; every webhook carries a wamid of its own.
type hookGen struct {
	run string // random per generator: ids of two runs never match

	mu    sync.Mutex
	acked map[int]time.Time // index -> when the 200 arrived
	base  int64
}

func newHookGen() *hookGen {
	return &hookGen{run: loadgen.RunID(), acked: map[int]time.Time{}, base: time.Now().Add(-time.Hour).Unix()}
}

func (g *hookGen) isReceipt(i int) bool { return i%4 == 3 }

// wamid is webhook i's message id.
func (g *hookGen) wamid(i int) string {
	if g.isReceipt(i) {
		return fmt.Sprintf("wamid.FLT.%s.out.%07d", g.run, i)
	}
	return fmt.Sprintf("wamid.FLT.%s.in.%07d", g.run, i)
}

func (g *hookGen) from(i int) string { return fmt.Sprintf("+3469%07d", i%hookSenders) }

// body is webhook i as a Cloud API provider posts it.
func (g *hookGen) body(i int) []byte {
	at := time.Unix(g.base+int64(i), 0)
	var b []byte
	var err error
	if g.isReceipt(i) {
		b, err = simulate.Receipt(wa.ShapeCloud, simulate.ReceiptOptions{MessageID: g.wamid(i), Status: "delivered",
			RecipientID: g.from(i), Timestamp: at})
	} else {
		b, err = simulate.Message(wa.ShapeCloud, simulate.MessageOptions{From: g.from(i), Name: "Drill " + g.from(i)[9:],
			ID: g.wamid(i), Text: fmt.Sprintf("fault drill message %d", i), Timestamp: at})
	}
	if err != nil {
		panic(err) // the options are fixed and valid
	}
	return b
}

// check records a 2xx answer to webhook i: only 200 {"ok":true} acknowledges it.
func (g *hookGen) check(i, status int, body []byte) error {
	var a struct {
		OK bool `json:"ok"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &a) != nil || !a.OK {
		return errors.New("answer is not 200 {\"ok\":true}")
	}
	g.mu.Lock()
	g.acked[i] = time.Now()
	g.mu.Unlock()
	return nil
}

// isAcked reports whether webhook i was acknowledged.
func (g *hookGen) isAcked(i int) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.acked[i]
	return ok
}

// firstAckAfter returns the first time after t at which a webhook was acknowledged, false when none was.
func (g *hookGen) firstAckAfter(t time.Time) (time.Time, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var first time.Time
	for _, at := range g.acked {
		if at.After(t) && (first.IsZero() || at.Before(first)) {
			first = at
		}
	}
	return first, !first.IsZero()
}

// ackedCount returns how many webhooks were acknowledged.
func (g *hookGen) ackedCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.acked)
}

// load posts webhooks first, first+1, ... to n at rate per second for d (an open loop: requests keep their
// schedule whatever wagate does, so a dead or stalled wagate sees them pile up and fail), and returns what
// came back.
func (g *hookGen) load(ctx context.Context, n *node, rate float64, d time.Duration, first int) (loadgen.Result, error) {
	return loadgen.OpenLoop(ctx, loadgen.Config{
		URL:         n.url + "/webhooks/whatsapp",
		Header:      http.Header{simulate.DefaultSecretHeader: {webhookSecret}},
		Body:        g.body,
		Check:       g.check,
		First:       first,
		Rate:        rate,
		MaxInFlight: 64,
		Duration:    d,
		Timeout:     10 * time.Second,
	})
}

// hookCheck is what the store holds for the webhooks of a generator.
type hookCheck struct {
	issued, acked, ackedMessages, ackedReceipts int
	messages                                    int // inbound messages stored
	unackedStored                               int // messages stored whose webhook got no 200 (committed as the answer was lost)
	lost, dups, unknown                         int
	parked, failedEvents                        int
}

// verifyHooks waits until wagate has processed every stored webhook, then checks the store against the
// webhooks issued (indexes first to first+issued): each acknowledged message is stored exactly once (counted by
// provider id), no message is stored twice, and the parked receipts number at least the acknowledged ones
// and at most those sent.
func verifyHooks(ctx context.Context, n *node, g *hookGen, first, issued int) (hookCheck, error) {
	c := hookCheck{issued: issued}
	st, err := n.open(ctx)
	if err != nil {
		return c, err
	}
	defer st.Close()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		counts, err := st.EventCounts(ctx)
		if err != nil {
			return c, fmt.Errorf("event counts: %w", err)
		}
		c.failedEvents = counts[store.EventFailed]
		if counts[store.EventPending] == 0 {
			break
		}
		if time.Now().After(deadline) {
			return c, fmt.Errorf("events still pending 2 minutes after the load: %v", counts)
		}
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return c, err
		}
	}
	byID := map[string]int{}
	cursor := ""
	for {
		page, err := st.MessageSearch(ctx, store.MessageQuery{Channel: channel, Direction: store.DirectionIn, Cursor: cursor, Limit: 500})
		if err != nil {
			return c, fmt.Errorf("message search: %w", err)
		}
		for _, m := range page.Items {
			byID[m.ProviderID]++
			c.messages++
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	known := map[string]bool{}
	sentReceipts := 0
	for i := first; i < first+issued; i++ {
		if g.isReceipt(i) {
			sentReceipts++
			if g.isAcked(i) {
				c.acked++
				c.ackedReceipts++
			}
			continue
		}
		id := g.wamid(i)
		known[id] = true
		k := byID[id]
		if g.isAcked(i) {
			c.acked++
			c.ackedMessages++
			if k == 0 {
				c.lost++
			}
		} else if k > 0 {
			c.unackedStored++
		}
		if k > 1 {
			c.dups += k - 1
		}
	}
	for id, k := range byID {
		if !known[id] {
			c.unknown += k
		}
	}
	if c.parked, err = st.ParkedCount(ctx); err != nil {
		return c, fmt.Errorf("parked count: %w", err)
	}
	if c.parked < c.ackedReceipts {
		c.lost += c.ackedReceipts - c.parked
	}
	if c.parked > sentReceipts {
		c.dups += c.parked - sentReceipts
	}
	return c, nil
}

// apply adds the check's counts and broken promises to r.
func (c hookCheck) apply(r *result, what string, count bool) {
	if count {
		r.Acked += c.acked
	}
	r.Lost += c.lost
	r.Dups += c.dups
	r.figure("%s: %d posted, %d answered 200 (%d messages, %d receipts); stored %d messages (%d of them unanswered: committed as the answer was cut off), %d parked receipts",
		what, c.issued, c.acked, c.ackedMessages, c.ackedReceipts, c.messages, c.unackedStored, c.parked)
	if c.lost > 0 {
		r.violate("%s: %d webhooks answered 200 are not in the store", what, c.lost)
	}
	if c.dups > 0 {
		r.violate("%s: %d effects applied twice (a provider id stored more than once, or more parked receipts than sent)", what, c.dups)
	}
	if c.unknown > 0 {
		r.violate("%s: %d messages stored that no webhook carried", what, c.unknown)
	}
	if c.failedEvents > 0 {
		r.violate("%s: %d events failed; every body posted was valid", what, c.failedEvents)
	}
}

// badAnswers counts the answers of a load run that are neither acknowledgements, nor 5xx, nor transport
// errors (a dead or unreachable wagate): a 4xx, or a 2xx that is not the expected acknowledgement.
func badAnswers(res loadgen.Result) (int, string) {
	n, kinds := 0, ""
	for _, k := range res.ErrorKinds {
		if k.Kind == "transport" || strings.HasPrefix(k.Kind, "HTTP 5") {
			continue
		}
		n += k.Count
		kinds += fmt.Sprintf(" %d × %s (e.g. %s)", k.Count, k.Kind, k.Example)
	}
	return n, kinds
}

// loadFigure describes a load run's answers in a few words.
func loadFigure(res loadgen.Result) string {
	s := fmt.Sprintf("%d requests, %d 2xx", res.Requests+res.WarmupOK+res.WarmupErrors, res.OK+res.WarmupOK)
	for _, k := range res.ErrorKinds {
		s += fmt.Sprintf(", %d %s", k.Count, k.Kind)
	}
	return s
}
