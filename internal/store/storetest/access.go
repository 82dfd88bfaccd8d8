package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/wa"
)

// accessTests are the conformance tests of API tokens, contact management and filtered listings.
var accessTests = map[string]func(*testing.T, *store.Store){
	"TokenLifecycle":        testTokenLifecycle,
	"ContactCRUD":           testContactCRUD,
	"ContactSearch":         testContactSearch,
	"MessageSearchFilters":  testMessageSearch,
	"ConversationSearch":    testConversationSearch,
	"ConversationMarkRead":  testConversationMarkRead,
	"EventSearchByChannel":  testEventSearch,
	"ContactWindowsPerChan": testContactWindows,
}

func testTokenLifecycle(t *testing.T, st *store.Store) {
	ctx := context.Background()
	tok := store.APIToken{Name: "crm", Display: "wgt_abcd1234", Hash: "h1", Scopes: []string{"send", "read"}, RatePerMinute: 7}
	if err := st.TokenInsert(ctx, &tok); err != nil {
		t.Fatal(err)
	}
	dup := store.APIToken{Name: "other", Display: "wgt_x", Hash: "h1", Scopes: []string{"read"}}
	if err := st.TokenInsert(ctx, &dup); !errors.Is(err, store.ErrTokenExists) {
		t.Fatalf("same hash twice: %v", err)
	}
	if err := st.TokenInsert(ctx, &store.APIToken{Name: "x", Hash: "h2"}); err == nil {
		t.Fatal("token without scopes accepted")
	}
	got, err := st.TokenGetByHash(ctx, "h1")
	if err != nil || got.ID != tok.ID || got.Name != "crm" || len(got.Scopes) != 2 || got.Scopes[1] != "read" ||
		got.RatePerMinute != 7 || got.Revoked() || !got.LastUsedAt.IsZero() {
		t.Fatalf("by hash: %+v %v", got, err)
	}
	if _, err := st.TokenGetByHash(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown hash: %v", err)
	}
	used := time.Now().Add(time.Minute).Truncate(time.Millisecond)
	if err := st.TokenTouch(ctx, tok.ID, used); err != nil {
		t.Fatal(err)
	}
	if err := st.TokenTouch(ctx, tok.ID, used.Add(-time.Hour)); err != nil { // never backwards
		t.Fatal(err)
	}
	if got, _ = st.TokenGet(ctx, tok.ID); !got.LastUsedAt.Equal(used) {
		t.Fatalf("last used = %v, want %v", got.LastUsedAt, used)
	}
	second := store.APIToken{Name: "bot", Display: "wgt_2", Hash: "h3", Scopes: []string{"admin"}}
	if err := st.TokenInsert(ctx, &second); err != nil {
		t.Fatal(err)
	}
	if n, err := st.TokenActiveCount(ctx); err != nil || n != 2 {
		t.Fatalf("active = %d %v", n, err)
	}
	rev, err := st.TokenRevoke(ctx, tok.ID)
	if err != nil || !rev.Revoked() {
		t.Fatalf("revoke: %+v %v", rev, err)
	}
	again, err := st.TokenRevoke(ctx, tok.ID)
	if err != nil || !again.RevokedAt.Equal(rev.RevokedAt) {
		t.Fatalf("second revoke changed the time: %v %v", again.RevokedAt, err)
	}
	if _, err := st.TokenRevoke(ctx, "no-such-id"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
	if got, _ = st.TokenGetByHash(ctx, "h1"); !got.Revoked() {
		t.Fatal("revoked token reads as active")
	}
	active, err := st.TokenList(ctx, false)
	if err != nil || len(active) != 1 || active[0].ID != second.ID {
		t.Fatalf("active list: %+v %v", active, err)
	}
	if all, err := st.TokenList(ctx, true); err != nil || len(all) != 2 {
		t.Fatalf("full list: %d %v", len(all), err)
	}
}

func testContactCRUD(t *testing.T, st *store.Store) {
	ctx := context.Background()
	c, err := st.ContactCreate(ctx, store.ContactNew{Phone: "+34696247355", Name: "Ana García", ExternalRef: "client-17"})
	if err != nil || c.ID == "" || c.Phone != "+34696247355" || c.WAID != "34696247355" || c.ExternalRef != "client-17" {
		t.Fatalf("create: %+v %v", c, err)
	}
	if _, err := st.ContactCreate(ctx, store.ContactNew{Phone: "+34696247355"}); !errors.Is(err, store.ErrPhoneTaken) {
		t.Fatalf("same phone: %v", err)
	}
	if _, err := st.ContactCreate(ctx, store.ContactNew{Phone: "+34600000001", ExternalRef: "client-17"}); !errors.Is(err, store.ErrExternalRefTaken) {
		t.Fatalf("same ref: %v", err)
	}
	byRef, err := st.ContactGetByRef(ctx, "client-17")
	if err != nil || byRef.ID != c.ID {
		t.Fatalf("by ref: %+v %v", byRef, err)
	}
	if _, err := st.ContactGetByRef(ctx, "client-18"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown ref: %v", err)
	}
	// An inbound message from the same number finds the contact the application created.
	m, _ := inbound(t, st, "default", "+34696247355", "wamid.crud1", time.Now())
	if m.ContactID != c.ID {
		t.Fatalf("inbound made a second contact: %s != %s", m.ContactID, c.ID)
	}
	other, err := st.ContactCreate(ctx, store.ContactNew{Phone: "+34600000002"})
	if err != nil || other.ExternalRef != "" {
		t.Fatalf("create without ref: %+v %v", other, err)
	}
	ref := "client-17"
	if _, err := st.ContactUpdate(ctx, other.ID, store.ContactPatch{ExternalRef: &ref}); !errors.Is(err, store.ErrExternalRefTaken) {
		t.Fatalf("update to a used ref: %v", err)
	}
	name, newRef := "Bea", "client-18"
	up, err := st.ContactUpdate(ctx, other.ID, store.ContactPatch{Name: &name, ExternalRef: &newRef})
	if err != nil || up.Name != "Bea" || up.ExternalRef != "client-18" || up.Phone != "+34600000002" {
		t.Fatalf("update: %+v %v", up, err)
	}
	empty := ""
	if up, err = st.ContactUpdate(ctx, other.ID, store.ContactPatch{ExternalRef: &empty}); err != nil || up.ExternalRef != "" || up.Name != "Bea" {
		t.Fatalf("clear ref: %+v %v", up, err)
	}
	// The cleared reference is free again.
	if _, err := st.ContactUpdate(ctx, c.ID, store.ContactPatch{ExternalRef: &newRef}); err != nil {
		t.Fatalf("reuse cleared ref: %v", err)
	}
	if _, err := st.ContactUpdate(ctx, "no-such-id", store.ContactPatch{Name: &name}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update unknown: %v", err)
	}
}

func testContactSearch(t *testing.T, st *store.Store) {
	ctx := context.Background()
	var carl store.Contact
	for _, c := range []store.ContactNew{
		{Phone: "+34696247355", Name: "Ana García"}, {Phone: "+34600000001", Name: "Bea 100%_real"},
		{Phone: "+4915112345678", Name: "Carl"},
	} {
		var err error
		if carl, err = st.ContactCreate(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	tx(t, st, func(tx store.Tx) error {
		_, err := st.ConversationEnsure(ctx, tx, "sales", carl.ID)
		return err
	})
	names := func(f store.ContactQuery) []string {
		t.Helper()
		var out []string
		for {
			p, err := st.ContactSearch(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range p.Items {
				out = append(out, c.Name)
			}
			if p.Next == "" {
				return out
			}
			f.Cursor = p.Next
		}
	}
	cases := []struct {
		f    store.ContactQuery
		want int
	}{
		{store.ContactQuery{}, 3},
		{store.ContactQuery{Limit: 1}, 3},
		{store.ContactQuery{Q: "ana"}, 1},
		{store.ContactQuery{Q: "GARC"}, 1},
		{store.ContactQuery{Q: "+34 696"}, 1},
		{store.ContactQuery{Q: "346"}, 2},
		{store.ContactQuery{Q: "100%"}, 1},
		{store.ContactQuery{Q: "%"}, 1},
		{store.ContactQuery{Q: "_"}, 1},
		{store.ContactQuery{Q: "zzz"}, 0},
		{store.ContactQuery{Channel: "sales"}, 1},
		{store.ContactQuery{Since: time.Now().Add(time.Hour)}, 0},
		{store.ContactQuery{Until: time.Now().Add(time.Hour)}, 3},
	}
	for _, c := range cases {
		if got := names(c.f); len(got) != c.want {
			t.Errorf("%+v: %v, want %d", c.f, got, c.want)
		}
	}
	if _, err := st.ContactSearch(ctx, store.ContactQuery{Cursor: "!!"}); !errors.Is(err, store.ErrBadCursor) {
		t.Fatalf("bad cursor: %v", err)
	}
}

func testMessageSearch(t *testing.T, st *store.Store) {
	ctx := context.Background()
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	in1, _ := inbound(t, st, "default", "+34696247355", "wamid.q1", base)
	inbound(t, st, "sales", "+34696247355", "wamid.q2", base.Add(time.Minute))
	inbound(t, st, "default", "+34600000001", "wamid.q3", base.Add(2*time.Minute))
	out := outbound(t, st, "default", "+34696247355", "wamid.q4")
	receipt(t, st, "default", "wamid.q4", wa.StatusDelivered, time.Now())
	all := func(f store.MessageQuery) []string {
		t.Helper()
		var ids []string
		for {
			p, err := st.MessageSearch(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range p.Items {
				ids = append(ids, m.ProviderID)
			}
			if p.Next == "" {
				return ids
			}
			f.Cursor = p.Next
		}
	}
	cases := []struct {
		f    store.MessageQuery
		want string
	}{
		{store.MessageQuery{}, "[wamid.q4 wamid.q3 wamid.q2 wamid.q1]"},
		{store.MessageQuery{Limit: 1}, "[wamid.q4 wamid.q3 wamid.q2 wamid.q1]"},
		{store.MessageQuery{Channel: "sales"}, "[wamid.q2]"},
		{store.MessageQuery{Direction: "out"}, "[wamid.q4]"},
		{store.MessageQuery{Status: "delivered"}, "[wamid.q4]"},
		{store.MessageQuery{Status: "received", Limit: 2}, "[wamid.q3 wamid.q2 wamid.q1]"},
		{store.MessageQuery{ContactID: in1.ContactID}, "[wamid.q4 wamid.q2 wamid.q1]"},
		{store.MessageQuery{ConversationID: out.ConversationID}, "[wamid.q4 wamid.q1]"},
		{store.MessageQuery{Since: base.Add(time.Minute), Until: base.Add(2 * time.Minute)}, "[wamid.q2]"},
		{store.MessageQuery{Channel: "none"}, "[]"},
	}
	for _, c := range cases {
		if got := fmtList(all(c.f)); got != c.want {
			t.Errorf("%+v: %s, want %s", c.f, got, c.want)
		}
	}
}

func fmtList(l []string) string {
	s := "["
	for i, v := range l {
		if i > 0 {
			s += " "
		}
		s += v
	}
	return s + "]"
}

func testConversationSearch(t *testing.T, st *store.Store) {
	ctx := context.Background()
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	a, _ := inbound(t, st, "default", "+34696247355", "wamid.c1", base)
	inbound(t, st, "sales", "+34696247355", "wamid.c2", base.Add(time.Minute))
	inbound(t, st, "default", "+34600000001", "wamid.c3", base.Add(2*time.Minute))
	count := func(f store.ConversationQuery) int {
		t.Helper()
		n := 0
		for {
			p, err := st.ConversationSearch(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			n += len(p.Items)
			if p.Next == "" {
				return n
			}
			f.Cursor = p.Next
		}
	}
	cases := []struct {
		f    store.ConversationQuery
		want int
	}{
		{store.ConversationQuery{}, 3},
		{store.ConversationQuery{Limit: 1}, 3},
		{store.ConversationQuery{Channel: "default"}, 2},
		{store.ConversationQuery{ContactID: a.ContactID}, 2},
		{store.ConversationQuery{Since: base.Add(time.Minute)}, 2},
		{store.ConversationQuery{Until: base.Add(time.Minute)}, 1},
		{store.ConversationQuery{Unread: true}, 3},
	}
	for _, c := range cases {
		if got := count(c.f); got != c.want {
			t.Errorf("%+v: %d, want %d", c.f, got, c.want)
		}
	}
}

func testConversationMarkRead(t *testing.T, st *store.Store) {
	ctx := context.Background()
	inbound(t, st, "default", "+34696247355", "wamid.r1", time.Now().Add(-2*time.Minute))
	m, _ := inbound(t, st, "default", "+34696247355", "wamid.r2", time.Now().Add(-time.Minute))
	outbound(t, st, "default", "+34696247355", "wamid.r3")
	c, last, err := st.ConversationMarkRead(ctx, m.ConversationID)
	if err != nil || c.UnreadCount != 0 || last != "wamid.r2" {
		t.Fatalf("mark read: unread %d, last %q, %v", c.UnreadCount, last, err)
	}
	if _, _, err := st.ConversationMarkRead(ctx, "no-such"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	if n := countUnread(t, st); n != 0 {
		t.Fatalf("unread conversations = %d", n)
	}
}

func countUnread(t *testing.T, st *store.Store) int {
	p, err := st.ConversationSearch(context.Background(), store.ConversationQuery{Unread: true})
	if err != nil {
		t.Fatal(err)
	}
	return len(p.Items)
}

func testEventSearch(t *testing.T, st *store.Store) {
	ctx := context.Background()
	old := time.Now().Add(-time.Hour)
	tx(t, st, func(tx store.Tx) error {
		for _, ev := range []*store.Event{
			{Channel: "default", Body: []byte("{}"), ReceivedAt: old},
			{Channel: "sales", Body: []byte("{}")},
			{Channel: "default", Body: []byte("{}")},
		} {
			if err := st.EventInsert(ctx, tx, ev); err != nil {
				return err
			}
		}
		return nil
	})
	cases := []struct {
		f    store.EventQuery
		want int
	}{
		{store.EventQuery{}, 3},
		{store.EventQuery{Channel: "default"}, 2},
		{store.EventQuery{Channel: "default", Since: old.Add(time.Minute)}, 1},
		{store.EventQuery{Until: old.Add(time.Minute)}, 1},
		{store.EventQuery{State: store.EventFailed}, 0},
	}
	for _, c := range cases {
		p, err := st.EventSearch(ctx, c.f)
		if err != nil || len(p.Items) != c.want {
			t.Errorf("%+v: %d %v, want %d", c.f, len(p.Items), err, c.want)
		}
	}
	p, err := st.EventSearch(ctx, store.EventQuery{Limit: 2})
	if err != nil || len(p.Items) != 2 || p.Next == "" {
		t.Fatalf("page 1: %d %q %v", len(p.Items), p.Next, err)
	}
	if p, err = st.EventSearch(ctx, store.EventQuery{Limit: 2, Cursor: p.Next}); err != nil || len(p.Items) != 1 || p.Next != "" {
		t.Fatalf("page 2: %d %q %v", len(p.Items), p.Next, err)
	}
}

func testContactWindows(t *testing.T, st *store.Store) {
	ctx := context.Background()
	at := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	m, _ := inbound(t, st, "default", "+34696247355", "wamid.w1", at)
	outbound(t, st, "sales", "+34696247355", "")
	c, err := st.ContactCreate(ctx, store.ContactNew{Phone: "+34600000009"})
	if err != nil {
		t.Fatal(err)
	}
	ws, err := st.ContactWindows(ctx, []string{m.ContactID, c.ID})
	if err != nil {
		t.Fatal(err)
	}
	got := ws[m.ContactID]
	if len(got) != 2 || got[0].Channel != "default" || !got[0].WindowExpiresAt.Equal(at.Add(24*time.Hour)) ||
		got[1].Channel != "sales" || !got[1].WindowExpiresAt.IsZero() || got[0].LastMessageAt.IsZero() || got[1].LastMessageAt.IsZero() {
		t.Fatalf("windows = %+v", got)
	}
	if len(ws[c.ID]) != 0 {
		t.Fatalf("new contact has windows: %+v", ws[c.ID])
	}
}
