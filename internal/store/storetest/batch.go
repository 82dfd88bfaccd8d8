package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/wa"
)

// batchTests check that the batch forms of the write path have the effects of their one-by-one forms.
var batchTests = map[string]func(*testing.T, *store.Store){
	"MessageInsertMany":      testMessageInsertMany,
	"ReceiptApplyMany":       testReceiptApplyMany,
	"DeferredStatementFails": testDeferredStatementFails,
}

// withChangeSink runs fn with a change sink installed. The store then hands out its own transactions, in which,
// on PostgreSQL, statements whose results nobody reads wait and go to the database with the next one: the write
// path's tests run this way too, since it must not change what they do.
func withChangeSink(fn func(*testing.T, *store.Store)) func(*testing.T, *store.Store) {
	return func(t *testing.T, st *store.Store) {
		st.SetChangeSink(&changeSink{})
		fn(t, st)
	}
}

// conversation returns a new contact of WhatsApp id waID and its conversation on the default channel.
func conversation(t *testing.T, st *store.Store, waID string) (contactID, conversationID string) {
	t.Helper()
	ctx := context.Background()
	tx(t, st, func(tx store.Tx) error {
		c, err := st.ContactResolve(ctx, tx, store.ContactInput{Phone: "+" + waID, WAID: waID})
		if err != nil {
			return err
		}
		contactID = c.ID
		conversationID, err = st.ConversationEnsure(ctx, tx, "default", c.ID)
		return err
	})
	return contactID, conversationID
}

// testDeferredStatementFails checks that a failing statement of the write path fails its transaction, also when
// it was sent later than it was made (PostgreSQL): nothing of the transaction is kept.
func testDeferredStatementFails(t *testing.T, st *store.Store) {
	ctx := context.Background()
	st.SetChangeSink(&changeSink{})
	first := &store.Event{Channel: "default", Body: []byte(`{"n":1}`), State: store.EventProcessed}
	tx(t, st, func(tx store.Tx) error { return st.EventInsertMany(ctx, tx, []*store.Event{first}) })
	contactID, convID := conversation(t, st, "34696247358")
	second := &store.Event{Channel: "default", Body: []byte(`{"n":2}`), State: store.EventProcessed}
	again := &store.Event{ID: first.ID, Channel: "default", Body: []byte(`{"n":3}`), State: store.EventProcessed}
	msg := &store.Message{Channel: "default", ConversationID: convID, ContactID: contactID, Direction: store.DirectionIn,
		ProviderID: "wamid.LOST", Type: "text", Text: "lost", ProviderTime: time.Now()}
	err := st.InTx(ctx, func(tx store.Tx) error {
		if _, err := st.MessageInsertMany(ctx, tx, []*store.Message{msg}); err != nil {
			return err
		}
		return st.EventInsertMany(ctx, tx, []*store.Event{second, again})
	})
	if err == nil || !strings.Contains(err.Error(), "event insert") {
		t.Fatalf("inserting an event id twice: %v, want an error of the event insert", err)
	}
	if _, err := st.EventGet(ctx, nil, second.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an event of the failed transaction: %v", err)
	}
	if m, err := st.MessageGetByProviderID(ctx, "default", "wamid.LOST"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the message of the failed transaction: %+v, %v", m, err)
	}
	if c, err := st.ConversationGet(ctx, convID); err != nil || c.LastMessageID != "" || c.UnreadCount != 0 {
		t.Errorf("the conversation of the failed transaction: %+v, %v", c, err)
	}
}

func testMessageInsertMany(t *testing.T, st *store.Store) {
	ctx := context.Background()
	base := time.Now().Truncate(time.Second)
	known, _ := inbound(t, st, "default", "+34696247355", "wamid.KNOWN", base.Add(-time.Hour))
	convA := known.ConversationID
	contactB, convB := conversation(t, st, "34696247356")
	msg := func(conv, contact, providerID string, at time.Time) *store.Message {
		return &store.Message{Channel: "default", ConversationID: conv, ContactID: contact, Direction: store.DirectionIn,
			ProviderID: providerID, Type: "text", Text: "text of " + providerID, ProviderTime: at}
	}
	// Conversation A: three new messages out of order (the latest twice at the same time: the last of them is the
	// last message), one already known; B: one message. Then a provider id repeated within the batch.
	ms := []*store.Message{
		msg(convA, known.ContactID, "wamid.A2", base.Add(2*time.Second)),
		msg(convA, known.ContactID, "wamid.KNOWN", base.Add(time.Hour)),
		msg(convB, contactB, "wamid.B1", base.Add(time.Second)),
		msg(convA, known.ContactID, "wamid.A1", base.Add(time.Second)),
		msg(convA, known.ContactID, "wamid.A3", base.Add(2*time.Second)),
		msg(convB, contactB, "wamid.B1", base.Add(5*time.Second)),
	}
	// More than one chunk: 70 more messages on B, older than B1.
	for i := range 70 {
		ms = append(ms, msg(convB, contactB, fmt.Sprintf("wamid.BX%d", i), base.Add(-time.Duration(i+1)*time.Minute)))
	}
	var stored []bool
	tx(t, st, func(tx store.Tx) error {
		var err error
		stored, err = st.MessageInsertMany(ctx, tx, ms)
		return err
	})
	want := []bool{true, false, true, true, true, false}
	for i, w := range want {
		if stored[i] != w {
			t.Errorf("message %d (%s): stored %v, want %v", i, ms[i].ProviderID, stored[i], w)
		}
	}
	for i := len(want); i < len(ms); i++ {
		if !stored[i] {
			t.Errorf("message %d (%s) not stored", i, ms[i].ProviderID)
		}
	}
	a, err := st.ConversationGet(ctx, convA)
	if err != nil {
		t.Fatal(err)
	}
	if a.LastMessageID != ms[4].ID || a.UnreadCount != 4 || !a.WindowExpiresAt.Equal(base.Add(2*time.Second+24*time.Hour)) {
		t.Errorf("conversation A: last %s (want %s), unread %d (want 4), window %v", a.LastMessageID, ms[4].ID, a.UnreadCount, a.WindowExpiresAt)
	}
	b, err := st.ConversationGet(ctx, convB)
	if err != nil {
		t.Fatal(err)
	}
	if b.LastMessageID != ms[2].ID || b.UnreadCount != 71 || !b.WindowExpiresAt.Equal(base.Add(time.Second+24*time.Hour)) {
		t.Errorf("conversation B: last %s (want %s), unread %d (want 71), window %v", b.LastMessageID, ms[2].ID, b.UnreadCount, b.WindowExpiresAt)
	}
	if got, err := st.MessageGetByProviderID(ctx, "default", "wamid.B1"); err != nil || got.Text != "text of wamid.B1" || got.ID != ms[2].ID {
		t.Errorf("wamid.B1: %+v, %v", got, err)
	}
}

func testReceiptApplyMany(t *testing.T, st *store.Store) {
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	out := outbound(t, st, "default", "+34696247355", "wamid.OUT")
	in, _ := inbound(t, st, "default", "+34696247357", "wamid.IN", now)
	item := func(id string, s wa.Status, at time.Time) store.ReceiptItem {
		return store.ReceiptItem{Channel: "default", EventID: "ev-many", Receipt: wa.Receipt{MessageID: id, Status: s, Timestamp: at}}
	}
	items := []store.ReceiptItem{
		item("wamid.OUT", wa.StatusDelivered, now.Add(time.Second)),
		item("wamid.NEW", wa.StatusDelivered, now),
		item("wamid.OUT", wa.StatusRead, now.Add(2*time.Second)),
		item("wamid.OUT", wa.StatusDelivered, now.Add(time.Second)),
		item("wamid.IN", wa.StatusRead, now),
		item("wamid.NEW", wa.StatusDelivered, now),
		item("wamid.NEW", wa.StatusRead, now.Add(time.Second)),
		item("wamid.OUT", wa.Status("bogus"), now),
		{Channel: "other", EventID: "ev-many", Receipt: wa.Receipt{MessageID: "wamid.OUT", Status: wa.StatusSent, Timestamp: now}},
	}
	// More than one chunk of unknown ids.
	for i := range 70 {
		items = append(items, item(fmt.Sprintf("wamid.U%d", i), wa.StatusSent, now))
	}
	var got []store.ReceiptOutcome
	tx(t, st, func(tx store.Tx) error {
		var err error
		got, err = st.ReceiptApplyMany(ctx, tx, items)
		return err
	})
	want := []store.ReceiptOutcome{store.ReceiptUpdated, store.ReceiptParked, store.ReceiptUpdated, store.ReceiptDuplicate,
		store.ReceiptIgnored, store.ReceiptParked, store.ReceiptParked, store.ReceiptIgnored, store.ReceiptParked}
	for i, w := range want {
		if got[i] != w {
			t.Errorf("receipt %d (%s %s on %s): %s, want %s", i, items[i].Receipt.MessageID, items[i].Receipt.Status, items[i].Channel, got[i], w)
		}
	}
	for i := len(want); i < len(items); i++ {
		if got[i] != store.ReceiptParked {
			t.Errorf("receipt %d: %s, want parked", i, got[i])
		}
	}
	m := get(t, st, out.ID)
	if m.Status != wa.StatusRead {
		t.Errorf("outbound status %s, want read", m.Status)
	}
	if got := get(t, st, in.ID); got.Status != wa.StatusReceived {
		t.Errorf("inbound status changed to %s", got.Status)
	}
	// wamid.NEW delivered (twice) and read, wamid.OUT sent on "other", and the 70: 73 parked rows.
	if n, err := st.ParkedCount(ctx); err != nil || n != 73 {
		t.Errorf("parked = %d, %v; want 73", n, err)
	}
	// The parked receipts apply when their message is accepted.
	late := outbound(t, st, "default", "+34696247358", "")
	tx(t, st, func(tx store.Tx) error {
		return st.MessageAccepted(ctx, tx, "default", late.ID, "wamid.NEW", time.Now())
	})
	if got := get(t, st, late.ID); got.Status != wa.StatusRead {
		t.Errorf("after unpark: status %s, history %+v", got.Status, got.History)
	}
}
