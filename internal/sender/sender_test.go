package sender_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/provider/providertest"
	"github.com/wagate/wagate/internal/server/servertest"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/wa"
)

// stack is wagate (the real server) talking to a fake provider that posts receipts back to it.
type stack struct {
	inst *servertest.Instance
	fake *providertest.Server
}

func setupB(b *testing.B, db string) *stack {
	b.Helper()
	ln := servertest.Listen(b)
	fake := providertest.New(b, providertest.Options{Kind: providertest.Kind360Dialog, APIKey: "k", Receipts: []string{}, History: 100})
	// The send queue's throughput is measured over 50,000 synthetic recipients who never wrote: the window
	// check (one indexed read per send) is off here and measured on its own in make bench.
	env := map[string]string{"WAGATE_RATE_PER_SECOND": "0", "WAGATE_PROVIDER": "360dialog", "WHATSAPP_API_KEY": "k", "WAGATE_API_OPEN": "true",
		"WAGATE_PROVIDER_BASE_URL": fake.URL(), "WAGATE_WINDOW_CHECK": "false"}
	return &stack{inst: servertest.Start(b, ln, db, env), fake: fake}
}

func (s *stack) post(b testing.TB, body any) {
	raw, _ := json.Marshal(body)
	resp, err := http.Post(s.inst.URL+"/v1/messages", "application/json", bytes.NewReader(raw))
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 202 {
		b.Fatalf("send: %d", resp.StatusCode)
	}
}

func setup(t *testing.T, db string, kind providertest.Kind, extra map[string]string, mod func(*providertest.Options)) *stack {
	t.Helper()
	ln := servertest.Listen(t)
	opts := providertest.Options{Kind: kind, APIKey: "d360-key", AccessToken: "meta-token",
		WebhookURL: "http://" + ln.Addr().String() + "/webhooks/whatsapp/default", ReceiptDelay: 5 * time.Millisecond}
	env := map[string]string{"WAGATE_RATE_PER_SECOND": "0", "WAGATE_SEND_MAX_BACKOFF": "2s", "WAGATE_API_OPEN": "true"}
	switch kind {
	case providertest.KindMeta:
		opts.AppSecret = "app-secret"
		env["WAGATE_PROVIDER"], env["WHATSAPP_ACCESS_TOKEN"], env["WHATSAPP_APP_SECRET"] = "meta", "meta-token", "app-secret"
		env["WHATSAPP_PHONE_NUMBER_ID"] = providertest.DefaultPhoneNumberID
		env["WAGATE_WABA_ID"] = providertest.DefaultWABAID
	case providertest.Kind360Dialog, providertest.Kind360DialogOnPremise:
		opts.WebhookSecret = "hook-secret"
		env["WAGATE_PROVIDER"], env["WHATSAPP_API_KEY"], env["WHATSAPP_WEBHOOK_SECRET"] = string(kind), "d360-key", "hook-secret"
	}
	if mod != nil {
		mod(&opts)
	}
	fake := providertest.New(t, opts)
	env["WAGATE_PROVIDER_BASE_URL"] = fake.URL()
	for k, v := range extra {
		env[k] = v
	}
	st := &stack{inst: servertest.Start(t, ln, db, env), fake: fake}
	// The contact writes first, so that free-form replies are inside the 24-hour window.
	st.openWindow(t, "+34696247355")
	return st
}

// openWindow has the fake provider post an inbound message from phone and waits until wagate has recorded it.
func (s *stack) openWindow(t *testing.T, phone string) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.fake.PostInbound(ctx, phone, "Hola"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the window to open", func() bool {
		w, err := s.inst.Store.WindowFor(ctx, "default", phone)
		return err == nil && w.Open(time.Now())
	})
}

type answer struct {
	Status int
	Body   map[string]any
	Raw    string
}

func (s *stack) do(t *testing.T, method, path string, body any, header map[string]string) answer {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.inst.URL+path, r)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{Status: resp.StatusCode, Raw: string(raw)}
	_ = json.Unmarshal(raw, &a.Body)
	return a
}

func (a answer) str(k string) string {
	v, _ := a.Body[k].(string)
	return v
}

func (a answer) errCode() string {
	e, _ := a.Body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

// eventually polls cond until it holds or 20 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *stack) message(t *testing.T, id string) store.Message {
	t.Helper()
	m, err := s.inst.Store.MessageGet(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func text(to, body string) map[string]any {
	return map[string]any{"messaging_product": "whatsapp", "to": to, "type": "text", "text": map[string]any{"body": body}}
}

// TestSend_Lifecycle sends through each provider protocol and follows the message to read: the provider's
// receipts come back through the signed (or secret-carrying) webhook and move the message forward.
func TestSend_Lifecycle(t *testing.T) {
	t.Parallel()
	cases := []struct {
		db   string
		kind providertest.Kind
	}{
		{"sqlite", providertest.KindMeta}, {"sqlite", providertest.Kind360Dialog}, {"sqlite", providertest.Kind360DialogOnPremise},
		{"postgres", providertest.KindMeta}, {"postgres", providertest.Kind360Dialog},
	}
	for _, c := range cases {
		t.Run(c.db+"/"+string(c.kind), func(t *testing.T) {
			t.Parallel()
			s := setup(t, c.db, c.kind, nil, nil)
			a := s.do(t, "POST", "/v1/messages?wait=true", text("+34 696 24 73 55", "Hola"), nil)
			if a.Status != 200 || a.str("status") == "queued" || a.str("provider_id") == "" {
				t.Fatalf("send: %d %s", a.Status, a.Raw)
			}
			sent := s.fake.Sent()
			if len(sent) != 1 || sent[0].To != "34696247355" || sent[0].ID != a.str("provider_id") {
				t.Fatalf("fake saw %+v", sent)
			}
			id := a.str("id")
			eventually(t, "read receipt", func() bool { return s.message(t, id).Status == wa.StatusRead })
			// Every receipt is in the history once, whatever order the provider's webhooks raced the send
			// result in (a receipt that arrives first is parked, then applied).
			var hist []string
			for _, h := range s.message(t, id).History {
				hist = append(hist, string(h.Status))
			}
			sort.Strings(hist)
			if strings.Join(hist, ",") != "accepted,delivered,queued,read,sent" {
				t.Fatalf("history = %v", hist)
			}
		})
	}
}

func TestSend_PermanentErrorExplains(t *testing.T) {
	t.Parallel()
	s := setup(t, "sqlite", providertest.KindMeta, nil, nil)
	s.fake.FailNext(providertest.EndpointSend, 1, providertest.Fault{Status: 400, Code: 131047, Title: "Re-engagement message",
		Details: "Message failed to send because more than 24 hours have passed since the customer last replied to this number."})
	a := s.do(t, "POST", "/v1/messages?wait=true", text("+34696247355", "late"), nil)
	e, _ := a.Body["error"].(map[string]any)
	if a.Status != 422 || a.errCode() != "window_closed" || e["provider_code"] != float64(131047) || e["fix"] == "" {
		t.Fatalf("window: %d %s", a.Status, a.Raw)
	}
	msg, _ := a.Body["message"].(map[string]any)
	m := s.message(t, msg["id"].(string))
	if m.Status != wa.StatusFailed || m.ErrorClass != "window" || !strings.Contains(m.ErrorDetail, "24 hours") {
		t.Fatalf("failed message = %+v", m)
	}
	if n := s.fake.SentCount(); n != 0 {
		t.Fatalf("fake accepted %d", n)
	}
}

// TestSend_ProviderDownThenRecovers: the provider answers 503 for a while; every accepted message is sent
// exactly once after it recovers, none is lost or doubled.
func TestSend_ProviderDownThenRecovers(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			s := setup(t, db, providertest.Kind360Dialog, nil, nil)
			s.fake.Fail(providertest.EndpointSend, providertest.Fault{Status: 503})
			const n = 20
			ids := map[string]bool{}
			for i := 0; i < n; i++ {
				a := s.do(t, "POST", "/v1/messages", text("+34696247355", fmt.Sprintf("msg %d", i)), nil)
				if a.Status != 202 {
					t.Fatalf("accept: %d %s", a.Status, a.Raw)
				}
				ids[a.str("id")] = true
			}
			time.Sleep(3 * time.Second)
			for id := range ids {
				if m := s.message(t, id); m.Status != wa.StatusQueued || m.Attempts == 0 {
					t.Fatalf("during the outage %s is %s after %d attempts", id, m.Status, m.Attempts)
				}
			}
			s.fake.Clear()
			eventually(t, "all sent", func() bool { return s.fake.SentCount() >= n })
			time.Sleep(500 * time.Millisecond)
			bodies := map[string]int{}
			for _, sent := range s.fake.Sent() {
				var b struct{ Text struct{ Body string } }
				_ = json.Unmarshal(sent.Body, &b)
				bodies[b.Text.Body]++
			}
			for i := 0; i < n; i++ {
				if c := bodies[fmt.Sprintf("msg %d", i)]; c != 1 {
					t.Fatalf("msg %d sent %d times", i, c)
				}
			}
			for id := range ids {
				eventually(t, "accepted", func() bool { return s.message(t, id).Status != wa.StatusQueued })
			}
		})
	}
}

func TestSend_ThrottledChannelPausesThenSends(t *testing.T) {
	t.Parallel()
	s := setup(t, "sqlite", providertest.KindMeta, nil, nil)
	s.fake.FailNext(providertest.EndpointSend, 2, providertest.Fault{Status: 400, Code: 130429, Title: "Rate limit hit"})
	a := s.do(t, "POST", "/v1/messages", text("+34696247355", "soon"), nil)
	eventually(t, "accepted after throttling", func() bool { return s.message(t, a.str("id")).Status != wa.StatusQueued })
	m := s.message(t, a.str("id"))
	if m.Status == wa.StatusFailed || m.Attempts != 2 || s.fake.SentCount() != 1 {
		t.Fatalf("after throttling: %s, attempts %d, sent %d", m.Status, m.Attempts, s.fake.SentCount())
	}
}

// TestSend_PairRatePausesOnlyThatRecipient: one recipient is throttled (131056); others keep flowing.
func TestSend_PairRatePausesOnlyThatRecipient(t *testing.T) {
	t.Parallel()
	s := setup(t, "sqlite", providertest.KindMeta, nil, nil)
	s.fake.Fail(providertest.EndpointSend, providertest.Fault{Status: 400, Code: 131056, Title: "pair rate limit hit", To: "34696247355"})
	slow := s.do(t, "POST", "/v1/messages", text("+34696247355", "to the busy one"), nil)
	var others []string
	for i := 0; i < 5; i++ {
		s.openWindow(t, fmt.Sprintf("+3469624800%d", i))
	}
	for i := 0; i < 5; i++ {
		others = append(others, s.do(t, "POST", "/v1/messages", text(fmt.Sprintf("+3469624800%d", i), "hi"), nil).str("id"))
	}
	for _, id := range others {
		eventually(t, "other recipients", func() bool { return s.message(t, id).Status != wa.StatusQueued })
	}
	if m := s.message(t, slow.str("id")); m.Status != wa.StatusQueued || m.ErrorClass != "pair_rate" {
		t.Fatalf("throttled recipient: %s class %q", m.Status, m.ErrorClass)
	}
	s.fake.Clear()
	eventually(t, "throttled recipient after the pause", func() bool { return s.message(t, slow.str("id")).Status != wa.StatusQueued })
}

func TestSend_IdempotencyKey(t *testing.T) {
	t.Parallel()
	s := setup(t, "sqlite", providertest.Kind360Dialog, nil, nil)
	h := map[string]string{"Idempotency-Key": "order-42"}
	a := s.do(t, "POST", "/v1/messages?wait=true", text("+34696247355", "once"), h)
	b := s.do(t, "POST", "/v1/messages?wait=true", text("+34696247355", "once"), h)
	if a.str("id") == "" || a.str("id") != b.str("id") || b.Body["duplicate"] != true {
		t.Fatalf("same key: %s / %s", a.Raw, b.Raw)
	}
	if c := s.do(t, "POST", "/v1/messages", text("+34696247355", "other"), h); c.Status != 409 || c.errCode() != "idempotency_conflict" {
		t.Fatalf("other body, same key: %d %s", c.Status, c.Raw)
	}
	time.Sleep(200 * time.Millisecond)
	if n := s.fake.SentCount(); n != 1 {
		t.Fatalf("sent %d times", n)
	}
}

func TestSend_ValidationNamesTheField(t *testing.T) {
	t.Parallel()
	s := setup(t, "sqlite", providertest.KindMeta, nil, nil)
	cases := []struct {
		body  any
		field string
	}{
		{text("12", "hi"), "to"},
		{text("+34696247355", strings.Repeat("a", 4097)), "text.body"},
		{map[string]any{"to": "+34696247355", "type": "image", "image": map[string]any{"link": "https://example.com/a.jpg", "caption": strings.Repeat("c", 1025)}}, "image.caption"},
	}
	for _, c := range cases {
		a := s.do(t, "POST", "/v1/messages", c.body, nil)
		if a.Status != 422 || a.errCode() != "validation_failed" || !strings.Contains(a.Raw, `"field":"`+c.field) {
			t.Errorf("%s: %d %s", c.field, a.Status, a.Raw)
		}
	}
	if a := s.do(t, "POST", "/v1/messages", map[string]any{"to": "+34696247355", "type": "image", "image": map[string]any{"file": "f1"}}, nil); a.Status != 422 || !strings.Contains(a.Raw, "POST /v1/media") {
		t.Errorf("stored file: %d %s", a.Status, a.Raw)
	}
	if a := s.do(t, "POST", "/v1/messages", map[string]any{"channel": "nope", "to": "+34696247355", "text": "hi"}, nil); a.errCode() != "unknown_channel" {
		t.Errorf("unknown channel: %s", a.Raw)
	}
	if s.fake.SentCount() != 0 {
		t.Fatal("an invalid message reached the provider")
	}
}

func TestSend_RetryReallySendsAgain(t *testing.T) {
	t.Parallel()
	s := setup(t, "sqlite", providertest.KindMeta, nil, nil)
	s.fake.FailNext(providertest.EndpointSend, 1, providertest.Fault{Status: 400, Code: 131026, Title: "Message undeliverable"})
	a := s.do(t, "POST", "/v1/messages?wait=true", text("+34696247355", "again"), nil)
	msg, _ := a.Body["message"].(map[string]any)
	id, _ := msg["id"].(string)
	if a.Status != 422 || id == "" {
		t.Fatalf("first: %d %s", a.Status, a.Raw)
	}
	r := s.do(t, "POST", "/v1/messages/"+id+"/retry", nil, nil)
	if r.Status != 202 || r.str("retry_of") != id {
		t.Fatalf("retry: %d %s", r.Status, r.Raw)
	}
	eventually(t, "retried message accepted", func() bool { return s.message(t, r.str("id")).Status != wa.StatusQueued })
	if s.fake.SentCount() != 1 || s.message(t, id).Status != wa.StatusFailed {
		t.Fatalf("after retry: sent %d", s.fake.SentCount())
	}
	if x := s.do(t, "POST", "/v1/messages/"+r.str("id")+"/retry", nil, nil); x.Status != 409 || x.errCode() != "not_retryable" {
		t.Fatalf("retry of a good message: %d %s", x.Status, x.Raw)
	}
}

func TestSend_MarkRead(t *testing.T) {
	t.Parallel()
	s := setup(t, "sqlite", providertest.KindMeta, nil, nil)
	s.fake.AddInbound("wamid.IN1")
	a := s.do(t, "POST", "/v1/messages", map[string]any{"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN1"}, nil)
	if a.Status != 202 {
		t.Fatalf("mark read: %d %s", a.Status, a.Raw)
	}
	eventually(t, "read mark at the provider", func() bool { return len(s.fake.Reads()) == 1 })
}

func TestSend_UploadThenSendMedia(t *testing.T) {
	t.Parallel()
	s := setup(t, "sqlite", providertest.Kind360Dialog, nil, nil)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "photo.png")
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 100)...)
	fw.Write(png)
	mw.Close()
	resp, err := http.Post(s.inst.URL+"/v1/media", mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	var up struct{ ID, MimeType string }
	json.NewDecoder(resp.Body).Decode(&up)
	resp.Body.Close()
	if resp.StatusCode != 201 || up.ID == "" {
		t.Fatalf("upload: %d %+v", resp.StatusCode, up)
	}
	if got := s.fake.Uploaded(); len(got) != 1 || !bytes.Equal(got[0].Data, png) || got[0].MimeType != "image/png" {
		t.Fatalf("fake uploads: %d", len(got))
	}
	a := s.do(t, "POST", "/v1/messages?wait=true", map[string]any{"to": "+34696247355", "type": "image", "image": map[string]any{"id": up.ID, "caption": "look"}}, nil)
	if a.Status != 200 {
		t.Fatalf("send image: %d %s", a.Status, a.Raw)
	}
}

func TestChannels_HealthCheck(t *testing.T) {
	t.Parallel()
	s := setup(t, "sqlite", providertest.Kind360Dialog, nil, nil)
	a := s.do(t, "GET", "/v1/channels/default/health", nil, nil)
	if a.Status != 200 || a.str("state") != "live" {
		t.Fatalf("health: %d %s", a.Status, a.Raw)
	}
	s.fake.Fail(providertest.EndpointHealth, providertest.Fault{Status: 401})
	if a := s.do(t, "GET", "/v1/channels/default/health", nil, nil); a.str("state") != "unauthorized" || a.str("fix") == "" {
		t.Fatalf("unauthorized: %s", a.Raw)
	}
	s.fake.Fail(providertest.EndpointHealth, providertest.Fault{Status: 404})
	if a := s.do(t, "GET", "/v1/channels/default/health", nil, nil); a.str("state") != "not_provisioned" {
		t.Fatalf("not provisioned: %s", a.Raw)
	}
	s.fake.Fail(providertest.EndpointHealth, providertest.Fault{Status: 429})
	if a := s.do(t, "GET", "/v1/channels/default/health", nil, nil); a.str("state") != "rate_limited" {
		t.Fatalf("rate limited: %s", a.Raw)
	}
	s.fake.Fail(providertest.EndpointHealth, providertest.Fault{Status: 500})
	if a := s.do(t, "GET", "/v1/channels/default/health", nil, nil); a.str("state") != "error" || a.Body["http_status"] != float64(500) {
		t.Fatalf("error: %s", a.Raw)
	}
	if a := s.do(t, "GET", "/v1/channels/nope/health", nil, nil); a.Status != 404 {
		t.Fatalf("unknown channel: %d", a.Status)
	}
	if a := s.do(t, "GET", "/v1/channels", nil, nil); a.Status != 200 || strings.Contains(a.Raw, "d360-key") || strings.Contains(a.Raw, "hook-secret") {
		t.Fatalf("channels list leaks or fails: %s", a.Raw)
	}
}
