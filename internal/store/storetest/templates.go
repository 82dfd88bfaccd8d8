package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/wa"
)

// testTemplatesAndWindows: a sync replaces a channel's set (and only that channel's), keeps every field, and
// records when it ran; a contact's window comes from their last inbound message's provider time.
func testTemplatesAndWindows(t *testing.T, st *store.Store) {
	ctx := context.Background()
	first := []wa.Template{
		{Name: "order_update", Language: "es", ID: "111", Category: "UTILITY", Status: wa.TemplateApproved,
			ParameterFormat: wa.ParamsPositional, Components: json.RawMessage(`[{"type":"BODY","text":"Hola {{1}}"}]`)},
		{Name: "welcome", Language: "en_US", Status: wa.TemplatePaused, ParameterFormat: wa.ParamsNamed,
			Namespace: "ns_1", RejectedReason: "", Components: json.RawMessage(`[{"type":"BODY","text":"Hi {{first_name}}"}]`)},
	}
	tx(t, st, func(tx store.Tx) error { return st.TemplateReplace(ctx, tx, "a", first) })
	tx(t, st, func(tx store.Tx) error { return st.TemplateReplace(ctx, tx, "b", first[:1]) })
	got, err := st.TemplateList(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "order_update" || got[1].Name != "welcome" {
		t.Fatalf("channel a templates = %+v", got)
	}
	w := got[1]
	if w.Channel != "a" || w.Status != wa.TemplatePaused || w.ParameterFormat != wa.ParamsNamed || w.Namespace != "ns_1" ||
		string(w.Components) != `[{"type":"BODY","text":"Hi {{first_name}}"}]` || w.SyncedAt.IsZero() {
		t.Fatalf("welcome = %+v", w)
	}
	if got[0].ID != "111" || got[0].Category != "UTILITY" {
		t.Fatalf("order_update = %+v", got[0])
	}
	// A second sync without welcome removes it from a, and leaves b alone.
	tx(t, st, func(tx store.Tx) error { return st.TemplateReplace(ctx, tx, "a", first[:1]) })
	all, err := st.TemplateList(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Channel != "a" || all[1].Channel != "b" {
		t.Fatalf("all templates = %+v", all)
	}
	syncs, err := st.TemplateSyncs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(syncs) != 2 || syncs[0].Channel != "a" || syncs[0].Count != 1 || syncs[1].Count != 1 {
		t.Fatalf("syncs = %+v", syncs)
	}

	// Windows.
	none, err := st.WindowFor(ctx, "a", "+34600000001")
	if err != nil || !none.ExpiresAt.IsZero() || none.Open(time.Now()) {
		t.Fatalf("window of an unknown contact = %+v, %v", none, err)
	}
	at := time.Now().Add(-time.Hour).Truncate(time.Millisecond).UTC()
	m, _ := inbound(t, st, "a", "+34600000001", "wamid.win1", at)
	win, err := st.WindowFor(ctx, "a", "+34600000001")
	if err != nil {
		t.Fatal(err)
	}
	if !win.LastInboundAt.Equal(at) || !win.ExpiresAt.Equal(at.Add(24*time.Hour)) || !win.Open(time.Now()) {
		t.Fatalf("window = %+v, want from %v", win, at)
	}
	if win.Open(at.Add(25 * time.Hour)) {
		t.Fatal("window open after 25 h")
	}
	other, err := st.WindowFor(ctx, "b", "+34600000001")
	if err != nil || !other.ExpiresAt.IsZero() {
		t.Fatalf("window on another channel = %+v, %v", other, err)
	}
	byContact, err := st.ContactWindows(ctx, []string{m.ContactID})
	cw := byContact[m.ContactID]
	if err != nil || len(cw) != 1 || cw[0].Channel != "a" || !cw[0].WindowExpiresAt.Equal(win.ExpiresAt) {
		t.Fatalf("contact windows = %+v, %v", cw, err)
	}
}
