package subscriber_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/server"
	"github.com/wagate/wagate/internal/server/servertest"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/subscriber"
)

// received is one request a receiver got.
type received struct {
	Header http.Header
	Body   []byte
}

// receiver is a real HTTP server on 127.0.0.1 that records what it receives and answers what fault says.
type receiver struct {
	srv   *httptest.Server
	got   chan received
	calls atomic.Int64
	// fault decides the answer to call n (1-based); nil answers 200.
	fault func(n int64, w http.ResponseWriter) bool
}

func newReceiver(t *testing.T, fault func(n int64, w http.ResponseWriter) bool) *receiver {
	t.Helper()
	r := &receiver{got: make(chan received, 1000), fault: fault}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		n := r.calls.Add(1)
		body, _ := io.ReadAll(req.Body)
		if r.fault != nil && r.fault(n, w) {
			return
		}
		r.got <- received{Header: req.Header.Clone(), Body: body}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) next(t *testing.T) received {
	t.Helper()
	select {
	case g := <-r.got:
		return g
	case <-time.After(20 * time.Second):
		t.Fatalf("receiver got nothing within 20s (%d calls)", r.calls.Load())
	}
	return received{}
}

// verifyStandard checks a Standard Webhooks signature as the specification describes it, independently of the
// package's own Sign and Verify: the key is the base64 after "whsec_"; the signature is "v1," and the base64
// HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}"; several may be listed, separated by spaces.
func verifyStandard(t *testing.T, secret string, h http.Header, body []byte) {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatalf("secret %q is not whsec_ + base64", secret)
	}
	id, ts := h.Get("Webhook-Id"), h.Get("Webhook-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		t.Fatalf("webhook-timestamp %q is not a current Unix time", ts)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	for _, s := range strings.Split(h.Get("Webhook-Signature"), " ") {
		if s == want {
			return
		}
	}
	t.Fatalf("webhook-signature %q does not match %q", h.Get("Webhook-Signature"), want)
}

type stack struct {
	inst *servertest.Instance
	t    *testing.T
}

// setup starts wagate on db with loopback receivers allowed and short retries.
func setup(t *testing.T, db string, env map[string]string) *stack {
	t.Helper()
	if db == "postgres" && os.Getenv("WAGATE_TEST_POSTGRES_URL") == "" {
		t.Skip("WAGATE_TEST_POSTGRES_URL is not set")
	}
	e := map[string]string{"WAGATE_WINDOW_CHECK": "false", "WAGATE_SUBSCRIBER_ALLOW_CIDRS": "127.0.0.1", "WAGATE_SUBSCRIBER_MIN_BACKOFF": "20ms",
		"WAGATE_SUBSCRIBER_MAX_BACKOFF": "100ms", "WAGATE_SUBSCRIBER_TIMEOUT": "2s"}
	for k, v := range env {
		e[k] = v
	}
	return &stack{inst: servertest.Start(t, servertest.Listen(t), db, e), t: t}
}

func (s *stack) do(method, path string, body any, want int) map[string]any {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.inst.URL+path, rd)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		s.t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, raw, want)
	}
	out := map[string]any{}
	_ = json.Unmarshal(raw, &out)
	return out
}

func (s *stack) subscribe(in map[string]any) (id, secret string) {
	s.t.Helper()
	out := s.do("POST", "/v1/subscriptions", in, http.StatusCreated)
	id, _ = out["id"].(string)
	secret, _ = out["secret"].(string)
	return id, secret
}

// webhook posts a provider webhook and returns its bytes.
func (s *stack) webhook(body string) []byte {
	s.t.Helper()
	resp, err := http.Post(s.inst.URL+"/webhooks/whatsapp", "application/json", strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(raw, []byte(`"ok":true`)) {
		s.t.Fatalf("webhook: %d %s", resp.StatusCode, raw)
	}
	return []byte(body)
}

func inboundText(id, from, text string, at time.Time) string {
	return fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{`+
		`"messaging_product":"whatsapp","contacts":[{"profile":{"name":"Ana"},"wa_id":"%s"}],`+
		`"messages":[{"from":"%s","id":"%s","timestamp":"%d","type":"text","text":{"body":"%s"}}]}}]}]}`, from, from, id, at.Unix(), text)
}

func (s *stack) waitDelivery(id, state string) store.Delivery {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		d, err := s.inst.Store.DeliveryGet(context.Background(), id)
		if err == nil && d.State == state {
			return d
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("delivery %s is %q (%v), want %s", id, d.State, err, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *stack) onlyDelivery(subID string) store.Delivery {
	s.t.Helper()
	page, err := s.inst.Store.DeliveryList(context.Background(), store.DeliveryFilter{SubscriptionID: subID})
	if err != nil || len(page.Items) != 1 {
		s.t.Fatalf("deliveries of %s: %d, %v; want 1", subID, len(page.Items), err)
	}
	return page.Items[0]
}

var databases = []string{"sqlite", "postgres"}

func TestEvents_WagateFormatSignedAndOrdered(t *testing.T) {
	t.Parallel()
	for _, db := range databases {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			s := setup(t, db, nil)
			rcv := newReceiver(t, nil)
			_, secret := s.subscribe(map[string]any{"url": rcv.srv.URL + "/hook?token=abc", "types": []string{"message.received"}})
			now := time.Now()
			s.webhook(inboundText("wamid.A1", "34696247355", "Hola", now))
			s.webhook(inboundText("wamid.A1", "34696247355", "Hola", now)) // a provider retry: no second event
			s.webhook(inboundText("wamid.A2", "34696247355", "Otra", now.Add(time.Second)))
			// Deliveries run concurrently and may arrive in any order; the sequence number orders them.
			bySeq := map[int64]received{}
			for range 2 {
				g := rcv.next(t)
				var ev struct{ Sequence int64 }
				_ = json.Unmarshal(g.Body, &ev)
				bySeq[ev.Sequence] = g
			}
			for i, want := range []string{"Hola", "Otra"} {
				g := bySeq[int64(i+1)]
				verifyStandard(t, secret, g.Header, g.Body)
				var ev struct {
					ID, Type, Channel string
					ConversationID    string `json:"conversation_id"`
					Sequence          int64
					Data              struct {
						Message struct{ Text, ProviderID string } `json:"message"`
						Contact struct{ Phone, Name string }      `json:"contact"`
					}
				}
				if err := json.Unmarshal(g.Body, &ev); err != nil {
					t.Fatal(err)
				}
				if ev.Type != "message.received" || ev.Data.Message.Text != want || ev.Sequence != int64(i+1) ||
					ev.Data.Contact.Phone != "+34696247355" || ev.Data.Contact.Name != "Ana" || ev.ConversationID == "" {
					t.Fatalf("event %d: %s", i, g.Body)
				}
				if g.Header.Get("Webhook-Id") != ev.ID {
					t.Fatalf("webhook-id %q, event id %q", g.Header.Get("Webhook-Id"), ev.ID)
				}
			}
			select {
			case g := <-rcv.got:
				t.Fatalf("unexpected third event: %s", g.Body)
			case <-time.After(300 * time.Millisecond):
			}
		})
	}
}

func TestEvents_MetaFormatPassesTheBodyThrough(t *testing.T) {
	t.Parallel()
	s := setup(t, "sqlite", nil)
	a, b := newReceiver(t, nil), newReceiver(t, nil)
	const appSecret = "consumer-app-secret"
	s.subscribe(map[string]any{"url": a.srv.URL, "format": "meta", "secret": appSecret})
	s.subscribe(map[string]any{"url": b.srv.URL, "format": "meta", "secret": appSecret + "2"})
	// One webhook with two messages: one delivery per consumer, not per message.
	body := `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",` +
		`"contacts":[{"profile":{"name":"Ana"},"wa_id":"34696247355"}],"messages":[` +
		`{"from":"34696247355","id":"wamid.M1","timestamp":"1700000000","type":"text","text":{"body":"uno"}},` +
		`{"from":"34696247355","id":"wamid.M2","timestamp":"1700000001","type":"text","text":{"body":"dos"}}]}}]}]}`
	sent := s.webhook(body)
	for _, c := range []struct {
		r      *receiver
		secret string
	}{{a, appSecret}, {b, appSecret + "2"}} {
		g := c.r.next(t)
		if !bytes.Equal(g.Body, sent) {
			t.Fatalf("body changed:\n%s\nwant\n%s", g.Body, sent)
		}
		m := hmac.New(sha256.New, []byte(c.secret))
		m.Write(sent)
		if want := "sha256=" + hex.EncodeToString(m.Sum(nil)); g.Header.Get("X-Hub-Signature-256") != want {
			t.Fatalf("X-Hub-Signature-256 %q, want %q", g.Header.Get("X-Hub-Signature-256"), want)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if a.calls.Load() != 1 || b.calls.Load() != 1 {
		t.Fatalf("calls %d and %d, want 1 each", a.calls.Load(), b.calls.Load())
	}
}

func TestEvents_WhatsAbleFormat(t *testing.T) {
	t.Parallel()
	s := setup(t, "sqlite", nil)
	rcv := newReceiver(t, nil)
	_, secret := s.subscribe(map[string]any{"url": rcv.srv.URL, "format": "whatsable"})
	at := time.Now().Add(-time.Minute).Truncate(time.Second)
	s.webhook(inboundText("wamid.W1", "34696247355", "Necesito ayuda", at))
	g := rcv.next(t)
	verifyStandard(t, secret, g.Header, g.Body)
	var p struct {
		Event string
		Data  struct {
			LastMessages          []struct{ Type, Content, Timestamp string } `json:"last_messages"`
			ConversationParagraph string                                      `json:"conversation_paragraph"`
			PhoneNumber           string                                      `json:"phone_number"`
			RecipientName         string                                      `json:"recipient_name"`
			UserID                string                                      `json:"user_id"`
			LastMessageOfUser     string                                      `json:"last_message_of_user"`
			LastMessageOfBot      string                                      `json:"last_message_of_bot"`
			MessageType           string                                      `json:"message_type"`
			UserTimestamp         string                                      `json:"user_timestamp"`
			BotTimestamp          *string                                     `json:"bot_timestamp"`
			AttachmentURL         *string                                     `json:"attachment_url"`
		}
	}
	if err := json.Unmarshal(g.Body, &p); err != nil {
		t.Fatal(err)
	}
	d := p.Data
	if p.Event != "incoming_message" || d.PhoneNumber != "34696247355" || d.RecipientName != "Ana" || d.UserID != "34696247355" ||
		d.LastMessageOfUser != "Necesito ayuda" || d.MessageType != "text" || d.ConversationParagraph != "User: Necesito ayuda" ||
		len(d.LastMessages) != 1 || d.LastMessages[0].Type != "user" || d.BotTimestamp == nil || d.AttachmentURL == nil ||
		d.UserTimestamp != at.UTC().Format("2006-01-02T15:04:05.000Z") {
		t.Fatalf("payload: %s", g.Body)
	}
}

func TestEvents_StatusesAndFailuresOfSends(t *testing.T) {
	t.Parallel()
	s := setup(t, "sqlite", nil)
	rcv := newReceiver(t, nil)
	s.subscribe(map[string]any{"url": rcv.srv.URL, "types": []string{"message.status", "message.failed"}})
	s.do("POST", "/v1/messages", map[string]any{"to": "+34600131047", "text": "fuera de ventana"}, http.StatusAccepted)
	g := rcv.next(t)
	var ev struct {
		Type string
		Data struct {
			Status string
			Error  struct{ Code int }
		}
	}
	_ = json.Unmarshal(g.Body, &ev)
	if ev.Type != "message.failed" || ev.Data.Status != "failed" || ev.Data.Error.Code != 131047 {
		t.Fatalf("event: %s", g.Body)
	}
	// A message the demo provider accepts: its receipts come back through the inbound path. An event is raised
	// only when the status moves forward, so the statuses arrive in order, and a "delivered" processed after
	// "read" (webhooks may be applied in either order) raises none: the events end with "read".
	s.do("POST", "/v1/messages", map[string]any{"to": "+34600000001", "text": "hola"}, http.StatusAccepted)
	rank := map[string]int{"accepted": 1, "sent": 2, "delivered": 3, "read": 4}
	last := 0
	for last != rank["read"] {
		g := rcv.next(t)
		_ = json.Unmarshal(g.Body, &ev)
		r, ok := rank[ev.Data.Status]
		if ev.Type != "message.status" || !ok || r <= last {
			t.Fatalf("event after status rank %d: %s", last, g.Body)
		}
		last = r
	}
}

func TestEvents_FaultyReceiversGetEveryEvent(t *testing.T) {
	t.Parallel()
	faults := map[string]func(n int64, w http.ResponseWriter) bool{
		"500 twice": func(n int64, w http.ResponseWriter) bool {
			if n <= 2 {
				w.WriteHeader(http.StatusInternalServerError)
				return true
			}
			return false
		},
		"slow beyond the timeout": func(n int64, w http.ResponseWriter) bool {
			if n == 1 {
				time.Sleep(700 * time.Millisecond)
			}
			return false
		},
		"connection reset": func(n int64, w http.ResponseWriter) bool {
			if n > 2 {
				return false
			}
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.(*net.TCPConn).SetLinger(0)
				conn.Close()
			}
			return true
		},
		"redirect is not followed": func(n int64, w http.ResponseWriter) bool {
			if n == 1 {
				w.Header().Set("Location", "/elsewhere")
				w.WriteHeader(http.StatusFound)
				return true
			}
			return false
		},
	}
	for name, fault := range faults {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := setup(t, "sqlite", map[string]string{"WAGATE_SUBSCRIBER_TIMEOUT": "300ms"})
			rcv := newReceiver(t, fault)
			id, _ := s.subscribe(map[string]any{"url": rcv.srv.URL + "/hook"})
			s.webhook(inboundText("wamid.F1", "34696247355", "Hola", time.Now()))
			rcv.next(t)
			d := s.waitDelivery(s.onlyDelivery(id).ID, store.DeliveryDelivered)
			if d.Attempts < 2 {
				t.Fatalf("attempts %d, want at least 2", d.Attempts)
			}
		})
	}
}

func TestEvents_DownReceiverDeadLettersThenReplays(t *testing.T) {
	t.Parallel()
	for _, db := range databases {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			// PostgreSQL's queue picks up retries due within a second at its next poll (every second).
			s := setup(t, db, map[string]string{"WAGATE_SUBSCRIBER_RETRY_FOR": "3s"})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			ln.Close() // nothing listens: connections are refused
			id, _ := s.subscribe(map[string]any{"url": "http://" + addr + "/hook"})
			s.webhook(inboundText("wamid.D1", "34696247355", "uno", time.Now()))
			s.webhook(inboundText("wamid.D2", "34696247355", "dos", time.Now()))
			page, _ := s.inst.Store.DeliveryList(context.Background(), store.DeliveryFilter{SubscriptionID: id})
			if len(page.Items) != 2 {
				t.Fatalf("%d deliveries, want 2", len(page.Items))
			}
			for _, d := range page.Items {
				f := s.waitDelivery(d.ID, store.DeliveryFailed)
				if f.Attempts < 2 || !strings.Contains(f.LastError, "gave up") {
					t.Fatalf("dead letter: %+v", f)
				}
			}
			failed := s.do("GET", "/v1/deliveries?state=failed", nil, 200)
			if items, _ := failed["items"].([]any); len(items) != 2 {
				t.Fatalf("failed deliveries: %v", failed)
			}
			// The receiver comes back on the same address; replay one, then all.
			ln2, err := net.Listen("tcp", addr)
			if err != nil {
				t.Skipf("address %s taken again: %v", addr, err)
			}
			rcv := newReceiver(t, nil)
			rcv.srv.Close()
			back := httptest.NewUnstartedServer(rcv.srv.Config.Handler)
			back.Listener = ln2
			back.Start()
			defer back.Close()
			s.do("POST", "/v1/deliveries/"+page.Items[0].ID+"/replay", nil, 200)
			s.waitDelivery(page.Items[0].ID, store.DeliveryDelivered)
			s.do("POST", "/v1/deliveries/"+page.Items[0].ID+"/replay", nil, http.StatusConflict)
			out := s.do("POST", "/v1/deliveries/replay", map[string]any{"subscription": id}, 200)
			if out["replayed"] != float64(1) {
				t.Fatalf("replay all: %v", out)
			}
			s.waitDelivery(page.Items[1].ID, store.DeliveryDelivered)
		})
	}
}

func TestEvents_GoneDisablesTheSubscription(t *testing.T) {
	t.Parallel()
	s := setup(t, "sqlite", nil)
	gone := atomic.Bool{}
	gone.Store(true)
	rcv := newReceiver(t, func(n int64, w http.ResponseWriter) bool {
		if gone.Load() {
			w.WriteHeader(http.StatusGone)
			return true
		}
		return false
	})
	id, _ := s.subscribe(map[string]any{"url": rcv.srv.URL})
	s.webhook(inboundText("wamid.G1", "34696247355", "uno", time.Now()))
	d := s.waitDelivery(s.onlyDelivery(id).ID, store.DeliveryFailed)
	if d.Attempts != 1 || d.LastStatus != 410 {
		t.Fatalf("delivery: %+v", d)
	}
	sub := s.do("GET", "/v1/subscriptions/"+id, nil, 200)
	if sub["enabled"] != false || !strings.Contains(fmt.Sprint(sub["disabled_reason"]), "410") || sub["secret"] != nil {
		t.Fatalf("subscription: %v", sub)
	}
	// Disabled: a new event is not recorded for it.
	s.webhook(inboundText("wamid.G2", "34696247355", "dos", time.Now()))
	// Enabled again and replayed: delivered.
	gone.Store(false)
	s.do("PATCH", "/v1/subscriptions/"+id, map[string]any{"enabled": true}, 200)
	s.do("POST", "/v1/deliveries/replay", nil, 200)
	s.waitDelivery(d.ID, store.DeliveryDelivered)
	page, _ := s.inst.Store.DeliveryList(context.Background(), store.DeliveryFilter{SubscriptionID: id})
	if len(page.Items) != 1 {
		t.Fatalf("%d deliveries; the event while disabled should not be recorded", len(page.Items))
	}
}

func TestEvents_FailingForDaysDisables(t *testing.T) {
	t.Parallel()
	s := setup(t, "sqlite", map[string]string{"WAGATE_SUBSCRIBER_DISABLE_AFTER": "1s", "WAGATE_SUBSCRIBER_RETRY_FOR": "720h"})
	rcv := newReceiver(t, func(n int64, w http.ResponseWriter) bool { w.WriteHeader(503); return true })
	id, _ := s.subscribe(map[string]any{"url": rcv.srv.URL})
	s.webhook(inboundText("wamid.X1", "34696247355", "uno", time.Now()))
	deadline := time.Now().Add(20 * time.Second)
	for {
		sub, err := s.inst.Store.SubscriptionGet(context.Background(), nil, id)
		if err != nil {
			t.Fatal(err)
		}
		if !sub.Enabled {
			if !strings.Contains(sub.DisabledReason, "failed since") {
				t.Fatalf("reason %q", sub.DisabledReason)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("subscription still enabled")
		}
		time.Sleep(50 * time.Millisecond)
	}
	d := s.waitDelivery(s.onlyDelivery(id).ID, store.DeliveryFailed)
	if !strings.Contains(d.LastError, "disabled") && d.LastStatus != 503 {
		t.Fatalf("delivery: %+v", d)
	}
}

func TestEvents_TemplateAndWindowClosing(t *testing.T) {
	t.Parallel()
	s := setup(t, "sqlite", nil)
	rcv := newReceiver(t, nil)
	s.subscribe(map[string]any{"url": rcv.srv.URL, "types": []string{"template.status", "window.closing"}})
	s.webhook(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"message_template_status_update",` +
		`"value":{"event":"APPROVED","message_template_id":42,"message_template_name":"order_update","message_template_language":"es"}}]}]}`)
	g := rcv.next(t)
	if !bytes.Contains(g.Body, []byte(`"type":"template.status"`)) || !bytes.Contains(g.Body, []byte("order_update")) {
		t.Fatalf("event: %s", g.Body)
	}
	// A message 23.5 hours old: its window closes in 30 minutes, within the default lead of 1 hour.
	s.webhook(inboundText("wamid.T1", "34696247355", "hola", time.Now().Add(-23*time.Hour-30*time.Minute)))
	w := subscriber.NewWindowWorker(s.inst.Store, server.SubscriberConfig(s.inst.Config))
	n, err := w.Announce(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("announced %d, %v; want 1", n, err)
	}
	if n, _ := w.Announce(context.Background()); n != 0 {
		t.Fatalf("announced again: %d", n)
	}
	g = rcv.next(t)
	if !bytes.Contains(g.Body, []byte(`"type":"window.closing"`)) || !bytes.Contains(g.Body, []byte("window_expires_at")) {
		t.Fatalf("event: %s", g.Body)
	}
}

func TestSubscriptions_APIValidatesAndHidesSecrets(t *testing.T) {
	t.Parallel()
	s := setup(t, "sqlite", map[string]string{"WAGATE_SUBSCRIBER_ALLOW_CIDRS": ""})
	for _, body := range []map[string]any{
		{"url": "http://127.0.0.1:9/hook"},
		{"url": "http://localhost/hook"},
		{"url": "http://[::1]/hook"},
		{"url": "http://169.254.169.254/latest"},
		{"url": "ftp://example.com/"},
		{"url": "https://example.com/", "format": "nope"},
		{"url": "https://example.com/", "types": []string{"message.everything"}},
		{"url": "https://example.com/", "channels": []string{"nope"}},
		{"url": "https://example.com/", "secret": "not-whsec"},
		{"url": "https://user:pw@example.com/"},
	} {
		out := s.do("POST", "/v1/subscriptions", body, http.StatusBadRequest)
		if fmt.Sprint(out["error"].(map[string]any)["code"]) != "invalid_subscription" {
			t.Fatalf("%v: %v", body, out)
		}
	}
	s.do("POST", "/v1/subscriptions", map[string]any{"url": "https://example.com/", "unknown": 1}, http.StatusBadRequest)
	id, secret := s.subscribe(map[string]any{"url": "https://example.com/hook", "channels": []string{"default"}})
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q", secret)
	}
	for _, path := range []string{"/v1/subscriptions", "/v1/subscriptions/" + id} {
		req, _ := http.NewRequest("GET", s.inst.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if bytes.Contains(raw, []byte(strings.TrimPrefix(secret, "whsec_"))) || !bytes.Contains(raw, []byte(`"secret_set":true`)) {
			t.Fatalf("%s shows the secret or hides that it is set: %s", path, raw)
		}
	}
	s.do("PATCH", "/v1/subscriptions/"+id, map[string]any{"types": []string{"message.received"}}, 200)
	s.do("GET", "/v1/subscriptions/"+id+"/deliveries", nil, 200)
	s.do("GET", "/v1/deliveries?state=bogus", nil, http.StatusBadRequest)
	s.do("DELETE", "/v1/subscriptions/"+id, nil, http.StatusNoContent)
	s.do("GET", "/v1/subscriptions/"+id, nil, http.StatusNotFound)
}

func TestSubscriptions_TestEndpointDeliversNow(t *testing.T) {
	t.Parallel()
	s := setup(t, "sqlite", nil)
	rcv := newReceiver(t, nil)
	id, secret := s.subscribe(map[string]any{"url": rcv.srv.URL})
	out := s.do("POST", "/v1/subscriptions/"+id+"/test", nil, 200)
	if out["state"] != "delivered" || out["last_status"] != float64(204) {
		t.Fatalf("test: %v", out)
	}
	g := rcv.next(t)
	verifyStandard(t, secret, g.Header, g.Body)
	if !bytes.Contains(g.Body, []byte(`"type":"test"`)) {
		t.Fatalf("body: %s", g.Body)
	}
	rcv.srv.Close()
	out = s.do("POST", "/v1/subscriptions/"+id+"/test", nil, 200)
	if out["state"] != "failed" || out["last_error"] == "" {
		t.Fatalf("test against a closed receiver: %v", out)
	}
}
