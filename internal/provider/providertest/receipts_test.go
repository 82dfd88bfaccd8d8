package providertest

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/wa"
	"github.com/wagate/wagate/internal/webhook"
)

func TestReceipts_PostedSignedInTheKindsShape(t *testing.T) {
	t.Parallel()
	for _, k := range allKinds {
		t.Run(string(k), func(t *testing.T) {
			t.Parallel()
			b := setup(t, k, func(o *Options) { o.ReceiptDelay = 5 * time.Millisecond })
			id := b.sendOK(t, "Hello")
			if err := b.fake.WaitPosted(ctxTimeout(t), 3); err != nil {
				t.Fatal(err)
			}
			b.recv.checkNoProblems(t)
			rs, cs, shapes := b.recv.receipts()
			if len(rs) != 3 {
				t.Fatalf("got %d receipts, want 3", len(rs))
			}
			want := []wa.Status{"sent", "delivered", "read"}
			wantShape := wa.ShapeCloud
			if !k.cloud() {
				wantShape = wa.ShapeOnPremise
			}
			for i, r := range rs {
				if r.MessageID != id || r.Status != want[i] || r.RecipientID != testWAID || r.Timestamp.IsZero() {
					t.Errorf("receipt %d: %+v", i, r)
				}
				if shapes[i] != wantShape {
					t.Errorf("receipt %d shape %s, want %s", i, shapes[i], wantShape)
				}
				if k.cloud() && (cs[i].PhoneNumberID != DefaultPhoneNumberID || cs[i].WABAID != DefaultWABAID ||
					cs[i].DisplayPhoneNumber != "15550001111") {
					t.Errorf("receipt %d metadata: %+v", i, cs[i])
				}
				if !k.cloud() && cs[i].PhoneNumberID != "" {
					t.Errorf("On-Premise receipt carries a phone number id")
				}
			}
			if len(rs[0].Conversation) == 0 || len(rs[0].Pricing) == 0 {
				t.Errorf("sent receipt without conversation/pricing: %s", rs[0].Raw)
			}
			var conv struct {
				Expiration any `json:"expiration_timestamp"`
			}
			if err := json.Unmarshal(rs[0].Conversation, &conv); err != nil || conv.Expiration == nil {
				t.Errorf("sent receipt conversation without expiration_timestamp: %s", rs[0].Conversation)
			}
			if len(rs[2].Conversation) != 0 || len(rs[2].Pricing) != 0 {
				t.Errorf("read receipt carries conversation/pricing: %s", rs[2].Raw)
			}
			posted := b.fake.Posted()
			if len(posted) != 3 || posted[0].Receipt != "sent" || posted[0].MessageID != id || posted[0].Status != 200 ||
				posted[0].Attempt != 1 {
				t.Errorf("Posted() = %+v", posted)
			}
			if k == KindMeta {
				if err := webhook.VerifySignature(posted[0].Body, posted[0].Header.Get(webhook.SignatureHeader),
					[]byte(testAppSecret)); err != nil {
					t.Errorf("recorded signature: %v", err)
				}
				if posted[0].Header.Get("X-Wagate-Webhook-Secret") != "" {
					t.Error("Meta post carries a secret header")
				}
			}
		})
	}
}

func TestReceipts_RetriedUntilAnswered200(t *testing.T) {
	t.Parallel()
	b := setup(t, Kind360Dialog, func(o *Options) { o.Receipts = []string{"sent"} })
	b.recv.failFirst = 2
	id := b.sendOK(t, "x")
	if err := b.fake.WaitPosted(ctxTimeout(t), 1); err != nil {
		t.Fatal(err)
	}
	posted := b.fake.Posted()
	if len(posted) != 3 {
		t.Fatalf("%d attempts, want 3: %+v", len(posted), posted)
	}
	for i, p := range posted {
		want := 500
		if i == 2 {
			want = 200
		}
		if p.Attempt != i+1 || p.Status != want || p.MessageID != id {
			t.Errorf("attempt %d: %+v", i, p)
		}
	}
	if rs, _, _ := b.recv.receipts(); len(rs) != 1 || rs[0].Status != "sent" {
		t.Errorf("receipts %+v", rs)
	}
}

func TestReceipts_FailedCarriesErrors(t *testing.T) {
	t.Parallel()
	for _, k := range allKinds {
		t.Run(string(k), func(t *testing.T) {
			t.Parallel()
			b := setup(t, k, func(o *Options) { o.Receipts = []string{"sent", "failed"} })
			b.sendOK(t, "x")
			if err := b.fake.WaitPosted(ctxTimeout(t), 2); err != nil {
				t.Fatal(err)
			}
			rs, _, _ := b.recv.receipts()
			want := 131026
			if !k.cloud() {
				want = 1013
			}
			if len(rs) != 2 || rs[1].Status != "failed" || len(rs[1].Errors) != 1 || rs[1].Errors[0].Code != want {
				t.Errorf("failed receipt: %+v", rs)
			}
		})
	}
}

func TestReceipts_NoneWithoutWebhookOrWhenEmpty(t *testing.T) {
	t.Parallel()
	b := setup(t, KindMeta, func(o *Options) { o.WebhookURL = "" })
	b.sendOK(t, "x")
	if _, err := b.fake.PostWebhook(ctxTimeout(t), []byte(`{}`)); err == nil {
		t.Error("PostWebhook without a URL succeeded")
	}
	c := setup(t, KindMeta, func(o *Options) { o.Receipts = []string{} })
	c.sendOK(t, "x")
	b.fake.Close()
	c.fake.Close() // waits for posters
	if len(b.fake.Posted())+len(c.fake.Posted()) != 0 {
		t.Error("receipts were posted")
	}
}

func TestReceipts_FollowTheRegisteredWebhook(t *testing.T) {
	t.Parallel()
	b := setup(t, Kind360DialogOnPremise, func(o *Options) { o.Receipts = []string{"delivered"} })
	other := newReceiver(t, Kind360DialogOnPremise)
	other.secret = "new-secret"
	body, _ := json.Marshal(map[string]any{"url": other.srv.URL + "/hook",
		"headers": map[string]string{"X-Wagate-Webhook-Secret": "new-secret"}})
	if r := call(t, http.MethodPost, b.fake.URL()+"/v1/configs/webhook", auth(b.kind), body); r.status != 200 {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	b.sendOK(t, "x")
	if err := b.fake.WaitPosted(ctxTimeout(t), 1); err != nil {
		t.Fatal(err)
	}
	other.checkNoProblems(t)
	if rs, _, _ := other.receipts(); len(rs) != 1 {
		t.Errorf("new receiver got %d receipts", len(rs))
	}
	if rs, _, _ := b.recv.receipts(); len(rs) != 0 {
		t.Errorf("old receiver got %d receipts", len(rs))
	}
}

func TestMeta_UnsubscribedAppGetsNoWebhooks(t *testing.T) {
	t.Parallel()
	b := setup(t, KindMeta, nil)
	subs := b.fake.URL() + "/v21.0/" + DefaultWABAID + "/subscribed_apps"
	if r := call(t, http.MethodDelete, subs, auth(KindMeta), nil); r.status != 200 {
		t.Fatalf("unsubscribe: %d", r.status)
	}
	if _, err := b.fake.PostInbound(ctxTimeout(t), testWAID, "hi"); err == nil {
		t.Error("posted to an unsubscribed app")
	}
	if r := call(t, http.MethodGet, subs, auth(KindMeta), nil); len(get(r.json(t), "data").([]any)) != 0 {
		t.Errorf("subscribed_apps after DELETE: %s", r.body)
	}
}
