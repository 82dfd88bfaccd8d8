// Package storetest is the conformance suite every store driver passes: the same behaviour on SQLite and
// PostgreSQL, including the forward-only receipt rule, deduplication and pagination.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/wa"
)

// Opener returns a fresh, migrated, empty store for one test.
type Opener func(t *testing.T) *store.Store

// Run runs the whole suite.
func Run(t *testing.T, open Opener) {
	tests := map[string]func(*testing.T, *store.Store){
		"EventLifecycle":           testEventLifecycle,
		"ContactMatching":          testContactMatching,
		"ContactNameKept":          testContactNameKept,
		"ContactWithoutPhone":      testContactWithoutPhone,
		"MessageDedupe":            testMessageDedupe,
		"WindowFromProviderTime":   testWindow,
		"ReceiptsEveryOrder":       testReceiptsEveryOrder,
		"ReceiptFailedTerminal":    testReceiptFailed,
		"ReceiptDuplicate":         testReceiptDuplicate,
		"ReceiptParkedThenApplied": testReceiptParked,
		"ReceiptForInboundIgnored": testReceiptInbound,
		"Pagination":               testPagination,
		"NoticeList":               testNotices,
		"BadCursor":                testBadCursor,
		"Media":                    testMedia,
		"TextAndUploadReuse":       testTextAndUploadReuse,
		"Subscriptions":            testSubscriptions,
		"TemplatesAndWindows":      testTemplatesAndWindows,
		"EmitBatch":                testEmitBatch,
		"OutboundIdempotency":      testOutboundIdempotency,
		"OutboundAccepted":         testOutboundAccepted,
		"OutboundFailed":           testOutboundFailed,
		"EventInsertMany":          testEventInsertMany,
	}
	for name, fn := range accessTests {
		tests[name] = fn
	}
	for name, fn := range userTests {
		tests[name] = fn
	}
	for name, fn := range statsTests {
		tests[name] = fn
	}
	for name, fn := range inboxTests {
		tests[name] = fn
	}
	for name, fn := range batchTests {
		tests[name] = fn
	}
	for _, name := range []string{"MessageInsertMany", "ReceiptApplyMany", "EventInsertMany", "ReceiptParkedThenApplied", "ReceiptsEveryOrder"} {
		tests[name+"WithChangeSink"] = withChangeSink(tests[name])
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, open(t))
		})
	}
}

func tx(t *testing.T, st *store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := st.InTx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func inbound(t *testing.T, st *store.Store, channel, phone, providerID string, at time.Time) (store.Message, bool) {
	t.Helper()
	return insertInbound(t, st, channel, phone, "Ana", store.Message{ProviderID: providerID, Text: "hola " + providerID,
		ProviderTime: at, Raw: json.RawMessage(`{"id":"` + providerID + `"}`)})
}

// insertInbound stores m as an inbound text message from phone (a contact named name, made when missing) on its
// conversation with channel, and reports whether it was new.
func insertInbound(t *testing.T, st *store.Store, channel, phone, name string, m store.Message) (store.Message, bool) {
	t.Helper()
	ctx := context.Background()
	var inserted bool
	tx(t, st, func(tx store.Tx) error {
		c, err := st.ContactResolve(ctx, tx, store.ContactInput{Phone: phone, WAID: wa.Digits(phone), Name: name})
		if err != nil {
			return err
		}
		conv, err := st.ConversationEnsure(ctx, tx, channel, c.ID)
		if err != nil {
			return err
		}
		m.Channel, m.ConversationID, m.ContactID, m.Direction, m.Type = channel, conv, c.ID, store.DirectionIn, "text"
		inserted, err = st.MessageInsert(ctx, tx, &m)
		return err
	})
	return m, inserted
}

func outbound(t *testing.T, st *store.Store, channel, phone, providerID string) store.Message {
	t.Helper()
	ctx := context.Background()
	var m store.Message
	tx(t, st, func(tx store.Tx) error {
		c, err := st.ContactResolve(ctx, tx, store.ContactInput{Phone: phone})
		if err != nil {
			return err
		}
		conv, err := st.ConversationEnsure(ctx, tx, channel, c.ID)
		if err != nil {
			return err
		}
		m = store.Message{Channel: channel, ConversationID: conv, ContactID: c.ID, Direction: store.DirectionOut,
			Type: "text", Text: "reply"}
		if _, err := st.MessageInsert(ctx, tx, &m); err != nil {
			return err
		}
		if providerID != "" {
			err = st.MessageAccepted(ctx, tx, channel, m.ID, providerID, time.Now())
		}
		return err
	})
	return m
}

func receipt(t *testing.T, st *store.Store, channel, providerID string, status wa.Status, at time.Time, errs ...wa.ProviderError) store.ReceiptOutcome {
	t.Helper()
	var out store.ReceiptOutcome
	tx(t, st, func(tx store.Tx) error {
		var err error
		out, err = st.ReceiptApply(context.Background(), tx, channel, "ev1", wa.Receipt{MessageID: providerID, Status: status, Timestamp: at, Errors: errs})
		return err
	})
	return out
}

func get(t *testing.T, st *store.Store, id string) store.Message {
	t.Helper()
	m, err := st.MessageGet(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func testEventLifecycle(t *testing.T, st *store.Store) {
	ctx := context.Background()
	ev := store.Event{Channel: "default", AuthChannels: []string{"default", "b"}, Body: []byte(`{"x":1}`), ContentType: "application/json"}
	tx(t, st, func(tx store.Tx) error { return st.EventInsert(ctx, tx, &ev) })
	got, err := st.EventGet(ctx, nil, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != store.EventPending || string(got.Body) != `{"x":1}` || len(got.AuthChannels) != 2 {
		t.Fatalf("event = %+v", got)
	}
	tx(t, st, func(tx store.Tx) error {
		return st.EventFinish(ctx, tx, ev.ID, "cloud", store.EventFailed, "bad json", store.Counts{Received: 2, Stored: 1})
	})
	got, _ = st.EventGet(ctx, nil, ev.ID)
	if got.State != store.EventFailed || got.Error != "bad json" || got.Attempts != 1 || got.Counts.Stored != 1 || got.ProcessedAt.IsZero() {
		t.Fatalf("finished event = %+v", got)
	}
	tx(t, st, func(tx store.Tx) error { return st.EventMarkRetry(ctx, tx, ev.ID, "replay") })
	page, err := st.EventList(ctx, store.EventFilter{State: store.EventPending})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != ev.ID {
		t.Fatalf("pending list = %+v, %v", page, err)
	}
	if _, err := st.EventGet(ctx, nil, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing event err = %v", err)
	}
	counts, err := st.EventCounts(ctx)
	if err != nil || counts[store.EventPending] != 1 {
		t.Fatalf("counts = %v, %v", counts, err)
	}
}

func testContactMatching(t *testing.T, st *store.Store) {
	ctx := context.Background()
	resolve := func(in store.ContactInput) store.Contact {
		var c store.Contact
		tx(t, st, func(tx store.Tx) error {
			var err error
			c, err = st.ContactResolve(ctx, tx, in)
			return err
		})
		return c
	}
	a := resolve(store.ContactInput{Phone: "+5215512345678", Name: "Ana"})
	if b := resolve(store.ContactInput{Phone: "+5215512345678", Name: "Ana María"}); b.ID != a.ID || b.Name != "Ana María" {
		t.Fatalf("exact phone: %+v vs %+v", b, a)
	}
	// Same last nine digits, another form of the number: matched while only one contact has them.
	if b := resolve(store.ContactInput{Phone: "+525512345678"}); b.ID != a.ID {
		t.Fatalf("tail match: got %s want %s", b.ID, a.ID)
	}
	// A second contact with the same tail makes the tail ambiguous: a third form creates a new contact.
	c2 := resolve(store.ContactInput{Phone: "+34512345678"})
	if c2.ID == a.ID {
		// +34 512345678 shares the tail 512345678 with the first contact: exactly one match, so it is matched.
		t.Log("tail matched the only candidate, as specified")
	}
	other := resolve(store.ContactInput{Phone: "+4915112345678"})
	if other.ID == a.ID {
		t.Fatal("different tail must not match")
	}
	got, err := st.ContactGetByPhone(ctx, "+5215512345678")
	if err != nil || got.ID != a.ID {
		t.Fatalf("by phone = %+v, %v", got, err)
	}
	if _, err := st.ContactGetByPhone(ctx, "+10000000000"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing phone err = %v", err)
	}
}

// testContactNameKept checks that a name given by staff or the API survives new profile names, which are kept
// beside it, and that clearing it gives the contact its profile name back.
func testContactNameKept(t *testing.T, st *store.Store) {
	ctx := context.Background()
	resolve := func(name string) store.Contact {
		var c store.Contact
		tx(t, st, func(tx store.Tx) error {
			var err error
			c, err = st.ContactResolve(ctx, tx, store.ContactInput{Phone: "+34611000111", WAID: "34611000111", Name: name})
			return err
		})
		return c
	}
	c := resolve("Ana")
	if c.Name != "Ana" || c.ProfileName != "Ana" || c.NameSet {
		t.Fatalf("new contact: %+v", c)
	}
	given := "Ana García (Calle Mayor 3)"
	if _, err := st.ContactUpdate(ctx, c.ID, store.ContactPatch{Name: &given}); err != nil {
		t.Fatal(err)
	}
	c = resolve("Ana 🌻")
	if c.Name != given || c.ProfileName != "Ana 🌻" || !c.NameSet {
		t.Fatalf("after a new profile name, the given name must stay: %+v", c)
	}
	if got, _ := st.ContactGet(ctx, c.ID); got.Name != given || got.ProfileName != "Ana 🌻" {
		t.Fatalf("stored: %+v", got)
	}
	page, err := st.ContactSearch(ctx, store.ContactQuery{Q: "🌻"})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != c.ID {
		t.Fatalf("search by profile name: %+v, %v", page.Items, err)
	}
	empty := ""
	c, err = st.ContactUpdate(ctx, c.ID, store.ContactPatch{Name: &empty})
	if err != nil || c.Name != "Ana 🌻" || c.NameSet {
		t.Fatalf("cleared name: %+v, %v", c, err)
	}
	if c = resolve("Ana B."); c.Name != "Ana B." || c.ProfileName != "Ana B." {
		t.Fatalf("profile names apply again once the given name is cleared: %+v", c)
	}
	// A contact created by the API with a name keeps it too.
	made, err := st.ContactCreate(ctx, store.ContactNew{Phone: "+34611000222", Name: "Client 42"})
	if err != nil || !made.NameSet {
		t.Fatalf("created: %+v, %v", made, err)
	}
	tx(t, st, func(tx store.Tx) error {
		got, err := st.ContactResolve(ctx, tx, store.ContactInput{Phone: "+34611000222", WAID: "34611000222", Name: "Pepe"})
		if err == nil && (got.Name != "Client 42" || got.ProfileName != "Pepe") {
			t.Errorf("API-created contact after a message: %+v", got)
		}
		return err
	})
}

func testContactWithoutPhone(t *testing.T, st *store.Store) {
	ctx := context.Background()
	var a, b store.Contact
	tx(t, st, func(tx store.Tx) error {
		var err error
		a, err = st.ContactResolve(ctx, tx, store.ContactInput{UserID: "US.1234", Username: "ana"})
		if err != nil {
			return err
		}
		b, err = st.ContactResolve(ctx, tx, store.ContactInput{UserID: "US.1234", Phone: "+34696247355"})
		return err
	})
	if a.ID != b.ID || b.Phone != "+34696247355" || b.Username != "ana" {
		t.Fatalf("bsuid contact: %+v then %+v", a, b)
	}
	tx(t, st, func(tx store.Tx) error {
		_, err := st.ContactResolve(ctx, tx, store.ContactInput{})
		if err == nil {
			return errors.New("want error for a contact with neither phone nor user id")
		}
		return nil
	})
}

func testMessageDedupe(t *testing.T, st *store.Store) {
	now := time.Now().Truncate(time.Second)
	m1, ins1 := inbound(t, st, "default", "+34696247355", "wamid.A", now)
	_, ins2 := inbound(t, st, "default", "+34696247355", "wamid.A", now)
	if !ins1 || ins2 {
		t.Fatalf("inserted = %v, %v; want true, false", ins1, ins2)
	}
	// The same provider id on another channel is another message.
	if _, ins := inbound(t, st, "other", "+34696247355", "wamid.A", now); !ins {
		t.Fatal("same provider id on another channel must be stored")
	}
	conv, err := st.ConversationGet(context.Background(), m1.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	if conv.UnreadCount != 1 || conv.LastMessageID != m1.ID || conv.Contact.Phone != "+34696247355" {
		t.Fatalf("conversation = %+v", conv)
	}
	got := get(t, st, m1.ID)
	if got.Text != "hola wamid.A" || got.Status != wa.StatusReceived || string(got.Raw) != `{"id":"wamid.A"}` {
		t.Fatalf("message = %+v", got)
	}
}

func testWindow(t *testing.T, st *store.Store) {
	t1 := time.Now().Add(-30 * time.Hour).Truncate(time.Second)
	m, _ := inbound(t, st, "default", "+34696247355", "wamid.W1", t1)
	conv, _ := st.ConversationGet(context.Background(), m.ConversationID)
	if !conv.WindowExpiresAt.Equal(t1.Add(24*time.Hour)) || conv.WindowOpen(time.Now()) {
		t.Fatalf("old message: window %v open=%v", conv.WindowExpiresAt, conv.WindowOpen(time.Now()))
	}
	t2 := time.Now().Add(-1 * time.Hour).Truncate(time.Second)
	inbound(t, st, "default", "+34696247355", "wamid.W2", t2)
	// A late-arriving older message neither shortens the window nor becomes the last message.
	inbound(t, st, "default", "+34696247355", "wamid.W0", t1.Add(-time.Hour))
	conv, _ = st.ConversationGet(context.Background(), m.ConversationID)
	if !conv.WindowExpiresAt.Equal(t2.Add(24*time.Hour)) || !conv.WindowOpen(time.Now()) || conv.LastPreview != "hola wamid.W2" {
		t.Fatalf("window = %v, preview %q", conv.WindowExpiresAt, conv.LastPreview)
	}
	if conv.UnreadCount != 3 {
		t.Fatalf("unread = %d, want 3", conv.UnreadCount)
	}
}

func testReceiptsEveryOrder(t *testing.T, st *store.Store) {
	base := time.Now().Truncate(time.Second)
	perms := [][]wa.Status{
		{wa.StatusSent, wa.StatusDelivered, wa.StatusRead},
		{wa.StatusSent, wa.StatusRead, wa.StatusDelivered},
		{wa.StatusDelivered, wa.StatusSent, wa.StatusRead},
		{wa.StatusDelivered, wa.StatusRead, wa.StatusSent},
		{wa.StatusRead, wa.StatusSent, wa.StatusDelivered},
		{wa.StatusRead, wa.StatusDelivered, wa.StatusSent},
	}
	times := map[wa.Status]time.Time{wa.StatusSent: base, wa.StatusDelivered: base.Add(time.Second), wa.StatusRead: base.Add(2 * time.Second)}
	for i, perm := range perms {
		pid := fmt.Sprintf("wamid.P%d", i)
		m := outbound(t, st, "default", "+34696247355", pid)
		for _, s := range perm {
			receipt(t, st, "default", pid, s, times[s])
		}
		got := get(t, st, m.ID)
		if got.Status != wa.StatusRead || !got.StatusAt.Equal(times[wa.StatusRead]) {
			t.Fatalf("order %v: status %s at %v", perm, got.Status, got.StatusAt)
		}
		seen := map[wa.Status]time.Time{}
		for _, h := range got.History {
			seen[h.Status] = h.ProviderTime
		}
		for s, at := range times {
			if !seen[s].Equal(at) {
				t.Fatalf("order %v: history %v lacks %s at %v", perm, got.History, s, at)
			}
		}
		if _, ok := seen[wa.StatusAccepted]; !ok || len(got.History) != 5 {
			t.Fatalf("order %v: history = %+v", perm, got.History)
		}
	}
}

func testReceiptFailed(t *testing.T, st *store.Store) {
	now := time.Now().Truncate(time.Second)
	m := outbound(t, st, "default", "+34696247355", "wamid.F")
	receipt(t, st, "default", "wamid.F", wa.StatusSent, now)
	out := receipt(t, st, "default", "wamid.F", wa.StatusFailed, now.Add(time.Second),
		wa.ProviderError{Code: 131026, Title: "Message undeliverable", Details: "not on WhatsApp"})
	if out != store.ReceiptUpdated {
		t.Fatalf("failed outcome = %s", out)
	}
	if out := receipt(t, st, "default", "wamid.F", wa.StatusRead, now.Add(2*time.Second)); out != store.ReceiptRecorded {
		t.Fatalf("read after failed = %s, want recorded", out)
	}
	got := get(t, st, m.ID)
	if got.Status != wa.StatusFailed || got.ErrorCode != 131026 || got.ErrorTitle != "Message undeliverable" || got.ErrorDetail != "not on WhatsApp" {
		t.Fatalf("failed message = %+v", got)
	}
}

func testReceiptDuplicate(t *testing.T, st *store.Store) {
	now := time.Now()
	m := outbound(t, st, "default", "+34696247355", "wamid.D")
	outs := []store.ReceiptOutcome{
		receipt(t, st, "default", "wamid.D", wa.StatusDelivered, now),
		receipt(t, st, "default", "wamid.D", wa.StatusDelivered, now),
		receipt(t, st, "default", "wamid.D", wa.StatusDelivered, now),
	}
	if outs[0] != store.ReceiptUpdated || outs[1] != store.ReceiptDuplicate || outs[2] != store.ReceiptDuplicate {
		t.Fatalf("outcomes = %v", outs)
	}
	if got := get(t, st, m.ID); len(got.History) != 3 {
		t.Fatalf("history = %+v", got.History)
	}
	if out := receipt(t, st, "default", "wamid.D", wa.Status("bogus"), now); out != store.ReceiptIgnored {
		t.Fatalf("unknown status outcome = %s", out)
	}
}

func testReceiptParked(t *testing.T, st *store.Store) {
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	if out := receipt(t, st, "default", "wamid.EARLY", wa.StatusRead, now.Add(time.Second)); out != store.ReceiptParked {
		t.Fatalf("outcome = %s", out)
	}
	receipt(t, st, "default", "wamid.EARLY", wa.StatusDelivered, now)
	receipt(t, st, "default", "wamid.EARLY", wa.StatusDelivered, now)
	if n, err := st.ParkedCount(ctx); err != nil || n != 2 {
		t.Fatalf("parked = %d, %v", n, err)
	}
	m := outbound(t, st, "default", "+34696247355", "")
	tx(t, st, func(tx store.Tx) error {
		return st.MessageAccepted(ctx, tx, "default", m.ID, "wamid.EARLY", time.Now())
	})
	got := get(t, st, m.ID)
	if got.Status != wa.StatusRead || got.ProviderID != "wamid.EARLY" || len(got.History) != 4 {
		t.Fatalf("after unpark: status %s history %+v", got.Status, got.History)
	}
	if n, _ := st.ParkedCount(ctx); n != 0 {
		t.Fatalf("parked after apply = %d", n)
	}
}

func testReceiptInbound(t *testing.T, st *store.Store) {
	m, _ := inbound(t, st, "default", "+34696247355", "wamid.T1", time.Now())
	if out := receipt(t, st, "default", "wamid.T1", wa.StatusDelivered, time.Now()); out != store.ReceiptIgnored {
		t.Fatalf("outcome = %s", out)
	}
	if got := get(t, st, m.ID); got.Status != wa.StatusReceived {
		t.Fatalf("inbound status changed to %s", got.Status)
	}
}

func testPagination(t *testing.T, st *store.Store) {
	ctx := context.Background()
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	var convID string
	for i := 0; i < 7; i++ {
		m, _ := inbound(t, st, "default", fmt.Sprintf("+3469624%04d", i), fmt.Sprintf("wamid.C%d", i), base.Add(time.Duration(i)*time.Minute))
		inbound(t, st, "default", "+34600000001", fmt.Sprintf("wamid.M%d", i), base.Add(time.Duration(i)*time.Second))
		_ = m
	}
	seen := map[string]bool{}
	cursor := ""
	pages := 0
	for {
		page, err := st.ConversationList(ctx, store.ConversationFilter{Channel: "default", Cursor: cursor, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for i, c := range page.Items {
			if seen[c.ID] {
				t.Fatalf("conversation %s twice", c.ID)
			}
			seen[c.ID] = true
			if i > 0 && c.LastMessageAt.After(page.Items[i-1].LastMessageAt) {
				t.Fatal("conversations not newest first")
			}
			if c.Contact.Phone == "+34600000001" {
				convID = c.ID
			}
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if len(seen) != 8 || pages != 3 {
		t.Fatalf("saw %d conversations in %d pages", len(seen), pages)
	}
	if page, _ := st.ConversationList(ctx, store.ConversationFilter{Channel: "nope"}); len(page.Items) != 0 {
		t.Fatal("channel filter ignored")
	}
	var texts []string
	cursor = ""
	for {
		page, err := st.MessageList(ctx, store.MessageFilter{ConversationID: convID, Cursor: cursor, Limit: 4})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Items {
			texts = append(texts, m.Text)
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if len(texts) != 7 || texts[0] != "hola wamid.M6" || texts[6] != "hola wamid.M0" {
		t.Fatalf("messages = %v", texts)
	}
}

func testNotices(t *testing.T, st *store.Store) {
	ctx := context.Background()
	tx(t, st, func(tx store.Tx) error {
		if err := st.NoticeInsert(ctx, tx, &store.Notice{Channel: "default", Kind: "error", Code: 130429, Title: "Rate limit hit"}); err != nil {
			return err
		}
		return st.NoticeInsert(ctx, tx, &store.Notice{Channel: "default", Kind: "template", Title: "APPROVED", Payload: json.RawMessage(`{"a":1}`)})
	})
	page, err := st.NoticeList(ctx, store.NoticeFilter{Kind: "template"})
	if err != nil || len(page.Items) != 1 || string(page.Items[0].Payload) != `{"a":1}` {
		t.Fatalf("notices = %+v, %v", page, err)
	}
}

func testBadCursor(t *testing.T, st *store.Store) {
	_, err := st.ConversationList(context.Background(), store.ConversationFilter{Cursor: "!!"})
	if !errors.Is(err, store.ErrBadCursor) {
		t.Fatalf("err = %v", err)
	}
}

func create(t *testing.T, st *store.Store, key, hash string) (store.Message, bool, error) {
	t.Helper()
	var m store.Message
	var created bool
	err := st.InTx(context.Background(), func(tx store.Tx) error {
		in := store.Message{Channel: "default", Type: "text", Text: "hola", Request: json.RawMessage(`{"to":"+34696247355"}`),
			IdempotencyKey: key, RequestHash: hash}
		var err error
		m, created, err = st.OutboundCreate(context.Background(), tx, &in, "+34696247355")
		return err
	})
	return m, created, err
}

func testOutboundIdempotency(t *testing.T, st *store.Store) {
	a, created, err := create(t, st, "key-1", "h1")
	if err != nil || !created || a.Status != wa.StatusQueued || string(a.Request) != `{"to":"+34696247355"}` {
		t.Fatalf("first: %+v %v %v", a, created, err)
	}
	b, created, err := create(t, st, "key-1", "h1")
	if err != nil || created || b.ID != a.ID {
		t.Fatalf("same key and request: %+v %v %v", b.ID, created, err)
	}
	if _, _, err := create(t, st, "key-1", "h2"); !errors.Is(err, store.ErrIdempotencyConflict) {
		t.Fatalf("same key, other request: %v", err)
	}
	c, created, err := create(t, st, "", "h1")
	d, created2, err2 := create(t, st, "", "h1")
	if err != nil || err2 != nil || !created || !created2 || c.ID == d.ID {
		t.Fatalf("no key: two messages expected")
	}
	got := get(t, st, a.ID)
	if got.IdempotencyKey != "key-1" || got.Direction != store.DirectionOut || len(got.History) != 1 {
		t.Fatalf("stored: %+v", got)
	}
}

func testOutboundAccepted(t *testing.T, st *store.Store) {
	ctx := context.Background()
	m, _, err := create(t, st, "", "")
	if err != nil {
		t.Fatal(err)
	}
	// A fast provider's receipt can arrive before the send result is written.
	receipt(t, st, "default", "wamid.FAST", wa.StatusDelivered, time.Now())
	tx(t, st, func(tx store.Tx) error { return st.MessageAccepted(ctx, tx, "default", m.ID, "wamid.FAST", time.Now()) })
	got := get(t, st, m.ID)
	if got.Status != wa.StatusDelivered || got.ProviderID != "wamid.FAST" || len(got.History) != 3 {
		t.Fatalf("accepted: %s %+v", got.Status, got.History)
	}
	err = st.InTx(ctx, func(tx store.Tx) error {
		return st.MessageAccepted(ctx, tx, "default", m.ID, "wamid.OTHER", time.Now())
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second accept must fail: %v", err)
	}
}

func testOutboundFailed(t *testing.T, st *store.Store) {
	ctx := context.Background()
	m, _, _ := create(t, st, "", "")
	tx(t, st, func(tx store.Tx) error { return st.MessageAttempted(ctx, tx, m.ID, 0, "timeout", "", "retry") })
	tx(t, st, func(tx store.Tx) error {
		return st.MessageFailed(ctx, tx, m.ID, 131047, "Re-engagement message", "24 hours passed", "window")
	})
	got := get(t, st, m.ID)
	if got.Status != wa.StatusFailed || got.Attempts != 2 || got.ErrorCode != 131047 || got.ErrorClass != "window" {
		t.Fatalf("failed: %+v", got)
	}
}

func testEventInsertMany(t *testing.T, st *store.Store) {
	ctx := context.Background()
	var evs []*store.Event
	for i := 0; i < 250; i++ {
		evs = append(evs, &store.Event{Channel: "default", Body: []byte(fmt.Sprintf(`{"n":%d}`, i)), State: store.EventProcessed,
			Counts: store.Counts{Received: i}})
	}
	tx(t, st, func(tx store.Tx) error { return st.EventInsertMany(ctx, tx, evs) })
	for _, i := range []int{0, 99, 100, 249} {
		got, err := st.EventGet(ctx, nil, evs[i].ID)
		if err != nil || string(got.Body) != fmt.Sprintf(`{"n":%d}`, i) || got.Counts.Received != i || got.State != store.EventProcessed {
			t.Fatalf("event %d: %+v, %v", i, got, err)
		}
	}
	counts, _ := st.EventCounts(ctx)
	if counts[store.EventProcessed] != 250 {
		t.Fatalf("counts = %v", counts)
	}
}
