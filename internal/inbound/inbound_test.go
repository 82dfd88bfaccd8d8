package inbound_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/inbound"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/wa"
	"github.com/wagate/wagate/internal/webhook"
)

const textBody = `{"entry":[{"changes":[{"value":{"messages":[{"from":"34696247355","id":"wamid.T1","type":"text","text":{"body":"Hola"}}]}}]}]}`

func statusBody(id, status string, ts int64) []byte {
	return []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"111"},"statuses":[{"id":%q,"status":%q,"timestamp":"%d","recipient_id":"34696247355"}]}}]}]}`, id, status, ts))
}

func TestInbound_ManualTestList(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db string) {
		b := setup(t, db, demoChannels(), false)
		a := b.post(t, "/api/webhooks/whatsapp", []byte(textBody), nil)
		if a.Status != 200 || a.Raw != `{"ok":true,"received":1,"stored":1}`+"\n" {
			t.Fatalf("inbound answer %d %s", a.Status, a.Raw)
		}
		a = b.post(t, "/api/webhooks/whatsapp", []byte(`{"entry":[{"changes":[{"value":{"statuses":[{"id":"wamid.T1","status":"delivered"}]}}]}]}`), nil)
		if a.Status != 200 || a.Raw != `{"ok":true,"statuses":1,"updated":0}`+"\n" {
			t.Fatalf("receipt answer %d %s", a.Status, a.Raw)
		}
		if code, _, _ := b.get(t, "/api/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=x&hub.challenge=C"); code != 403 {
			t.Fatalf("handshake without a verify token = %d, want 403", code)
		}
	})
}

func TestInbound_Handshake(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db string) {
		chans := []*inbound.Channel{{Name: "default", VerifyToken: "tok-a"}, {Name: "b", VerifyToken: "tok-b"}, {Name: "c"}}
		b := setup(t, db, chans, false)
		cases := []struct {
			path string
			want int
			body string
		}{
			{"/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=tok-a&hub.challenge=1158201444", 200, "1158201444"},
			{"/webhooks/whatsapp/b?hub.mode=subscribe&hub.verify_token=tok-b&hub.challenge=xyz", 200, "xyz"},
			{"/api/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=tok-b&hub.challenge=C", 200, "C"},
			{"/webhooks/whatsapp/b?hub.mode=subscribe&hub.verify_token=tok-a&hub.challenge=xyz", 403, ""},
			{"/webhooks/whatsapp/c?hub.mode=subscribe&hub.verify_token=&hub.challenge=xyz", 403, ""},
			{"/webhooks/whatsapp?hub.mode=unsubscribe&hub.verify_token=tok-a&hub.challenge=1", 403, ""},
			{"/webhooks/whatsapp/nope?hub.mode=subscribe&hub.verify_token=tok-a&hub.challenge=1", 403, ""},
			{"/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=tok-a", 200, ""},
		}
		for _, c := range cases {
			code, ctype, body := b.get(t, c.path)
			if code != c.want {
				t.Errorf("GET %s = %d, want %d", c.path, code, c.want)
			}
			if c.want == 200 && (body != c.body || ctype != "text/plain; charset=utf-8") {
				t.Errorf("GET %s body %q type %q", c.path, body, ctype)
			}
		}
	})
}

func TestInbound_Authentication(t *testing.T) {
	t.Parallel()
	chans := []*inbound.Channel{
		{Name: "default", WebhookSecret: "s3cret"},
		{Name: "meta", PhoneNumberID: "222", AppSecret: "app-secret"},
	}
	forEachDB(t, func(t *testing.T, db string) {
		b := setup(t, db, chans, false)
		body := []byte(textBody)
		refused := []struct {
			name   string
			path   string
			header map[string]string
		}{
			{"no secret", "/webhooks/whatsapp/default", nil},
			{"wrong secret", "/webhooks/whatsapp/default", map[string]string{"X-Wagate-Webhook-Secret": "nope"}},
			{"prefix of secret", "/webhooks/whatsapp/default?token=s3cre", nil},
			{"secret of another channel", "/webhooks/whatsapp/meta?token=s3cret", nil},
			{"no signature", "/webhooks/whatsapp/meta", nil},
			{"signature over other bytes", "/webhooks/whatsapp/meta", map[string]string{"X-Hub-Signature-256": webhook.Sign([]byte(textBody+" "), []byte("app-secret"))}},
			{"signature with wrong secret", "/webhooks/whatsapp/meta", map[string]string{"X-Hub-Signature-256": webhook.Sign(body, []byte("other"))}},
			{"malformed signature", "/webhooks/whatsapp/meta", map[string]string{"X-Hub-Signature-256": "sha256=zz"}},
		}
		for _, c := range refused {
			if a := b.post(t, c.path, body, c.header); a.Status != 401 || a.OK {
				t.Errorf("%s: %d %s, want 401", c.name, a.Status, a.Raw)
			}
		}
		if got := b.eventCount(t); got != 0 {
			t.Fatalf("refused requests stored %d events", got)
		}
		accepted := []struct {
			name   string
			path   string
			header map[string]string
		}{
			{"wagate header", "/webhooks/whatsapp/default", map[string]string{"X-Wagate-Webhook-Secret": "s3cret"}},
			{"legacy header", "/webhooks/whatsapp/default", map[string]string{"x-mandato-webhook-secret": "s3cret"}},
			{"token query", "/webhooks/whatsapp/default?token=s3cret", nil},
			{"shared path with secret", "/webhooks/whatsapp?token=s3cret", nil},
			{"signature", "/webhooks/whatsapp/meta", map[string]string{"X-Hub-Signature-256": webhook.Sign(body, []byte("app-secret"))}},
		}
		for _, c := range accepted {
			if a := b.post(t, c.path, body, c.header); a.Status != 200 || !a.OK {
				t.Errorf("%s: %d %s, want 200", c.name, a.Status, a.Raw)
			}
		}
	})
}

func TestInbound_BadInput(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db string) {
		b := setup(t, db, demoChannels(), false)
		ctx := context.Background()
		// Malformed JSON: answered 200 so the provider stops retrying, kept as a failed event with its bytes.
		bad := []byte(`{"entry":[{"changes":[`)
		a := b.post(t, "/webhooks/whatsapp", bad, nil)
		if a.Status != 200 || a.OK || a.Error == "" || a.EventID == "" {
			t.Fatalf("malformed: %d %s", a.Status, a.Raw)
		}
		ev, err := b.st.EventGet(ctx, nil, a.EventID)
		if err != nil || ev.State != store.EventFailed || string(ev.Body) != string(bad) || !strings.Contains(ev.Error, "malformed") {
			t.Fatalf("malformed event = %+v, %v", ev, err)
		}
		// A JSON object of neither shape: the same.
		if a := b.post(t, "/webhooks/whatsapp", []byte(`{"hello":"world"}`), nil); a.Status != 200 || a.OK {
			t.Fatalf("unrecognized: %d %s", a.Status, a.Raw)
		}
		// Empty body: 400, nothing stored.
		before := b.eventCount(t)
		if a := b.post(t, "/webhooks/whatsapp", []byte("  \n"), nil); a.Status != 400 {
			t.Fatalf("empty: %d %s", a.Status, a.Raw)
		}
		// Over the limit (64 KiB in this setup): 413, nothing stored.
		huge := []byte(`{"entry":[],"pad":"` + strings.Repeat("x", 70<<10) + `"}`)
		if a := b.post(t, "/webhooks/whatsapp", huge, nil); a.Status != 413 {
			t.Fatalf("huge: %d %s", a.Status, a.Raw)
		}
		if got := b.eventCount(t); got != before {
			t.Fatalf("400/413 stored events: %d -> %d", before, got)
		}
		// Wrong content type: the body is parsed as JSON whatever the header says.
		a = b.post(t, "/webhooks/whatsapp", []byte(textBody), map[string]string{"Content-Type": "text/plain"})
		if a.Status != 200 || !a.OK || n(a.Stored) != 1 {
			t.Fatalf("text/plain: %d %s", a.Status, a.Raw)
		}
		// Unknown channel in the path: 404.
		if a := b.post(t, "/webhooks/whatsapp/nope", []byte(textBody), nil); a.Status != 404 {
			t.Fatalf("unknown channel: %d %s", a.Status, a.Raw)
		}
	})
}

func TestInbound_RepeatedBodyHasOneEffect(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db string) {
		b := setup(t, db, demoChannels(), false)
		ctx := context.Background()
		var stored []int
		for i := 0; i < 3; i++ {
			stored = append(stored, n(b.post(t, "/webhooks/whatsapp", []byte(textBody), nil).Stored))
		}
		if fmt.Sprint(stored) != "[1 0 0]" {
			t.Fatalf("stored = %v, want [1 0 0]", stored)
		}
		page, err := b.st.ConversationList(ctx, store.ConversationFilter{})
		if err != nil || len(page.Items) != 1 || page.Items[0].UnreadCount != 1 {
			t.Fatalf("conversations = %+v, %v", page.Items, err)
		}
		// Receipts: one transition however often the same receipt arrives.
		m := outbound(t, b.st, "wamid.OUT1")
		var updated []int
		for i := 0; i < 3; i++ {
			updated = append(updated, n(b.post(t, "/webhooks/whatsapp", statusBody("wamid.OUT1", "delivered", 1700000000), nil).Updated))
		}
		if fmt.Sprint(updated) != "[1 0 0]" {
			t.Fatalf("updated = %v, want [1 0 0]", updated)
		}
		got, _ := b.st.MessageGet(ctx, m.ID)
		if got.Status != wa.StatusDelivered || len(got.History) != 3 {
			t.Fatalf("message = %s, history %+v", got.Status, got.History)
		}
	})
}

// outbound records a sent message with a provider id, as the sender will.
func outbound(t *testing.T, st *store.Store, providerID string) store.Message {
	t.Helper()
	ctx := context.Background()
	var m store.Message
	err := st.InTx(ctx, func(tx store.Tx) error {
		c, err := st.ContactResolve(ctx, tx, store.ContactInput{Phone: "+34696247355"})
		if err != nil {
			return err
		}
		conv, err := st.ConversationEnsure(ctx, tx, "default", c.ID)
		if err != nil {
			return err
		}
		m = store.Message{Channel: "default", ConversationID: conv, ContactID: c.ID, Direction: store.DirectionOut, Type: "text", Text: "hi"}
		if _, err := st.MessageInsert(ctx, tx, &m); err != nil {
			return err
		}
		return st.MessageAccepted(ctx, tx, "default", m.ID, providerID, time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestInbound_ReceiptsInEveryOrder(t *testing.T) {
	t.Parallel()
	orders := [][]string{
		{"sent", "delivered", "read"}, {"sent", "read", "delivered"}, {"delivered", "sent", "read"},
		{"delivered", "read", "sent"}, {"read", "sent", "delivered"}, {"read", "delivered", "sent"},
	}
	ts := map[string]int64{"sent": 1700000000, "delivered": 1700000005, "read": 1700000009}
	forEachDB(t, func(t *testing.T, db string) {
		b := setup(t, db, demoChannels(), false)
		ctx := context.Background()
		for i, order := range orders {
			// Half the messages get their receipts before wagate knows the provider id (parked, then applied).
			id := fmt.Sprintf("wamid.ORD%d", i)
			early := i%2 == 1
			var m store.Message
			if !early {
				m = outbound(t, b.st, id)
			}
			for _, s := range order {
				if a := b.post(t, "/webhooks/whatsapp", statusBody(id, s, ts[s]), nil); a.Status != 200 || !a.OK {
					t.Fatalf("receipt: %d %s", a.Status, a.Raw)
				}
			}
			if early {
				m = outbound(t, b.st, id)
			}
			got, err := b.st.MessageGet(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != wa.StatusRead || !got.StatusAt.Equal(time.Unix(ts["read"], 0)) {
				t.Fatalf("order %v (early=%v): status %s at %v", order, early, got.Status, got.StatusAt)
			}
			hist := map[wa.Status]int64{}
			for _, h := range got.History {
				hist[h.Status] = h.ProviderTime.Unix()
			}
			for s, at := range ts {
				if hist[wa.Status(s)] != at {
					t.Fatalf("order %v: history %+v lacks %s at %d", order, got.History, s, at)
				}
			}
		}
		if n, _ := b.st.ParkedCount(ctx); n != 0 {
			t.Fatalf("parked receipts left: %d", n)
		}
	})
}

func TestInbound_FailedReceiptKeepsProviderError(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db string) {
		b := setup(t, db, demoChannels(), false)
		m := outbound(t, b.st, "wamid.FAIL")
		body := []byte(`{"entry":[{"changes":[{"value":{"statuses":[{"id":"wamid.FAIL","status":"failed","timestamp":"1700000001","recipient_id":"34696247355","errors":[{"code":131047,"title":"Re-engagement message","message":"Re-engagement message","error_data":{"details":"Message failed to send because more than 24 hours have passed since the customer last replied to this number."}}]}]}}]}]}`)
		if a := b.post(t, "/webhooks/whatsapp", body, nil); n(a.Updated) != 1 {
			t.Fatalf("failed receipt: %s", a.Raw)
		}
		b.post(t, "/webhooks/whatsapp", statusBody("wamid.FAIL", "delivered", 1700000002), nil)
		got, _ := b.st.MessageGet(context.Background(), m.ID)
		if got.Status != wa.StatusFailed || got.ErrorCode != 131047 || got.ErrorTitle != "Re-engagement message" || !strings.Contains(got.ErrorDetail, "24 hours") {
			t.Fatalf("failed message = %+v", got)
		}
	})
}

// TestInbound_EveryFixture posts every real-shaped body of the parser's test data: each is answered 200 and
// stored; every inbound message in them becomes exactly one message, and nothing is answered with an error.
func TestInbound_EveryFixture(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../webhook/testdata/*.json")
	if err != nil || len(files) < 20 {
		t.Fatalf("fixtures: %v (%d files)", err, len(files))
	}
	forEachDB(t, func(t *testing.T, db string) {
		b := setup(t, db, demoChannels(), false)
		ctx := context.Background()
		wantMessages := map[string]bool{}
		for _, f := range files {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			hook, err := webhook.Parse(body)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			received := 0
			for _, c := range hook.Changes {
				for _, m := range c.Messages {
					if m.ID != "" {
						wantMessages[m.ID] = true
					}
				}
				received += len(c.Messages)
			}
			// On-Premise bodies carry no phone_number_id; the demo channel takes them on the shared path.
			a := b.post(t, "/webhooks/whatsapp/default", body, nil)
			if a.Status != 200 || !a.OK {
				t.Fatalf("%s: %d %s", filepath.Base(f), a.Status, a.Raw)
			}
			if received > 0 && n(a.Received) != received {
				t.Fatalf("%s: received %d, want %d", filepath.Base(f), n(a.Received), received)
			}
			ev, err := b.st.EventGet(ctx, nil, a.EventID)
			if err != nil || ev.State != store.EventProcessed || string(ev.Body) != string(body) {
				t.Fatalf("%s: event %+v, %v", filepath.Base(f), ev.State, err)
			}
		}
		for id := range wantMessages {
			m, err := b.st.MessageGetByProviderID(ctx, "default", id)
			if err != nil {
				t.Fatalf("message %s: %v", id, err)
			}
			if len(m.Raw) == 0 || m.Type == "" {
				t.Fatalf("message %s lacks raw or type: %+v", id, m)
			}
		}
		notices, err := b.st.NoticeList(ctx, store.NoticeFilter{Kind: "template"})
		if err != nil || len(notices.Items) == 0 {
			t.Fatalf("template updates were not kept: %v", err)
		}
	})
}

func TestInbound_RoutingByPhoneNumberID(t *testing.T) {
	t.Parallel()
	chans := []*inbound.Channel{
		{Name: "sales", PhoneNumberID: "111", AppSecret: "app"},
		{Name: "support", PhoneNumberID: "222", AppSecret: "app"},
	}
	forEachDB(t, func(t *testing.T, db string) {
		b := setup(t, db, chans, false)
		ctx := context.Background()
		body := func(pnid, wamid string) []byte {
			return []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"9","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"1555","phone_number_id":%q},"contacts":[{"profile":{"name":"Ana"},"wa_id":"34696247355"}],"messages":[{"from":"34696247355","id":%q,"timestamp":"1700000000","type":"text","text":{"body":"hi"}}]}}]}]}`, pnid, wamid))
		}
		sign := func(b []byte) map[string]string {
			return map[string]string{"X-Hub-Signature-256": webhook.Sign(b, []byte("app"))}
		}
		for _, c := range []struct{ pnid, wamid, channel string }{{"111", "wamid.S", "sales"}, {"222", "wamid.P", "support"}} {
			bd := body(c.pnid, c.wamid)
			if a := b.post(t, "/webhooks/whatsapp", bd, sign(bd)); n(a.Stored) != 1 {
				t.Fatalf("%s: %s", c.channel, a.Raw)
			}
			if _, err := b.st.MessageGetByProviderID(ctx, c.channel, c.wamid); err != nil {
				t.Fatalf("%s not routed to %s: %v", c.wamid, c.channel, err)
			}
		}
		bd := body("333", "wamid.X")
		a := b.post(t, "/webhooks/whatsapp", bd, sign(bd))
		if a.Status != 200 || a.OK || !strings.Contains(a.Error, "phone_number_id 333") {
			t.Fatalf("unknown phone number id: %d %s", a.Status, a.Raw)
		}
		// The contact named by profile.
		page, _ := b.st.ConversationList(ctx, store.ConversationFilter{Channel: "sales"})
		if len(page.Items) != 1 || page.Items[0].Contact.Name != "Ana" {
			t.Fatalf("sales conversations = %+v", page.Items)
		}
	})
}

func TestInbound_OnPremiseShapeOnChannelPath(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db string) {
		chans := []*inbound.Channel{{Name: "default"}, {Name: "legacy", WebhookSecret: "k"}}
		b := setup(t, db, chans, false)
		body := []byte(`{"contacts":[{"profile":{"name":"Luis"},"wa_id":"5215512345678"}],"messages":[{"from":"5215512345678","id":"ABGGFlA5Fpa","timestamp":"1700000000","type":"voice","voice":{"id":"m1","mime_type":"audio/ogg; codecs=opus","sha256":"abc"}}]}`)
		a := b.post(t, "/webhooks/whatsapp/legacy", body, map[string]string{"X-Wagate-Webhook-Secret": "k"})
		if n(a.Stored) != 1 {
			t.Fatalf("on-premise: %s", a.Raw)
		}
		m, err := b.st.MessageGetByProviderID(context.Background(), "legacy", "ABGGFlA5Fpa")
		if err != nil || m.MediaID != "m1" || m.MediaStatus != store.MediaPending {
			t.Fatalf("voice message = %+v, %v", m, err)
		}
		c, err := b.st.ContactGet(context.Background(), m.ContactID)
		if err != nil || c.Phone != "+5215512345678" || c.Name != "Luis" {
			t.Fatalf("contact = %+v, %v", c, err)
		}
	})
}

func TestInbound_UserWithoutPhoneIsAContact(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db string) {
		b := setup(t, db, demoChannels(), false)
		body, err := os.ReadFile("../webhook/testdata/cloud_bsuid.json")
		if err != nil {
			t.Fatal(err)
		}
		hook, _ := webhook.Parse(body)
		a := b.post(t, "/webhooks/whatsapp", body, nil)
		if a.Status != 200 || !a.OK || n(a.Stored) < 1 {
			t.Fatalf("bsuid: %s", a.Raw)
		}
		m, err := b.st.MessageGetByProviderID(context.Background(), "default", hook.Changes[0].Messages[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := b.st.ContactGet(context.Background(), m.ContactID)
		if c.UserID == "" {
			t.Fatalf("contact without user id: %+v", c)
		}
	})
}

// TestInbound_ProcessingDeferredToQueue breaks processing (a table is missing) and checks that the webhook is
// still stored and answered 200 with queued:true, and that the job queue processes it once the database is
// whole again.
func TestInbound_ProcessingDeferredToQueue(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db string) {
		b := setup(t, db, demoChannels(), false)
		ctx := context.Background()
		exec := func(q string) {
			if err := b.st.InTx(ctx, func(tx store.Tx) error { _, err := tx.Exec(ctx, q); return err }); err != nil {
				t.Fatal(err)
			}
		}
		exec("ALTER TABLE notices RENAME TO notices_away")
		body := []byte(`{"entry":[{"changes":[{"value":{"errors":[{"code":130429,"title":"Rate limit hit"}]}}]}]}`)
		a := b.post(t, "/webhooks/whatsapp", body, nil)
		if a.Status != 200 || !a.OK || !a.Queued {
			t.Fatalf("deferred: %d %s", a.Status, a.Raw)
		}
		ev, _ := b.st.EventGet(ctx, nil, a.EventID)
		if ev.State != store.EventPending || !strings.Contains(ev.Error, "deferred") {
			t.Fatalf("event = %+v", ev)
		}
		exec("ALTER TABLE notices_away RENAME TO notices")
		done, cancel := b.q.Subscribe("job_completed")
		defer cancel()
		if err := b.q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("the queue did not process the event")
		}
		ev, _ = b.st.EventGet(ctx, nil, a.EventID)
		notices, _ := b.st.NoticeList(ctx, store.NoticeFilter{Kind: "error"})
		if ev.State != store.EventProcessed || len(notices.Items) != 1 || notices.Items[0].Code != 130429 {
			t.Fatalf("after the queue: event %s, notices %+v", ev.State, notices.Items)
		}
	})
}

func TestInbound_ReplayFailedEvent(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db string) {
		b := setup(t, db, []*inbound.Channel{{Name: "default", PhoneNumberID: "111"}}, false)
		ctx := context.Background()
		body := statusBody("wamid.R", "sent", 1700000000)
		body = []byte(strings.Replace(string(body), `"111"`, `"999"`, 1))
		a := b.post(t, "/webhooks/whatsapp", body, nil)
		if a.OK {
			t.Fatalf("unroutable body accepted as ok: %s", a.Raw)
		}
		// The operator adds the missing channel and replays the event.
		proc := inbound.NewProcessor(b.st, []*inbound.Channel{{Name: "default", PhoneNumberID: "111"}, {Name: "new", PhoneNumberID: "999"}})
		// The request was authenticated for the open channels that existed when it arrived: "new" was not one, so
		// the replay names that clearly instead of guessing.
		ev, err := inbound.Replay(ctx, b.st, proc, a.EventID)
		if err != nil || ev.State != store.EventFailed || !strings.Contains(ev.Error, `not authenticated for channel "new"`) {
			t.Fatalf("replay = %+v, %v", ev, err)
		}
		if _, err := inbound.Replay(ctx, b.st, proc, "missing"); err == nil {
			t.Fatal("replay of a missing event must fail")
		}
		raw, _ := json.Marshal(ev.Counts)
		t.Logf("replayed counts %s", raw)
	})
}

// TestInbound_ProfileChangeUpdatesContact: a known sender whose profile name changed is not served from the
// processor's memory of senders: the contact gets the new name.
func TestInbound_ProfileChangeUpdatesContact(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db string) {
		b := setup(t, db, demoChannels(), false)
		body := func(name, wamid string) []byte {
			return []byte(fmt.Sprintf(`{"entry":[{"changes":[{"value":{"contacts":[{"profile":{"name":%q},"wa_id":"34696247355"}],"messages":[{"from":"34696247355","id":%q,"type":"text","text":{"body":"hi"}}]}}]}]}`, name, wamid))
		}
		for i, name := range []string{"Ana", "Ana", "Ana María"} {
			if a := b.post(t, "/webhooks/whatsapp", body(name, fmt.Sprintf("wamid.P%d", i)), nil); n(a.Stored) != 1 {
				t.Fatalf("post %d: %s", i, a.Raw)
			}
		}
		c, err := b.st.ContactGetByPhone(context.Background(), "+34696247355")
		if err != nil || c.Name != "Ana María" {
			t.Fatalf("contact = %+v, %v", c, err)
		}
		page, _ := b.st.ConversationList(context.Background(), store.ConversationFilter{})
		if len(page.Items) != 1 || page.Items[0].UnreadCount != 3 {
			t.Fatalf("conversations = %+v", page.Items)
		}
	})
}
