package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/store"
)

// testSubscriptions covers subscriptions, event sequences, the delivery log, requeueing and closing windows.
func testSubscriptions(t *testing.T, st *store.Store) {
	ctx := context.Background()
	sub := store.Subscription{URL: "https://example.com/hook", Types: []string{"message.received"}, Channels: []string{"default"},
		Format: "wagate", Secret: "whsec_x", Enabled: true}
	tx(t, st, func(tx store.Tx) error { return st.SubscriptionInsert(ctx, tx, &sub) })
	got, err := st.SubscriptionGet(ctx, nil, sub.ID)
	if err != nil || got.URL != sub.URL || got.Secret != "whsec_x" || len(got.Types) != 1 || got.Channels[0] != "default" || !got.Enabled {
		t.Fatalf("get: %+v, %v", got, err)
	}
	if _, err := st.SubscriptionGet(ctx, nil, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing subscription: %v", err)
	}

	// Sequences count per conversation.
	m1, _ := inbound(t, st, "default", "+34600000001", "wamid.S1", time.Now())
	m2, _ := inbound(t, st, "default", "+34600000002", "wamid.S2", time.Now())
	var evs []store.AppEvent
	tx(t, st, func(tx store.Tx) error {
		evs = nil
		for _, conv := range []string{m1.ConversationID, m1.ConversationID, m2.ConversationID, ""} {
			ev := store.AppEvent{Type: "message.received", Channel: "default", ConversationID: conv, Data: []byte(`{"a":1}`)}
			if err := st.AppEventInsert(ctx, tx, &ev); err != nil {
				return err
			}
			evs = append(evs, ev)
		}
		return nil
	})
	if evs[0].Sequence != 1 || evs[1].Sequence != 2 || evs[2].Sequence != 1 || evs[3].Sequence != 0 {
		t.Fatalf("sequences %d %d %d %d", evs[0].Sequence, evs[1].Sequence, evs[2].Sequence, evs[3].Sequence)
	}

	// The delivery log: pending, an attempt, dead-lettered, requeued.
	d := store.Delivery{SubscriptionID: sub.ID, EventID: evs[0].ID}
	tx(t, st, func(tx store.Tx) error { return st.DeliveryInsert(ctx, tx, &d) })
	w, err := st.DeliveryWorkGet(ctx, d.ID)
	if err != nil || w.Event.Sequence != 1 || string(w.Event.Data) != `{"a":1}` || w.Subscription.ID != sub.ID || w.Delivery.State != store.DeliveryPending {
		t.Fatalf("work: %+v, %v", w, err)
	}
	tx(t, st, func(tx store.Tx) error {
		return st.DeliveryRecord(ctx, tx, d.ID, store.DeliveryAttempt{State: store.DeliveryFailed, Status: 500, Latency: 12 * time.Millisecond,
			Error: "receiver answered HTTP 500", ResponseExcerpt: "boom", At: time.Now()})
	})
	failed, err := st.DeliveryList(ctx, store.DeliveryFilter{State: store.DeliveryFailed})
	if err != nil || len(failed.Items) != 1 || failed.Items[0].Attempts != 1 || failed.Items[0].LastStatus != 500 ||
		failed.Items[0].LastLatencyMS != 12 || failed.Items[0].ResponseExcerpt != "boom" || failed.Items[0].EventType != "message.received" {
		t.Fatalf("failed list: %+v, %v", failed, err)
	}
	var ids []string
	var ok bool
	tx(t, st, func(tx store.Tx) error {
		var err error
		if ids, err = st.DeliveryFailedIDs(ctx, tx, sub.ID, 10); err != nil {
			return err
		}
		ok, err = st.DeliveryRequeue(ctx, tx, d.ID)
		return err
	})
	if len(ids) != 1 || !ok {
		t.Fatalf("failed ids %v, requeued %t", ids, ok)
	}
	tx(t, st, func(tx store.Tx) error {
		ok, _ = st.DeliveryRequeue(ctx, tx, d.ID)
		return nil
	})
	if ok {
		t.Fatal("a pending delivery was requeued")
	}
	counts, err := st.DeliveryCounts(ctx)
	if err != nil || counts[store.DeliveryPending] != 1 {
		t.Fatalf("counts %v, %v", counts, err)
	}

	// Failing, then disabled once.
	tx(t, st, func(tx store.Tx) error {
		if err := st.SubscriptionFailing(ctx, tx, sub.ID, time.UnixMilli(1000)); err != nil {
			return err
		}
		if err := st.SubscriptionFailing(ctx, tx, sub.ID, time.UnixMilli(2000)); err != nil {
			return err
		}
		first, err := st.SubscriptionDisable(ctx, tx, sub.ID, "gone")
		if err != nil || !first {
			t.Errorf("first disable: %t, %v", first, err)
		}
		again, err := st.SubscriptionDisable(ctx, tx, sub.ID, "gone")
		if err != nil || again {
			t.Errorf("second disable: %t, %v", again, err)
		}
		return nil
	})
	got, _ = st.SubscriptionGet(ctx, nil, sub.ID)
	if got.Enabled || got.DisabledReason != "gone" || got.FailingSince.UnixMilli() != 1000 {
		t.Fatalf("after failures: %+v", got)
	}

	// Closing windows: found once per window.
	now := time.Now()
	var list []store.ClosingWindow
	tx(t, st, func(tx store.Tx) error {
		var err error
		list, err = st.WindowsClosing(ctx, tx, now.Add(-25*time.Hour), now.Add(25*time.Hour), 10)
		return err
	})
	if len(list) != 2 || list[0].Contact.Phone == "" {
		t.Fatalf("closing windows: %+v", list)
	}
	tx(t, st, func(tx store.Tx) error {
		for _, w := range list {
			if err := st.WindowAnnounced(ctx, tx, w.ConversationID, w.ExpiresAt); err != nil {
				return err
			}
		}
		list, err = st.WindowsClosing(ctx, tx, now.Add(-25*time.Hour), now.Add(25*time.Hour), 10)
		return err
	})
	if len(list) != 0 {
		t.Fatalf("announced windows found again: %+v", list)
	}

	tx(t, st, func(tx store.Tx) error { return st.SubscriptionDelete(ctx, tx, sub.ID) })
	if _, err := st.DeliveryWorkGet(ctx, d.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("work of a deleted subscription: %v", err)
	}
}
