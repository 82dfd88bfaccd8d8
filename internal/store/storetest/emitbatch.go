package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/store"
)

// deferEmitter is an Emitter that defers its events to the end of the transaction and records the deliveries
// it was asked to enqueue.
type deferEmitter struct {
	st       *store.Store
	subs     []string
	enqueued [][]string
}

func (e *deferEmitter) Wants(string, string) bool { return true }

func (e *deferEmitter) Emit(_ context.Context, tx store.Tx, ev *store.DomainEvent) error {
	ed := store.EventDeliveries{Event: store.AppEvent{Type: ev.Type, Channel: ev.Channel, ConversationID: ev.ConversationID,
		Data: []byte(`{"n":"` + ev.SourceEventID + `"}`)}, Subscriptions: e.subs}
	if !e.st.EmitDefer(tx, ed) {
		return errors.New("the transaction of Store.InTx does not defer events")
	}
	return nil
}

func (e *deferEmitter) EnqueueDeliveries(_ context.Context, _ store.Tx, ids []string) error {
	e.enqueued = append(e.enqueued, ids)
	return nil
}

// testEmitBatch checks that events emitted in a transaction are written with their deliveries when it
// commits, numbered per conversation in emission order across several conversations, and not at all when it
// rolls back.
func testEmitBatch(t *testing.T, st *store.Store) {
	ctx := context.Background()
	var subs []string
	for i := range 2 {
		sub := store.Subscription{URL: fmt.Sprintf("https://example.com/%d", i), Format: "wagate", Secret: "whsec_x", Enabled: true}
		tx(t, st, func(tx store.Tx) error { return st.SubscriptionInsert(ctx, tx, &sub) })
		subs = append(subs, sub.ID)
	}
	m1, _ := inbound(t, st, "default", "+34600000011", "wamid.B1", time.Now())
	m2, _ := inbound(t, st, "default", "+34600000012", "wamid.B2", time.Now())
	em := &deferEmitter{st: st, subs: subs}
	st.SetEmitter(em)

	// A direct insert first: the batched numbering continues after it.
	tx(t, st, func(tx store.Tx) error {
		return st.AppEventInsert(ctx, tx, &store.AppEvent{Type: "message.received", ConversationID: m2.ConversationID})
	})
	convs := []string{m1.ConversationID, m2.ConversationID, m1.ConversationID, "", m2.ConversationID, m1.ConversationID}
	emitAll := func(tx store.Tx) error {
		for i, c := range convs {
			if err := st.Emit(ctx, tx, &store.DomainEvent{Type: "message.received", Channel: "default", ConversationID: c,
				SourceEventID: fmt.Sprint(i)}); err != nil {
				return err
			}
		}
		return nil
	}
	boom := errors.New("boom")
	if err := st.InTx(ctx, func(tx store.Tx) error {
		if err := emitAll(tx); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("rolled back: %v", err)
	}
	if len(em.enqueued) != 0 {
		t.Fatalf("a rolled-back transaction enqueued %v", em.enqueued)
	}
	if page, err := st.DeliveryList(ctx, store.DeliveryFilter{}); err != nil || len(page.Items) != 0 {
		t.Fatalf("deliveries after rollback: %+v, %v", page, err)
	}
	tx(t, st, emitAll)
	if len(em.enqueued) != 1 || len(em.enqueued[0]) != len(convs)*len(subs) {
		t.Fatalf("enqueued %v", em.enqueued)
	}
	// Event i's deliveries come in subscription order; each names the event and its sequence.
	want := map[string]int64{"0": 1, "1": 2, "2": 2, "3": 0, "4": 3, "5": 3} // m2 had sequence 1 already
	for i, id := range em.enqueued[0] {
		w, err := st.DeliveryWorkGet(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		n := fmt.Sprint(i / len(subs))
		if string(w.Event.Data) != `{"n":"`+n+`"}` || w.Subscription.ID != subs[i%len(subs)] || w.Delivery.State != store.DeliveryPending ||
			w.Event.Sequence != want[n] || w.Event.ConversationID != convs[i/len(subs)] || w.Delivery.StartedAt.IsZero() {
			t.Fatalf("delivery %d: %+v", i, w)
		}
	}
	// Without an emitter that enqueues, the transaction does not defer.
	st.SetEmitter(nil)
	tx(t, st, func(tx store.Tx) error {
		if st.EmitDefer(tx, store.EventDeliveries{}) {
			return errors.New("deferred without an emitter")
		}
		return nil
	})
}
