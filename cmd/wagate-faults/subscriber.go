package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/wagate/wagate/internal/loadgen"
)

// receiver is an application's webhook endpoint: it records every event delivery and answers 204.
type receiver struct {
	mu         sync.Mutex
	deliveries int
	byEvent    map[string]int             // event id (webhook-id) -> deliveries
	byMessage  map[string]map[string]bool // message provider id -> its event ids
}

func newReceiver() *receiver {
	return &receiver{byEvent: map[string]int{}, byMessage: map[string]map[string]bool{}}
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var ev struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		Data struct {
			Message struct {
				ProviderID string `json:"provider_id"`
			} `json:"message"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &ev) != nil || ev.ID == "" || ev.ID != r.Header.Get("webhook-id") {
		http.Error(w, "not an event", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.deliveries++
	rc.byEvent[ev.ID]++
	if pid := ev.Data.Message.ProviderID; pid != "" && ev.Type == "message.received" {
		if rc.byMessage[pid] == nil {
			rc.byMessage[pid] = map[string]bool{}
		}
		rc.byMessage[pid][ev.ID] = true
	}
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// subMaxBackoff is WAGATE_SUBSCRIBER_MAX_BACKOFF in the drill (the default is 1h).
const subMaxBackoff = 10 * time.Second

// drillSubscriberDown: an application's webhook receiver answers 503 for the first half of -outage and refuses
// connections for the second while inbound messages keep coming; every message.received event must reach it
// once it is back. Deliveries are at-least-once (docs/events.md: deduplicate by webhook-id), so duplicates are
// counted and reported, not refused.
func drillSubscriberDown(ctx context.Context, e *env, db string, r *result) {
	r.Allowed = "any (at-least-once)"
	outage := e.opts.Outage
	rc := newReceiver()
	f, err := newFront(rc)
	if err != nil {
		r.fail(err)
		return
	}
	defer f.close()
	n, err := e.startNode(ctx, db, "WAGATE_SUBSCRIBER_ALLOW_CIDRS=127.0.0.1", "WAGATE_SUBSCRIBER_MAX_BACKOFF="+subMaxBackoff.String())
	if err != nil {
		r.fail(err)
		return
	}
	defer n.close()
	sub, _ := json.Marshal(map[string]any{"url": f.URL() + "/events", "types": []string{"message.received"}})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, n.url+"/v1/subscriptions", bytes.NewReader(sub))
	req.Header.Set("Authorization", "Bearer "+apiToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.fail(fmt.Errorf("create the subscription: %w", err))
		return
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		r.fail(fmt.Errorf("create the subscription: HTTP %d %.300s", resp.StatusCode, answer))
		return
	}

	const rate, before, after = 20, 5 * time.Second, 10 * time.Second
	g := newHookGen()
	wait := inBackground(func() (loadgen.Result, error) { return g.load(ctx, n, rate, before+outage+after, 0) })
	if err := sleepCtx(ctx, before); err != nil {
		r.fail(err)
		return
	}
	rc.mu.Lock()
	deliveredBefore := rc.deliveries
	rc.mu.Unlock()
	if err := f.outage(ctx.Done(), outage); err != nil {
		r.fail(err)
		return
	}
	back := time.Now()
	res, lerr := wait()
	if lerr != nil {
		r.fail(lerr)
		return
	}
	r.figure("%d webhooks/s for %s (3 in 4 inbound messages); the subscriber answered 503 for %s, then refused connections for %s; %d events delivered before the outage; %s",
		rate, before+outage+after, outage/2, outage-outage/2, deliveredBefore, loadFigure(res))

	// Every acknowledged inbound message is an event due; wait until each has arrived.
	var due []string
	for i := 0; i < res.Issued; i++ {
		if !g.isReceipt(i) && g.isAcked(i) {
			due = append(due, g.wamid(i))
		}
	}
	missing := func() int {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		k := 0
		for _, id := range due {
			if len(rc.byMessage[id]) == 0 {
				k++
			}
		}
		return k
	}
	deadline := time.Now().Add(3 * time.Minute)
	for missing() > 0 && time.Now().Before(deadline) {
		if err := sleepCtx(ctx, 250*time.Millisecond); err != nil {
			r.fail(err)
			return
		}
	}
	all := time.Since(back)
	if err := sleepCtx(ctx, 3*time.Second); err != nil { // late duplicates
		r.fail(err)
		return
	}
	lost := missing()
	rc.mu.Lock()
	dups := rc.deliveries - len(rc.byEvent)
	twoEvents := 0
	for _, id := range due {
		if len(rc.byMessage[id]) > 1 {
			twoEvents++
		}
	}
	deliveries := rc.deliveries
	rc.mu.Unlock()
	r.Acked += len(due)
	r.Lost += lost
	r.Dups += dups
	r.figure("events: %d due, %d deliveries received, all due events arrived within %s of the subscriber's return",
		len(due), deliveries, all.Round(100*time.Millisecond))
	if lost > 0 {
		r.violate("%d message.received events never reached the subscriber", lost)
	}
	if twoEvents > 0 {
		r.violate("%d messages produced more than one message.received event", twoEvents)
	}
	if bad, kinds := badAnswers(res); bad > 0 || res.Errors+res.WarmupErrors > 0 {
		r.violate("%d webhooks were not acknowledged while only the subscriber was down:%s", res.Errors+res.WarmupErrors, kinds)
	}
	c, err := verifyHooks(ctx, n, g, 0, res.Issued)
	if err != nil {
		r.fail(err)
		return
	}
	c.apply(r, "webhooks", false)
	if err := n.stop(); err != nil {
		r.fail(err)
	}
}
