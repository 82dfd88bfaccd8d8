package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/store"
)

// TestRepeatedBody proves, through the real binary, that a provider delivering the same webhook three times has
// one effect: an inbound message body is stored as three raw events but one message (answers stored:1, then
// stored:0 twice) with one unread count; a receipt body is one parked receipt (there is no send API yet to
// create the outbound message it names). It also checks that webhooks without the right secret are refused
// with 401 and leave nothing behind.
func TestRepeatedBody(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, testRepeatedBody)
}

func testRepeatedBody(t *testing.T, db database) {
	ctx := context.Background()
	srv := start(t, db.env)
	client := newClient(2)
	st := db.open(t)
	ts := time.Now().Add(-time.Minute).Unix()

	// Wrong or missing credentials: 401 and nothing stored.
	msg := inboundText(senderNumber(1), "Ana", "wamid.E2E.repeat.in", "hola, ¿me llamáis?", ts)
	for _, auth := range []int{authWrong, authNone} {
		a, err := postWebhook(client, srv.URL, msg, auth)
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != http.StatusUnauthorized || a.Ack.OK || a.EventID != "" {
			t.Errorf("auth mode %d: got %d %v (event %q), want 401", auth, a.Status, a.Ack, a.EventID)
		}
	}
	if evs := allEvents(t, st); len(evs) != 0 {
		t.Fatalf("%d events stored from unauthenticated requests", len(evs))
	}

	// The same inbound message three times (alternating the two ways to present the secret).
	var msgEvents []string
	for i := range 3 {
		a, err := postWebhook(client, srv.URL, msg, i%2)
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		if i == 0 {
			want = 1
		}
		if !a.acked() || a.Ack.Received == nil || *a.Ack.Received != 1 || a.Ack.Stored == nil || *a.Ack.Stored != want {
			t.Errorf("post %d of the message: %d %v, want ok received:1 stored:%d", i+1, a.Status, a.Ack, want)
		}
		msgEvents = append(msgEvents, a.EventID)
	}

	// The same receipt three times.
	rcpt := receipt("wamid.E2E.repeat.out", "read", senderNumber(1), ts)
	var rcptEvents []string
	for i := range 3 {
		a, err := postWebhook(client, srv.URL, rcpt, i%2)
		if err != nil {
			t.Fatal(err)
		}
		if !a.acked() || a.Ack.Statuses == nil || *a.Ack.Statuses != 1 || a.Ack.Updated == nil || *a.Ack.Updated != 0 {
			t.Errorf("post %d of the receipt: %d %v, want ok statuses:1 updated:0", i+1, a.Status, a.Ack)
		}
		rcptEvents = append(rcptEvents, a.EventID)
	}

	waitSettled(t, st)
	// Each delivery is kept as its own raw event, processed; only the first stored the message.
	for i, id := range append(msgEvents, rcptEvents...) {
		ev, err := st.EventGet(ctx, nil, id)
		if err != nil {
			t.Errorf("acknowledged event %s: %v", id, err)
			continue
		}
		if ev.State != store.EventProcessed {
			t.Errorf("event %s is %s, want processed (%s)", id, ev.State, ev.Error)
		}
		if i < 3 {
			want := store.Counts{Received: 1}
			if i == 0 {
				want.Stored = 1
			}
			if ev.Counts != want {
				t.Errorf("message delivery %d: event counts %+v, want %+v", i+1, ev.Counts, want)
			}
		}
	}
	if evs := allEvents(t, st); len(evs) != 6 {
		t.Errorf("%d events stored, want 6", len(evs))
	}

	m, err := st.MessageGetByProviderID(ctx, channelName, "wamid.E2E.repeat.in")
	if err != nil {
		t.Fatalf("the message: %v", err)
	}
	if m.EventID != msgEvents[0] || m.Text != "hola, ¿me llamáis?" || m.Direction != store.DirectionIn {
		t.Errorf("message: event %s text %q direction %s; want event %s", m.EventID, m.Text, m.Direction, msgEvents[0])
	}
	byPID, messages, unread, conversations := messageTotals(t, st, channelName)
	if messages != 1 || byPID["wamid.E2E.repeat.in"] != 1 || unread != 1 || conversations != 1 {
		t.Errorf("after three deliveries: %d messages (%v), %d unread, %d conversations; want 1, 1, 1",
			messages, byPID, unread, conversations)
	}
	parked, err := st.ParkedCount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if parked != 1 {
		t.Errorf("after three deliveries of one receipt: %d parked receipts, want 1", parked)
	}
	srv.Stop()
}
