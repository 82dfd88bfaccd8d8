package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/store"
)

// inboxTests are the conformance tests of the queries behind the web inbox.
var inboxTests = map[string]func(*testing.T, *store.Store){
	"ConversationSearchText":   testConversationSearchText,
	"ConversationSearchWindow": testConversationSearchWindow,
	"MessagesByProviderID":     testMessagesByProviderID,
}

// said stores an inbound text message from a named contact and returns it.
func said(t *testing.T, st *store.Store, channel, phone, name, providerID, text string, at time.Time) store.Message {
	t.Helper()
	m, _ := insertInbound(t, st, channel, phone, name, store.Message{ProviderID: providerID, Text: text, ProviderTime: at})
	return m
}

func conversationIDs(t *testing.T, st *store.Store, q store.ConversationQuery) []string {
	t.Helper()
	p, err := st.ConversationSearch(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, c := range p.Items {
		ids = append(ids, c.ID)
	}
	return ids
}

func testConversationSearchText(t *testing.T, st *store.Store) {
	now := time.Now().Truncate(time.Millisecond)
	ana := said(t, st, "a", "+34600000001", "Ana Pérez", "wamid.s1", "Where is invoice 42?", now.Add(-3*time.Minute))
	said(t, st, "a", "+34600000001", "Ana Pérez", "wamid.s2", "thanks", now.Add(-2*time.Minute))
	bob := said(t, st, "a", "+447700900123", "Bob", "wamid.s3", "50% off_today", now.Add(-time.Minute))
	cases := []struct {
		q    string
		want []string
	}{
		{"ana", []string{ana.ConversationID}},          // name, case-insensitive
		{"INVOICE", []string{ana.ConversationID}},      // an older message's text
		{"7700 900", []string{bob.ConversationID}},     // part of the number, spaced
		{"+34600000001", []string{ana.ConversationID}}, // the whole number
		{"50%", []string{bob.ConversationID}},          // LIKE wildcards are literal
		{"%", []string{bob.ConversationID}},
		{"o_f", []string{}}, // would match "off" if _ were a wildcard
		{"nobody", []string{}},
		{"", []string{bob.ConversationID, ana.ConversationID}},
	}
	for _, c := range cases {
		got := conversationIDs(t, st, store.ConversationQuery{Q: c.q})
		if len(got) != len(c.want) {
			t.Errorf("search %q: got %v, want %v", c.q, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("search %q: got %v, want %v", c.q, got, c.want)
			}
		}
	}
	// A conversation matching by several messages appears once.
	said(t, st, "a", "+34600000001", "Ana Pérez", "wamid.s4", "invoice again", now)
	if got := conversationIDs(t, st, store.ConversationQuery{Q: "invoice"}); len(got) != 1 {
		t.Fatalf("one conversation, several matching messages: %v", got)
	}
	// Filters combine with the text.
	if got := conversationIDs(t, st, store.ConversationQuery{Q: "ana", Channel: "b"}); len(got) != 0 {
		t.Fatalf("search on another channel: %v", got)
	}
}

func testConversationSearchWindow(t *testing.T, st *store.Store) {
	now := time.Now().Truncate(time.Millisecond)
	open := said(t, st, "a", "+34600000011", "Open", "wamid.w1", "hi", now.Add(-time.Hour))
	said(t, st, "a", "+34600000012", "Closed", "wamid.w2", "hi", now.Add(-30*time.Hour))
	outbound(t, st, "a", "+34600000013", "") // never wrote: no window
	got := conversationIDs(t, st, store.ConversationQuery{WindowOpenAt: now})
	if len(got) != 1 || got[0] != open.ConversationID {
		t.Fatalf("open windows: %v, want [%s]", got, open.ConversationID)
	}
	if got := conversationIDs(t, st, store.ConversationQuery{WindowOpenAt: now.Add(24 * time.Hour)}); len(got) != 0 {
		t.Fatalf("open windows a day later: %v", got)
	}
	if got := conversationIDs(t, st, store.ConversationQuery{}); len(got) != 3 {
		t.Fatalf("without the filter: %v", got)
	}
}

func testMessagesByProviderID(t *testing.T, st *store.Store) {
	ctx := context.Background()
	now := time.Now()
	m1 := said(t, st, "a", "+34600000021", "Q", "wamid.q1", "first", now)
	m2 := said(t, st, "a", "+34600000021", "Q", "wamid.q2", "second", now)
	said(t, st, "b", "+34600000021", "Q", "wamid.q3", "other channel", now)
	got, err := st.MessagesByProviderID(ctx, "a", []string{"wamid.q1", "wamid.q2", "wamid.q3", "wamid.none"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["wamid.q1"].ID != m1.ID || got["wamid.q2"].Text != "second" || got["wamid.q2"].ID != m2.ID {
		t.Fatalf("by provider id: %+v", got)
	}
	if got, err := st.MessagesByProviderID(ctx, "a", nil); err != nil || len(got) != 0 {
		t.Fatalf("no ids: %v %v", got, err)
	}
}
