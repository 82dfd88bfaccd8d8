package providertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/wa"
	"github.com/wagate/wagate/internal/webhook"
)

const (
	testKey       = "k-360-secret"
	testToken     = "tok-meta-secret"
	testAppSecret = "app-secret"
	testSecret    = "hook-secret"
	testTo        = "+49 151 2345 6789"
	testWAID      = "4915123456789"
)

var allKinds = []Kind{KindMeta, Kind360Dialog, Kind360DialogOnPremise}

// bundle is one fake provider with a webhook receiver.
type bundle struct {
	kind Kind
	fake *Server
	recv *receiver
}

// setup starts a receiver and a fake of kind posting to it; mod adjusts the options.
func setup(t *testing.T, kind Kind, mod func(*Options)) *bundle {
	t.Helper()
	recv := newReceiver(t, kind)
	o := Options{Kind: kind, APIKey: testKey, AccessToken: testToken, AppSecret: testAppSecret,
		WebhookSecret: testSecret, WebhookURL: recv.srv.URL + "/webhooks/whatsapp"}
	if mod != nil {
		mod(&o)
	}
	return &bundle{kind: kind, fake: New(t, o), recv: recv}
}

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// receiver is wagate's side of the webhooks: it checks the signature or secret header and parses the body.
type receiver struct {
	t    testing.TB
	kind Kind
	srv  *httptest.Server

	mu        sync.Mutex
	failFirst int // answer 500 to this many posts
	posts     int
	hooks     []wa.Webhook
	headers   []http.Header
	problems  []string
	secret    string // expected X-Wagate-Webhook-Secret (360 kinds)
}

func newReceiver(t testing.TB, kind Kind) *receiver {
	r := &receiver{t: t, kind: kind, secret: testSecret}
	r.srv = httptest.NewServer(r)
	t.Cleanup(r.srv.Close)
	return r
}

func (rv *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rv.mu.Lock()
	defer rv.mu.Unlock()
	rv.posts++
	if rv.posts <= rv.failFirst {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	if rv.kind == KindMeta {
		if err := webhook.VerifySignature(body, r.Header.Get(webhook.SignatureHeader), []byte(testAppSecret)); err != nil {
			rv.problems = append(rv.problems, "signature: "+err.Error())
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
	} else if got := r.Header.Get("X-Wagate-Webhook-Secret"); got != rv.secret {
		rv.problems = append(rv.problems, fmt.Sprintf("secret header %q, want %q", got, rv.secret))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	hook, err := webhook.Parse(body)
	if err != nil {
		rv.problems = append(rv.problems, "parse: "+err.Error())
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	rv.hooks = append(rv.hooks, hook)
	rv.headers = append(rv.headers, r.Header.Clone())
	w.WriteHeader(http.StatusOK)
}

// receipts returns every status received, with the change it came in.
func (rv *receiver) receipts() ([]wa.Receipt, []wa.Change, []wa.Shape) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	var rs []wa.Receipt
	var cs []wa.Change
	var shapes []wa.Shape
	for _, h := range rv.hooks {
		for _, c := range h.Changes {
			for _, r := range c.Statuses {
				rs = append(rs, r)
				cs = append(cs, c)
				shapes = append(shapes, h.Shape)
			}
		}
	}
	return rs, cs, shapes
}

func (rv *receiver) checkNoProblems(t *testing.T) {
	t.Helper()
	rv.mu.Lock()
	defer rv.mu.Unlock()
	for _, p := range rv.problems {
		t.Errorf("receiver: %s", p)
	}
}

// response is an answer of the fake.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the answer as a JSON object.
func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v: %s", r.status, err, r.body)
	}
	return m
}

// call makes one request with plain net/http.
func call(t *testing.T, method, url string, hdr map[string]string, body []byte) response {
	t.Helper()
	resp, err := do(context.Background(), http.DefaultClient, method, url, hdr, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return resp
}

func do(ctx context.Context, c *http.Client, method, url string, hdr map[string]string, body []byte) (response, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return response{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// auth is the kind's credential header.
func auth(k Kind) map[string]string {
	if k == KindMeta {
		return map[string]string{"Authorization": "Bearer " + testToken}
	}
	return map[string]string{"D360-API-KEY": testKey}
}

// path maps a Cloud path (without version or number) to the kind's path.
func sendPath(k Kind) string {
	switch k {
	case KindMeta:
		return "/v21.0/" + DefaultPhoneNumberID + "/messages"
	case Kind360Dialog:
		return "/messages"
	}
	return "/v1/messages"
}

// msgBody builds a send body for the kind from the type object(s); fields are added at the top level.
func msgBody(k Kind, fields map[string]any) []byte {
	m := map[string]any{"recipient_type": "individual", "to": testTo}
	if k == Kind360DialogOnPremise {
		m["to"] = testWAID
	} else {
		m["messaging_product"] = "whatsapp"
	}
	for key, v := range fields {
		if v == nil {
			delete(m, key)
			continue
		}
		m[key] = v
	}
	b, _ := json.Marshal(m)
	return b
}

func textMsg(k Kind, text string) []byte {
	return msgBody(k, map[string]any{"type": "text", "text": map[string]any{"body": text}})
}

// send posts a text message and returns the answer.
func (b *bundle) send(t *testing.T, text string) response {
	t.Helper()
	return call(t, http.MethodPost, b.fake.URL()+sendPath(b.kind), auth(b.kind), textMsg(b.kind, text))
}

// sendOK sends a text and returns the message id answered.
func (b *bundle) sendOK(t *testing.T, text string) string {
	t.Helper()
	r := b.send(t, text)
	if r.status/100 != 2 {
		t.Fatalf("send: %d %s", r.status, r.body)
	}
	id, _ := get(r.json(t), "messages", 0, "id").(string)
	if id == "" {
		t.Fatalf("send: no messages[0].id in %s", r.body)
	}
	return id
}

// get walks a decoded JSON value by keys and indexes.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

// wantError checks an error answer's status and, in the kind's shape, its code and a part of its text.
func wantError(t *testing.T, k Kind, r response, status, code int, text string) {
	t.Helper()
	if r.status != status {
		t.Errorf("status %d, want %d (%s)", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	m := r.json(t)
	if k.cloud() {
		if got := get(m, "error", "code"); got != float64(code) {
			t.Errorf("error.code %v, want %d (%s)", got, code, r.body)
		}
		if typ, _ := get(m, "error", "type").(string); typ == "" {
			t.Errorf("error.type missing: %s", r.body)
		}
		if tr, _ := get(m, "error", "fbtrace_id").(string); tr == "" {
			t.Errorf("error.fbtrace_id missing: %s", r.body)
		}
		msg, _ := get(m, "error", "message").(string)
		details, _ := get(m, "error", "error_data", "details").(string)
		if !strings.Contains(msg+" "+details, text) {
			t.Errorf("error message %q / details %q do not contain %q", msg, details, text)
		}
		return
	}
	if got := get(m, "errors", 0, "code"); got != float64(code) {
		t.Errorf("errors[0].code %v, want %d (%s)", got, code, r.body)
	}
	title, _ := get(m, "errors", 0, "title").(string)
	if title == "" {
		t.Errorf("errors[0].title missing: %s", r.body)
	}
	details, _ := get(m, "errors", 0, "details").(string)
	if !strings.Contains(title+" "+details, text) {
		t.Errorf("error title %q / details %q do not contain %q", title, details, text)
	}
	if get(m, "meta", "api_status") != "stable" {
		t.Errorf("meta.api_status missing: %s", r.body)
	}
}

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ctxTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
