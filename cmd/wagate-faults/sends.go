package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/wagate/wagate/internal/config"
	"github.com/wagate/wagate/internal/loadgen"
	"github.com/wagate/wagate/internal/provider/providertest"
	"github.com/wagate/wagate/internal/queue"
)

// sendGen makes the drills' API sends and records which ones wagate accepted. Send i is a text message to a
// recipient of its own, with the idempotency key <run>-<i> and a marker naming i in its text, so that what the
// fake provider receives can be matched with what was accepted.
type sendGen struct {
	run string

	mu       sync.Mutex
	accepted map[int]string // index -> wagate's message id
}

func newSendGen() *sendGen {
	return &sendGen{run: loadgen.RunID(), accepted: map[int]string{}}
}

func (g *sendGen) marker() string { return "fault drill send " + g.run + "-" }

// body is send i as an application posts it to POST /v1/messages.
func (g *sendGen) body(i int) []byte {
	return fmt.Appendf(nil, `{"to":"+34696%06d","type":"text","text":{"body":"%s%d"},"idempotency_key":"%s-%d"}`,
		i%1_000_000, g.marker(), i, g.run, i)
}

// check records a 2xx answer to send i: 202 (or 200 for a repeated idempotency key) with the message's id.
func (g *sendGen) check(i, status int, body []byte) error {
	var a struct {
		ID string `json:"id"`
	}
	if (status != http.StatusAccepted && status != http.StatusOK) || json.Unmarshal(body, &a) != nil || a.ID == "" {
		return errors.New("answer is not 202 with the message's id")
	}
	g.mu.Lock()
	g.accepted[i] = a.ID
	g.mu.Unlock()
	return nil
}

func (g *sendGen) isAccepted(i int) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.accepted[i]
	return ok
}

// acceptedIndexes returns the indexes of the sends accepted so far.
func (g *sendGen) acceptedIndexes() map[int]bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(map[int]bool, len(g.accepted))
	for i := range g.accepted {
		out[i] = true
	}
	return out
}

// lastArrival returns when the last of the sends in set first reached the fake, false when one never did.
func lastArrival(fake *providertest.Server, g *sendGen, set map[int]bool) (time.Time, bool) {
	first := map[int]time.Time{}
	for _, s := range fake.Sent() {
		if i, ok := g.index(s.Body); ok && set[i] {
			if t, seen := first[i]; !seen || s.At.Before(t) {
				first[i] = s.At
			}
		}
	}
	var last time.Time
	for i := range set {
		t, ok := first[i]
		if !ok {
			return time.Time{}, false
		}
		if t.After(last) {
			last = t
		}
	}
	return last, true
}

func (g *sendGen) acceptedCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.accepted)
}

// index returns the send index a provider body's marker names.
func (g *sendGen) index(body []byte) (int, bool) {
	return loadgen.MarkerIndex(body, g.marker())
}

// load posts sends first, first+1, ... to n at rate per second for d (an open loop).
func (g *sendGen) load(ctx context.Context, n *node, rate float64, d time.Duration, first int) (loadgen.Result, error) {
	return loadgen.OpenLoop(ctx, loadgen.Config{
		URL:         n.url + "/v1/messages",
		Header:      http.Header{"Authorization": {"Bearer " + apiToken}},
		Body:        g.body,
		Check:       g.check,
		First:       first,
		Rate:        rate,
		MaxInFlight: 64,
		Duration:    d,
		Timeout:     10 * time.Second,
	})
}

// retryUnanswered posts again, with the same idempotency key, every send among the first issued that got no
// acceptance, as an application retries a request whose answer it never saw. It returns how many it posted
// and how many of those were accepted now.
func (g *sendGen) retryUnanswered(ctx context.Context, n *node, issued int) (posted, accepted int, err error) {
	client := loadgen.NewClient(8)
	defer client.CloseIdleConnections()
	for i := 0; i < issued; i++ {
		if g.isAccepted(i) {
			continue
		}
		posted++
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url+"/v1/messages", bytes.NewReader(g.body(i)))
		if err != nil {
			return posted, accepted, err
		}
		req.Header.Set("Authorization", "Bearer "+apiToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return posted, accepted, fmt.Errorf("repost send %d: %w", i, err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err := g.check(i, resp.StatusCode, body); err != nil {
			return posted, accepted, fmt.Errorf("repost send %d: HTTP %d %.200s", i, resp.StatusCode, body)
		}
		accepted++
	}
	return posted, accepted, nil
}

// startFake starts a fake 360dialog Cloud provider that posts no receipts, behind a front a drill can take
// down. Every send is answered after latency, as a real provider takes a while.
func startFake(latency time.Duration) (*providertest.Server, *front, error) {
	fake, err := providertest.Start(providertest.Options{Kind: providertest.Kind360Dialog, APIKey: providerKey, Receipts: []string{}})
	if err != nil {
		return nil, nil, err
	}
	if latency > 0 {
		fake.Fail(providertest.EndpointSend, providertest.Fault{Delay: latency})
	}
	f, err := newFront(fake)
	if err != nil {
		fake.Close()
		return nil, nil, err
	}
	return fake, f, nil
}

// sendRig is a fake provider behind its front and a running wagate sending to it.
type sendRig struct {
	fake *providertest.Server
	f    *front
	n    *node
}

// close stops the wagate and the fake.
func (s *sendRig) close() {
	s.n.close()
	s.f.close()
	s.fake.Close()
}

// startSendRig starts a fake provider answering sends after latency, and a wagate on database db sending to it.
func (e *env) startSendRig(ctx context.Context, db string, latency time.Duration) (*sendRig, error) {
	fake, f, err := startFake(latency)
	if err != nil {
		return nil, err
	}
	n, err := e.startNode(ctx, db, sendVars(f)...)
	if err != nil {
		f.close()
		fake.Close()
		return nil, err
	}
	return &sendRig{fake: fake, f: f, n: n}, nil
}

// sendVars configures a wagate's default channel as 360dialog Cloud at the fake's front. A failing send is
// retried after at most sendMaxBackoff, so that recovery after an outage shows within the drill.
func sendVars(f *front) []string {
	return []string{"WAGATE_PROVIDER=360dialog", "WHATSAPP_API_KEY=" + providerKey, "WAGATE_PROVIDER_BASE_URL=" + f.URL(),
		"WAGATE_WINDOW_CHECK=false", "WAGATE_SEND_MAX_BACKOFF=" + sendMaxBackoff.String()}
}

// sendMaxBackoff is WAGATE_SEND_MAX_BACKOFF in the drills (the default is 5m).
const sendMaxBackoff = 10 * time.Second

// sendCheck is what the fake provider received for the sends of a generator.
type sendCheck struct {
	accepted, lost, dups, unacceptedSent, sends int
	drained                                     time.Duration // from the start of the wait until every accepted send had arrived
}

// verifySends waits up to timeout until the fake has received every accepted send, then waits settle more for
// late duplicates, and counts: accepted sends that never arrived (lost), sends that arrived more than once
// (duplicates: each extra arrival counts), and sends that arrived without having been accepted (their request
// was cut off, yet committed).
func verifySends(ctx context.Context, fake *providertest.Server, g *sendGen, timeout, settle time.Duration) (sendCheck, error) {
	var c sendCheck
	start := time.Now()
	count := func() map[int]int {
		by := map[int]int{}
		for _, s := range fake.Sent() {
			if i, ok := g.index(s.Body); ok {
				by[i]++
			}
		}
		return by
	}
	for {
		by := count()
		missing := 0
		g.mu.Lock()
		for i := range g.accepted {
			if by[i] == 0 {
				missing++
			}
		}
		g.mu.Unlock()
		if missing == 0 {
			c.drained = time.Since(start)
			break
		}
		if time.Since(start) > timeout {
			c.drained = -1
			break
		}
		if err := sleepCtx(ctx, 250*time.Millisecond); err != nil {
			return c, err
		}
	}
	if err := sleepCtx(ctx, settle); err != nil {
		return c, err
	}
	by := count()
	g.mu.Lock()
	defer g.mu.Unlock()
	c.accepted = len(g.accepted)
	for i := range g.accepted {
		if by[i] == 0 {
			c.lost++
		}
	}
	for i, k := range by {
		c.sends += k
		if k > 1 {
			c.dups += k - 1
		}
		if _, ok := g.accepted[i]; !ok {
			c.unacceptedSent++
		}
	}
	return c, nil
}

// apply adds the check's counts and broken promises to r; maxDups is how many duplicates are allowed.
func (c sendCheck) apply(r *result, maxDups int) {
	r.Acked += c.accepted
	r.Lost += c.lost
	r.Dups += c.dups
	drained := "never"
	if c.drained >= 0 {
		drained = c.drained.Round(100 * time.Millisecond).String()
	}
	r.figure("sends: %d accepted, the provider got %d sends (%d of them for requests whose answer was cut off); all accepted sends arrived %s after the load",
		c.accepted, c.sends, c.unacceptedSent, drained)
	if c.lost > 0 {
		r.violate("%d sends answered 202 never reached the provider", c.lost)
	}
	if c.dups > maxDups {
		r.violate("%d duplicate sends at the provider, more than the %d allowed", c.dups, maxDups)
	}
}

// Shape of the SIGKILL send drill: sends at sendRate per second for sendLoad; wagate is killed sendKillAt
// into it and restarted at once.
const (
	sendRate    = 50
	sendLoad    = 12 * time.Second
	sendKillAt  = 5 * time.Second
	sendLatency = 100 * time.Millisecond
)

// drillKillSends: sends flowing to a provider that takes sendLatency per call, SIGKILL, restart; every send
// answered 202 must reach the provider, and duplicates stay within the README's bound (the send jobs running at
// the kill, at most WAGATE_QUEUE_WORKERS).
func drillKillSends(ctx context.Context, e *env, db string, r *result) {
	workers := config.DefaultQueueWorkers
	r.Allowed = fmt.Sprintf("≤ %d", workers)
	rig, err := e.startSendRig(ctx, db, sendLatency)
	if err != nil {
		r.fail(err)
		return
	}
	defer rig.close()
	fake, f, n := rig.fake, rig.f, rig.n
	g := newSendGen()
	wait := inBackground(func() (loadgen.Result, error) { return g.load(ctx, n, sendRate, sendLoad, 0) })
	if err := sleepCtx(ctx, sendKillAt); err != nil {
		r.fail(err)
		return
	}
	inflight, sentBefore, acceptedBefore := f.inflight.Load(), fake.SentCount(), g.acceptedCount()
	if err := n.kill(); err != nil {
		r.fail(err)
		return
	}
	if err := n.start(ctx); err != nil {
		r.fail(fmt.Errorf("restart after SIGKILL: %w", err))
		return
	}
	res, lerr := wait()
	if lerr != nil {
		r.fail(lerr)
		return
	}
	r.figure("%d sends/s for %s to a provider answering in %s; SIGKILL after %s with %d accepted, %d at the provider and %d provider calls in flight; %s",
		sendRate, sendLoad, sendLatency, sendKillAt, acceptedBefore, sentBefore, inflight, loadFigure(res))
	posted, again, err := g.retryUnanswered(ctx, n, res.Issued)
	if err != nil {
		r.fail(err)
		return
	}
	r.figure("%d unanswered requests posted again with their idempotency keys, %d accepted", posted, again)
	timeout := 2 * time.Minute
	if db == "postgres" {
		// Jobs left running by the dead process are retried by River's rescuer RescueAfter after they started.
		timeout = queue.RescueAfter + time.Minute
		r.figure("PostgreSQL: jobs cut off by the kill are rescued %s after they started, so the drill waits up to %s", queue.RescueAfter, timeout)
	}
	c, err := verifySends(ctx, fake, g, timeout, 3*time.Second)
	if err != nil {
		r.fail(err)
		return
	}
	c.apply(r, workers)
	if err := n.stop(); err != nil {
		r.fail(err)
	}
}

// drillProviderDown: the provider answers 503 for the first half of -outage and refuses connections for the
// second while sends keep coming; every accepted send must arrive once the provider is back, none twice.
func drillProviderDown(ctx context.Context, e *env, db string, r *result) {
	r.Allowed = "0"
	outage := e.opts.Outage
	rig, err := e.startSendRig(ctx, db, 20*time.Millisecond)
	if err != nil {
		r.fail(err)
		return
	}
	defer rig.close()
	fake, f, n := rig.fake, rig.f, rig.n
	const rate, before, after = 20, 5 * time.Second, 10 * time.Second
	g := newSendGen()
	wait := inBackground(func() (loadgen.Result, error) { return g.load(ctx, n, rate, before+outage+after, 0) })
	if err := sleepCtx(ctx, before); err != nil {
		r.fail(err)
		return
	}
	sentBefore := fake.SentCount()
	if err := f.outage(ctx.Done(), outage); err != nil {
		r.fail(err)
		return
	}
	back := time.Now()
	sentDuring := fake.SentCount() - sentBefore
	backlog := g.acceptedIndexes()
	res, lerr := wait()
	if lerr != nil {
		r.fail(lerr)
		return
	}
	r.figure("%d sends/s for %s; the provider answered 503 for %s, then refused connections for %s (%d sends reached it meanwhile); %d accepted by its return; %s",
		rate, before+outage+after, outage/2, outage-outage/2, sentDuring, len(backlog), loadFigure(res))
	if res.Errors+res.WarmupErrors > 0 {
		r.violate("%d API requests failed while only the provider was down: %s", res.Errors+res.WarmupErrors, res.ErrorSummary())
	}
	c, err := verifySends(ctx, fake, g, 3*time.Minute, 3*time.Second)
	if err != nil {
		r.fail(err)
		return
	}
	if last, ok := lastArrival(fake, g, backlog); ok {
		r.figure("the last of the %d sends accepted before the provider's return reached it %s after its return", len(backlog), last.Sub(back).Round(100*time.Millisecond))
	}
	c.apply(r, 0)
	if err := n.stop(); err != nil {
		r.fail(err)
	}
}
