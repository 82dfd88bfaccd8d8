package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/store"
)

// Flood shape: posters send distinct webhooks as fast as wagate answers; wagate is SIGKILLed after killAfter and
// the posters keep going for another afterKill, so that the kill lands on requests in flight.
const (
	posters   = 16
	senders   = 300 // distinct WhatsApp users the inbound messages come from
	killAfter = 2500 * time.Millisecond
	afterKill = 300 * time.Millisecond
	// minAcked guards the test's own validity: a flood that acknowledged almost nothing proves nothing.
	minAcked = 50
)

// channelName is the default channel of a wagate configured only by environment variables.
const channelName = "default"

// shot is one webhook a poster sent, and what came back.
type shot struct {
	receipt bool   // a status receipt for an unknown outbound wamid; otherwise an inbound text message
	wamid   string // the message id it carries (distinct across the flood)
	text    string // the inbound message's text
	body    []byte
	auth    int
	began   time.Time
	ans     answer
	err     error
}

// TestKill9_SQLite proves the durability invariant on SQLite: a webhook flood, SIGKILL in the middle, restart;
// then every webhook that was answered 200 {"ok":true} is stored, processed, and applied exactly once, and
// posting the acknowledged bodies again (a provider retrying after the crash) has no second effect.
func TestKill9_SQLite(t *testing.T) {
	t.Parallel()
	testKill9(t, sqliteDB(t))
}

// TestKill9_Postgres is TestKill9_SQLite on PostgreSQL, where several ingest transactions commit in parallel.
func TestKill9_Postgres(t *testing.T) {
	t.Parallel()
	testKill9(t, postgresDB(t))
}

func testKill9(t *testing.T, db database) {
	client := newClient(2 * posters)
	srv := start(t, db.env)
	shots, deadAt := flood(t, client, srv)

	// Classify the answers. Only 200 {"ok":true} with an event id is a promise of durability.
	errs := newCapped(t)
	var acked, ackedReceipts, inFlight, afterKillErrs, otherStatus int
	for _, sh := range shots {
		switch {
		case sh.err != nil && sh.began.Before(deadAt):
			inFlight++ // cut off by the kill: it may or may not have been committed
		case sh.err != nil:
			afterKillErrs++
		case sh.ans.acked():
			acked++
			if sh.receipt {
				ackedReceipts++
			}
			checkAck(errs, sh, sh.ans.Ack, true)
		case sh.ans.Status == http.StatusOK:
			errs.Errorf("webhook %s answered 200 but not ok (stored as failed): %v", sh.wamid, sh.ans.Ack)
		case sh.ans.Status == http.StatusUnauthorized:
			errs.Errorf("webhook %s refused as unauthenticated though it carried the secret (auth mode %d)", sh.wamid, sh.auth)
		default:
			// A 503 says "not stored, retry": allowed, and not a promise.
			otherStatus++
		}
	}
	errs.flush()
	t.Logf("%s flood: sent %d, acknowledged %d (%d messages, %d receipts), cut off by the kill %d, refused once dead %d, other answers %d",
		db.name, len(shots), acked, acked-ackedReceipts, ackedReceipts, inFlight, afterKillErrs, otherStatus)
	if acked < minAcked {
		t.Fatalf("only %d webhooks acknowledged before the kill: the flood did not exercise anything", acked)
	}
	if t.Failed() {
		return
	}

	// Restart on the same database and let anything deferred to the job queue run.
	srv = start(t, db.env)
	st := db.open(t)
	counts := waitSettled(t, st)
	if counts[store.EventFailed] != 0 {
		t.Errorf("%d events failed; every body sent was valid", counts[store.EventFailed])
	}
	before, durable := verifyFlood(t, st, shots)
	t.Logf("%s after restart: %d events stored (%d of them unacknowledged: committed as the process died), %d messages in %d conversations, %d parked receipts",
		db.name, before.events, before.storedUnacked, before.messages, before.conversations, before.parked)

	for _, sh := range shots {
		if durable[sh] && sh.began.After(deadAt) {
			t.Errorf("webhook %s was sent after wagate died, yet it is stored", sh.wamid)
		}
	}
	if t.Failed() {
		t.Log("not reposting: the store is already wrong")
		return
	}

	// A provider retries every webhook it got no answer for, and may deliver acknowledged ones again: post the
	// acknowledged bodies and those cut off by the kill once more. Each is accepted and stored as a new raw event;
	// only those whose first delivery never became durable have an effect.
	var retry []*shot
	var newMessages, newReceipts int
	for _, sh := range shots {
		cutOff := sh.err != nil && sh.began.Before(deadAt)
		if !sh.ans.acked() && !cutOff {
			continue
		}
		retry = append(retry, sh)
		if !durable[sh] {
			if sh.receipt {
				newReceipts++
			} else {
				newMessages++
			}
		}
	}
	repost(t, client, srv, retry, durable)
	counts = waitSettled(t, st)
	if counts[store.EventFailed] != 0 {
		t.Errorf("%d events failed after the repost", counts[store.EventFailed])
	}
	after := totals(t, st)
	if got, want := after.events, before.events+len(retry); got != want {
		t.Errorf("after reposting %d bodies: %d events, want %d", len(retry), got, want)
	}
	if after.messages != before.messages+newMessages || after.unread != before.unread+newMessages {
		t.Errorf("after reposting: %d messages and %d unread, want %d (%d before, %d never stored until now)",
			after.messages, after.unread, before.messages+newMessages, before.messages, newMessages)
	}
	if after.parked != before.parked+newReceipts {
		t.Errorf("after reposting: %d parked receipts, want %d (%d before, %d never stored until now)",
			after.parked, before.parked+newReceipts, before.parked, newReceipts)
	}
	if after.conversations < before.conversations || after.conversations > senders {
		t.Errorf("after reposting: %d conversations (%d before, %d senders)", after.conversations, before.conversations, senders)
	}
	t.Logf("%s repost: %d bodies posted again (%d acknowledged, %d cut off by the kill, of which %d messages and %d receipts were not stored); now %d events, %d messages, %d parked receipts",
		db.name, len(retry), acked, len(retry)-acked, newMessages, newReceipts, after.events, after.messages, after.parked)
	srv.Stop()
}

// flood runs the posters against srv, SIGKILLs srv after killAfter, and returns every shot and the time by
// which the process was dead.
func flood(t *testing.T, client *http.Client, srv *server) ([]*shot, time.Time) {
	t.Helper()
	stop := make(chan struct{})
	per := make([][]*shot, posters)
	base := time.Now().Add(-time.Hour).Unix()
	var wg sync.WaitGroup
	for p := range posters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				sh := &shot{auth: n % 2} // alternate the header and ?token= authentication
				from := senderNumber((p*7919 + n) % senders)
				if n%4 == 3 {
					sh.receipt = true
					sh.wamid = fmt.Sprintf("wamid.E2E.out.%02d.%06d", p, n)
					sh.body = receipt(sh.wamid, "delivered", from, base+int64(n))
				} else {
					sh.wamid = fmt.Sprintf("wamid.E2E.in.%02d.%06d", p, n)
					sh.text = fmt.Sprintf("flood message %d from poster %d", n, p)
					sh.body = inboundText(from, "Sender "+from[len(from)-3:], sh.wamid, sh.text, base+int64(n))
				}
				sh.began = time.Now()
				sh.ans, sh.err = postWebhook(client, srv.URL, sh.body, sh.auth)
				per[p] = append(per[p], sh)
				if sh.err != nil {
					time.Sleep(5 * time.Millisecond) // the server is gone: do not spin
				}
			}
		}()
	}
	time.Sleep(killAfter)
	srv.Kill()
	deadAt := time.Now() // the process has been reaped: nothing sent from now on can reach it
	time.Sleep(afterKill)
	close(stop)
	wg.Wait()
	var all []*shot
	for _, s := range per {
		all = append(all, s...)
	}
	return all, deadAt
}

// checkAck checks the counts of an acknowledged delivery of sh. A receipt for an unknown message always parks
// and moves nothing (updated:0). An inbound message is stored by its first delivery (fresh) and by no later
// one; a delivery whose processing was deferred to the job queue (queued) reports stored:0 whatever happens
// later, so only the store can tell.
func checkAck(errs *capped, sh *shot, a ackBody, fresh bool) {
	if sh.receipt {
		if a.Statuses == nil || *a.Statuses != 1 || a.Updated == nil || *a.Updated != 0 {
			errs.Errorf("receipt %s: answer %v, want statuses:1 updated:0", sh.wamid, a)
		}
		return
	}
	want := 0
	if fresh && !a.Queued {
		want = 1
	}
	if a.Received == nil || *a.Received != 1 || a.Stored == nil || *a.Stored != want {
		errs.Errorf("message %s (first delivery: %v): answer %v, want received:1 stored:%d", sh.wamid, fresh, a, want)
	}
}

// floodTotals is what the store holds after a flood.
type floodTotals struct {
	events        int // raw events
	storedUnacked int // events whose request got no acknowledgement (committed just before the kill); verifyFlood only
	messages      int
	unread        int // sum of the conversations' unread counts
	conversations int
	parked        int
}

func totals(t *testing.T, st *store.Store) floodTotals {
	t.Helper()
	var ft floodTotals
	ft.events = len(allEvents(t, st))
	_, ft.messages, ft.unread, ft.conversations = messageTotals(t, st, channelName)
	var err error
	if ft.parked, err = st.ParkedCount(context.Background()); err != nil {
		t.Fatalf("parked count: %v", err)
	}
	return ft
}

// verifyFlood checks the store against what the posters sent and were told:
//   - every stored event is a body some poster sent, stored once, verbatim, and processed with the counts of one
//     fresh delivery;
//   - every acknowledged webhook is one of those events, under the id it was acknowledged with (nothing
//     acknowledged is lost);
//   - each inbound wamid whose event is stored is exactly one message, linked to that event, and no message
//     exists without its event (effects commit with the event, exactly once); the number of messages and the
//     sum of unread counts both equal the number of stored inbound events;
//   - each receipt whose event is stored is parked exactly once.
//
// It returns the totals and the shots whose event is stored.
func verifyFlood(t *testing.T, st *store.Store, shots []*shot) (floodTotals, map[*shot]bool) {
	ctx := context.Background()
	errs := newCapped(t)
	defer errs.flush()
	byBody := make(map[string]*shot, len(shots))
	for _, sh := range shots {
		byBody[string(sh.body)] = sh
	}
	eventOf := map[*shot]string{}
	events := allEvents(t, st)
	var ft floodTotals
	ft.events = len(events)
	storedMessages, storedReceipts, sentReceipts, ackedReceipts := 0, 0, 0, 0
	for _, ev := range events {
		full, err := st.EventGet(ctx, nil, ev.ID)
		if err != nil {
			errs.Errorf("event %s listed but not readable: %v", ev.ID, err)
			continue
		}
		sh := byBody[string(full.Body)]
		if sh == nil {
			errs.Errorf("event %s holds a body no poster sent: %.300q", ev.ID, full.Body)
			continue
		}
		if prev, dup := eventOf[sh]; dup {
			errs.Errorf("webhook %s was posted once but stored as two events, %s and %s", sh.wamid, prev, ev.ID)
			continue
		}
		eventOf[sh] = ev.ID
		if !sh.ans.acked() {
			ft.storedUnacked++
		}
		if full.State != store.EventProcessed {
			errs.Errorf("event %s (%s) is %s, want processed: %s", ev.ID, sh.wamid, full.State, full.Error)
		}
		c := full.Counts
		if sh.receipt {
			storedReceipts++
			if c.Statuses != 1 || c.Updated != 0 {
				errs.Errorf("event %s (receipt %s) counts %+v, want statuses 1 updated 0", ev.ID, sh.wamid, c)
			}
		} else {
			storedMessages++
			if c.Received != 1 || c.Stored != 1 {
				errs.Errorf("event %s (message %s) counts %+v, want received 1 stored 1", ev.ID, sh.wamid, c)
			}
		}
	}

	// Nothing acknowledged is lost.
	lost := 0
	for _, sh := range shots {
		if sh.receipt {
			sentReceipts++
		}
		if !sh.ans.acked() {
			continue
		}
		if sh.receipt {
			ackedReceipts++
		}
		id, ok := eventOf[sh]
		switch {
		case !ok:
			lost++
			errs.Errorf("LOST: webhook %s was acknowledged as event %s (%v) but is not in the store", sh.wamid, sh.ans.EventID, sh.ans.Ack)
		case id != sh.ans.EventID:
			errs.Errorf("webhook %s was acknowledged as event %s but is stored as event %s", sh.wamid, sh.ans.EventID, id)
		}
	}
	if lost > 0 {
		t.Errorf("LOST: %d acknowledged webhooks are not in the store", lost)
	}

	// Effects exactly once: one message per stored inbound event, none without one.
	byProviderID, messages, unread, conversations := messageTotals(t, st, channelName)
	ft.messages, ft.unread, ft.conversations = messages, unread, conversations
	sentWamids := map[string]bool{}
	for _, sh := range shots {
		if sh.receipt {
			continue
		}
		sentWamids[sh.wamid] = true
		evID, durable := eventOf[sh]
		n := byProviderID[sh.wamid]
		switch {
		case durable && n != 1:
			errs.Errorf("message %s: event %s is stored but %d messages carry its wamid, want exactly 1", sh.wamid, evID, n)
		case !durable && n != 0:
			errs.Errorf("message %s: %d messages stored though its event is not (effect without its raw event)", sh.wamid, n)
		}
		if !sh.ans.acked() || !durable {
			continue
		}
		m, err := st.MessageGetByProviderID(ctx, channelName, sh.wamid)
		if err != nil {
			errs.Errorf("acknowledged message %s: %v", sh.wamid, err)
			continue
		}
		if m.EventID != evID || m.Direction != store.DirectionIn || m.Text != sh.text {
			errs.Errorf("acknowledged message %s stored as event %s, direction %s, text %q; want event %s, in, %q",
				sh.wamid, m.EventID, m.Direction, m.Text, evID, sh.text)
		}
	}
	for pid := range byProviderID {
		if !sentWamids[pid] {
			errs.Errorf("a message with provider id %q exists that no poster sent", pid)
		}
	}
	if messages != storedMessages || unread != storedMessages {
		t.Errorf("%d inbound events stored, but %d messages and %d unread: effects not applied exactly once",
			storedMessages, messages, unread)
	}
	if conversations > senders {
		t.Errorf("%d conversations for %d senders", conversations, senders)
	}

	// Receipts for unknown wamids are parked exactly once each.
	parked, err := st.ParkedCount(ctx)
	if err != nil {
		t.Fatalf("parked count: %v", err)
	}
	ft.parked = parked
	if parked != storedReceipts {
		t.Errorf("%d parked receipts, want %d: one per stored receipt event", parked, storedReceipts)
	}
	if parked < ackedReceipts || parked > sentReceipts {
		t.Errorf("%d parked receipts, want between %d (acknowledged) and %d (sent)", parked, ackedReceipts, sentReceipts)
	}
	durable := make(map[*shot]bool, len(eventOf))
	for sh := range eventOf {
		durable[sh] = true
	}
	return ft, durable
}

// repost posts the bodies in retry again, posters at a time, as a provider retries webhooks after a crash, and
// checks each answer with checkAck: a delivery whose event is already durable must have no new effect.
func repost(t *testing.T, client *http.Client, srv *server, retry []*shot, durable map[*shot]bool) {
	t.Helper()
	work := make(chan *shot)
	errs := newCapped(t)
	defer errs.flush()
	var wg sync.WaitGroup
	for range posters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sh := range work {
				a, err := postRetrying(client, srv.URL, sh.body)
				if err != nil {
					errs.Errorf("repost %s: %v", sh.wamid, err)
					continue
				}
				checkAck(errs, sh, a.Ack, !durable[sh])
			}
		}()
	}
	for _, sh := range retry {
		work <- sh
	}
	close(work)
	wg.Wait()
}

// postRetrying posts body until it is acknowledged, as a provider does: a 503 or a transport error is retried
// up to five times.
func postRetrying(client *http.Client, base string, body []byte) (answer, error) {
	var last error
	for try := 0; try < 5; try++ {
		a, err := postWebhook(client, base, body, authHeader)
		switch {
		case err != nil:
			last = err
		case a.acked():
			return a, nil
		case a.Status == http.StatusServiceUnavailable:
			last = fmt.Errorf("503: %s", a.Ack.Error)
		default:
			return a, fmt.Errorf("answer %d %v", a.Status, a.Ack)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return answer{}, last
}

// capped reports errors of one kind of check, at most maxReported of them, so that a systematic failure over
// thousands of webhooks stays readable; flush says how many more there were. Safe for concurrent use.
type capped struct {
	t  *testing.T
	mu sync.Mutex
	n  int
}

const maxReported = 20

func newCapped(t *testing.T) *capped { return &capped{t: t} }

func (c *capped) Errorf(format string, args ...any) {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n++; c.n <= maxReported {
		c.t.Errorf(format, args...)
	}
}

func (c *capped) flush() {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n > maxReported {
		c.t.Errorf("... and %d more errors like these (%d in all)", c.n-maxReported, c.n)
	}
}
