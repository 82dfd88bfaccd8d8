package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/wa"
)

// statsTests are the conformance tests of the dashboard's aggregations.
var statsTests = map[string]func(*testing.T, *store.Store){
	"StatsAggregations": testStats,
}

func testStats(t *testing.T, st *store.Store) {
	ctx := context.Background()
	now := time.Now().UTC()
	inbound(t, st, "default", "+34600000001", "wamid.IN1", now.Add(-time.Minute))
	inbound(t, st, "default", "+34600000002", "wamid.IN2", now.Add(-2*time.Minute))
	// An inbound message three days ago lands on its own day.
	inbound(t, st, "default", "+34600000003", "wamid.IN3", now.Add(-72*time.Hour))

	pmp := json.RawMessage(`{"billable":true,"pricing_model":"PMP","category":"utility","type":"regular"}`)
	cbp := json.RawMessage(`{"billable":true,"pricing_model":"CBP","category":"marketing"}`)
	free := json.RawMessage(`{"billable":false,"pricing_model":"PMP","category":"service","type":"free_customer_service"}`)
	conv := json.RawMessage(`{"id":"conv-1","origin":{"type":"marketing"}}`)
	apply := func(pid string, status wa.Status, r wa.Receipt) {
		t.Helper()
		r.MessageID, r.Status, r.Timestamp = pid, status, now
		tx(t, st, func(tx store.Tx) error {
			_, err := st.ReceiptApply(ctx, tx, "default", "ev-stats", r)
			return err
		})
	}
	// Per-message pricing repeated on sent and delivered: one charge.
	outbound(t, st, "default", "+34600000001", "wamid.O1")
	apply("wamid.O1", wa.StatusSent, wa.Receipt{Pricing: pmp})
	apply("wamid.O1", wa.StatusDelivered, wa.Receipt{Pricing: pmp})
	// Two messages of one CBP conversation: one charge.
	outbound(t, st, "default", "+34600000002", "wamid.O2")
	apply("wamid.O2", wa.StatusSent, wa.Receipt{Pricing: cbp, Conversation: conv})
	apply("wamid.O2", wa.StatusRead, wa.Receipt{})
	outbound(t, st, "default", "+34600000002", "wamid.O3")
	apply("wamid.O3", wa.StatusSent, wa.Receipt{Pricing: cbp, Conversation: conv})
	// Not billable.
	outbound(t, st, "default", "+34600000003", "wamid.O4")
	apply("wamid.O4", wa.StatusSent, wa.Receipt{Pricing: free})
	// Two failures with one reason, one with another.
	for _, pid := range []string{"wamid.F1", "wamid.F2", "wamid.F3"} {
		outbound(t, st, "default", "+34600000004", pid)
		code, title := 131026, "Message undeliverable"
		if pid == "wamid.F3" {
			code, title = 131047, "Re-engagement message"
		}
		apply(pid, wa.StatusFailed, wa.Receipt{Errors: []wa.ProviderError{{Code: code, Title: title}}})
	}

	since, until := now.Add(-6*24*time.Hour), now.Add(time.Minute)
	days, err := st.MessageDaily(ctx, since, until)
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 7 {
		t.Fatalf("days: %d entries, want 7: %+v", len(days), days)
	}
	today, threeAgo := days[6], days[3]
	if !today.Day.Equal(now.Truncate(24*time.Hour)) || today.In != 2 || today.Out != 7 || today.OutStatus["failed"] != 3 ||
		today.OutStatus["read"] != 1 {
		t.Fatalf("today: %+v (now %v)", today, now)
	}
	if threeAgo.In != 1 || threeAgo.Out != 0 || days[0].In+days[0].Out != 0 {
		t.Fatalf("earlier days: %+v", days)
	}

	counts, err := st.MessageStatusCounts(ctx, since, until)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"delivered": 1, "read": 1, "sent": 2, "failed": 3}
	for k, v := range want {
		if counts[k] != v {
			t.Fatalf("status counts %v, want %v", counts, want)
		}
	}

	reasons, err := st.MessageFailureReasons(ctx, since, until, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(reasons) != 2 || reasons[0] != (store.FailureReason{Code: 131026, Title: "Message undeliverable", Count: 2}) ||
		reasons[1].Code != 131047 || reasons[1].Count != 1 {
		t.Fatalf("failure reasons: %+v", reasons)
	}

	bills, err := st.BillingCounts(ctx, since, until)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, b := range bills {
		got[b.Category+"/"+b.Model] = b.Count
	}
	if len(got) != 2 || got["utility/PMP"] != 1 || got["marketing/CBP"] != 1 {
		t.Fatalf("billing counts: %+v", bills)
	}

	// A period before everything is empty, with one zero entry per day.
	old := now.Add(-30 * 24 * time.Hour)
	days, err = st.MessageDaily(ctx, old, old.Add(48*time.Hour))
	if err != nil || len(days) != 3 || days[0].In+days[1].Out+days[2].In != 0 {
		t.Fatalf("old days: %+v %v", days, err)
	}
	if bills, err := st.BillingCounts(ctx, old, old.Add(time.Hour)); err != nil || len(bills) != 0 {
		t.Fatalf("old billing: %+v %v", bills, err)
	}
}
