package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/provider/demo"
	"github.com/wagate/wagate/internal/provider/providertest"
	"github.com/wagate/wagate/internal/server/servertest"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/wa"
)

const compatToken = "compat-token-0123456789"

// noRedirect is a client that reports redirects instead of following them: a POST redirected by the mux would
// reach the handler as a GET.
var noRedirect = &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}}

// reply is an answer as the client saw it.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T, v any) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content type %q: %d %s", ct, r.status, r.body)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
}

// post sends body to base+path with the headers; chunked sends it without a Content-Length.
func post(t *testing.T, base, path string, hdr map[string]string, body string, chunked bool) reply {
	t.Helper()
	var rd io.Reader = strings.NewReader(body)
	if chunked {
		rd = io.MultiReader(strings.NewReader(body)) // not a type net/http can measure: sent chunked
	}
	req, err := http.NewRequest("POST", base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if chunked && req.ContentLength != 0 {
		t.Fatalf("expected an unknown length, got %d", req.ContentLength)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, b}
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

// cloudErr is the Cloud API error envelope.
type cloudErr struct {
	Error struct {
		Message      string `json:"message"`
		Type         string `json:"type"`
		Code         int    `json:"code"`
		ErrorSubcode int    `json:"error_subcode"`
		ErrorData    struct {
			MessagingProduct string `json:"messaging_product"`
			Details          string `json:"details"`
		} `json:"error_data"`
		FBTraceID string `json:"fbtrace_id"`
	} `json:"error"`
}

// cloudOK is the Cloud API send answer.
type cloudOK struct {
	MessagingProduct string `json:"messaging_product"`
	Contacts         []struct {
		Input string `json:"input"`
		WAID  string `json:"wa_id"`
	} `json:"contacts"`
	Messages []struct {
		ID string `json:"id"`
	} `json:"messages"`
}

func startDemo(t *testing.T, env map[string]string) *servertest.Instance {
	t.Helper()
	e := map[string]string{"WAGATE_API_TOKEN": compatToken, "WAGATE_WINDOW_CHECK": "false"}
	for k, v := range env {
		e[k] = v
	}
	return servertest.Start(t, servertest.Listen(t), "sqlite", e)
}

// storedMessage reads the message a compatible send answered for.
func storedMessage(t *testing.T, inst *servertest.Instance, r reply) store.Message {
	t.Helper()
	id := r.header.Get("X-Wagate-Message-Id")
	if id == "" {
		t.Fatalf("no X-Wagate-Message-Id: %d %s", r.status, r.body)
	}
	m, err := inst.Store.MessageGet(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCompat_GraphSendInDemoMode(t *testing.T) {
	t.Parallel()
	inst := startDemo(t, nil)
	bodies := map[string]string{
		"text without recipient_type, to without +": `{"messaging_product":"whatsapp","to":"34696247355","type":"text","text":{"body":"Hola"}}`,
		"template with language.policy": `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+34696247355","type":"template",
			"template":{"name":"order_update","language":{"policy":"deterministic","code":"en_US"},
			"components":[{"type":"body","parameters":[{"type":"text","text":"Ana"},{"type":"text","text":"A-1234"},{"type":"text","text":"Friday"}]}]}}`,
		"image by link": `{"messaging_product":"whatsapp","to":"+34 696 24 73 55","type":"image","image":{"link":"https://example.com/a.jpg","caption":"Invoice"}}`,
		"interactive buttons": `{"messaging_product":"whatsapp","to":"34696247355","type":"interactive","interactive":{"type":"button",
			"body":{"text":"Confirm?"},"action":{"buttons":[{"type":"reply","reply":{"id":"yes","title":"Yes"}}]}}}`,
	}
	paths := []string{"/v23.0/123456/messages", "//v17.0/123456/messages", "/v16.0//123456/messages", "/v25.0/123456/messages/",
		"/v1/graph/v21.0/default/messages"}
	i := 0
	for name, body := range bodies {
		for _, chunked := range []bool{false, true} {
			path := paths[i%len(paths)]
			i++
			r := post(t, inst.URL, path, bearer(compatToken), body, chunked)
			if r.status != 200 {
				t.Fatalf("%s via %s (chunked %v): %d %s", name, path, chunked, r.status, r.body)
			}
			var ok cloudOK
			r.json(t, &ok)
			var raw struct {
				To string `json:"to"`
			}
			_ = json.Unmarshal([]byte(body), &raw)
			if ok.MessagingProduct != "whatsapp" || len(ok.Contacts) != 1 || ok.Contacts[0].Input != raw.To ||
				ok.Contacts[0].WAID != "34696247355" || len(ok.Messages) != 1 || ok.Messages[0].ID == "" {
				t.Fatalf("%s: answer %s", name, r.body)
			}
			var keys map[string]json.RawMessage
			_ = json.Unmarshal(r.body, &keys)
			if got := sortedKeys(keys); !reflect.DeepEqual(got, []string{"contacts", "messages", "messaging_product"}) {
				t.Fatalf("%s: answer keys %v", name, got)
			}
			m := storedMessage(t, inst, r)
			c, err := inst.Store.ContactGet(context.Background(), m.ContactID)
			if err != nil || m.Direction != store.DirectionOut || c.Phone != "+34696247355" {
				t.Fatalf("%s: stored %+v to %+v (%v)", name, m, c, err)
			}
			if m.Status != wa.StatusQueued && ok.Messages[0].ID != m.ProviderID {
				t.Fatalf("%s: answered id %s, the message was sent as %s", name, ok.Messages[0].ID, m.ProviderID)
			}
			if !strings.HasPrefix(ok.Messages[0].ID, "wamid.") {
				t.Fatalf("%s: demo sends answer within the wait; got id %s (status %s)", name, ok.Messages[0].ID, m.Status)
			}
		}
	}
}

func sortedKeys(m map[string]json.RawMessage) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestCompat_360DialogMessagesWithKeyHeader(t *testing.T) {
	t.Parallel()
	inst := startDemo(t, nil)
	body := `{"messaging_product":"whatsapp","to":"+34696247355","type":"text","text":{"body":"Hola"}}`
	for _, path := range []string{"/messages", "//messages"} {
		r := post(t, inst.URL, path, map[string]string{"D360-API-KEY": compatToken}, body, true)
		var ok cloudOK
		r.json(t, &ok)
		if r.status != 200 || len(ok.Messages) != 1 || ok.Contacts[0].Input != "+34696247355" {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
	}
	for name, hdr := range map[string]map[string]string{
		"wrong key": {"D360-API-KEY": "nope"}, "no key": {}, "wrong bearer": bearer("nope"),
	} {
		r := post(t, inst.URL, "/messages", hdr, body, false)
		var e cloudErr
		r.json(t, &e)
		if r.status != 401 || e.Error.Code != 190 || e.Error.Type != "OAuthException" || e.Error.FBTraceID == "" ||
			!strings.HasPrefix(e.Error.Message, "(#190) ") {
			t.Fatalf("%s: %d %s", name, r.status, r.body)
		}
		if strings.Contains(string(r.body), compatToken) {
			t.Fatalf("%s: the answer shows the token", name)
		}
	}
	// A Bearer token works on /messages too, and mark-as-read answers {"success":true}.
	r := post(t, inst.URL, "/messages", bearer(compatToken), `{"messaging_product":"whatsapp","status":"read","message_id":"wamid.X"}`, false)
	if r.status != 200 || strings.TrimSpace(string(r.body)) != `{"success":true}` {
		t.Fatalf("read: %d %s", r.status, r.body)
	}
}

func TestCompat_GraphAuthAndBadRequests(t *testing.T) {
	t.Parallel()
	inst := startDemo(t, nil)
	good := `{"messaging_product":"whatsapp","to":"+34696247355","type":"text","text":{"body":"Hola"}}`
	cases := []struct {
		name, path, token, body string
		status, code, subcode   int
		detail                  string
	}{
		{"no token", "/v23.0/1/messages", "", good, 401, 190, 0, "Authorization"},
		{"wrong token", "/v23.0/1/messages", "x", good, 401, 190, 0, ""},
		{"not JSON", "/v23.0/1/messages", compatToken, `{"to":`, 400, 100, 0, ""},
		{"bad number", "/v23.0/1/messages", compatToken, `{"messaging_product":"whatsapp","to":"12","type":"text","text":{"body":"x"}}`, 400, 100, 0, "to"},
		{"unknown type", "/v23.0/1/messages", compatToken, `{"messaging_product":"whatsapp","to":"+34696247355","type":"fax","fax":{}}`, 400, 100, 0, "fax"},
		{"text too long", "/v23.0/1/messages", compatToken, `{"messaging_product":"whatsapp","to":"+34696247355","type":"text","text":{"body":"` + strings.Repeat("a", 4097) + `"}}`, 400, 100, 0, "4,096"},
		{"bad version", "/v1/graph/x9/1/messages", compatToken, good, 400, 100, 0, ""},
		{"unknown channel in body", "/messages", compatToken, `{"messaging_product":"whatsapp","to":"+34696247355","type":"text","text":{"body":"x"},"channel":"sales"}`, 400, 100, 33, ""},
		{"too large", "/v23.0/1/messages", compatToken, `{"messaging_product":"whatsapp","to":"+34696247355","type":"text","text":{"body":"` + strings.Repeat("a", 1<<20) + `"}}`, 413, 100, 0, "1 MiB"},
		{"window closed at the provider", "/v23.0/1/messages", compatToken, `{"messaging_product":"whatsapp","to":"` + demo.WindowClosed + `","type":"text","text":{"body":"x"}}`, 400, 131047, 0, "template"},
		{"token expired at the provider", "/v23.0/1/messages", compatToken, `{"messaging_product":"whatsapp","to":"` + demo.TokenExpired + `","type":"text","text":{"body":"x"}}`, 401, 190, 0, "check"},
	}
	for _, c := range cases {
		r := post(t, inst.URL, c.path, bearer(c.token), c.body, false)
		var e cloudErr
		r.json(t, &e)
		if r.status != c.status || e.Error.Code != c.code || e.Error.ErrorSubcode != c.subcode || e.Error.FBTraceID == "" ||
			e.Error.Type == "" || !strings.HasPrefix(e.Error.Message, "(#") && e.Error.ErrorSubcode == 0 {
			t.Fatalf("%s: %d %s", c.name, r.status, r.body)
		}
		if c.detail != "" && !strings.Contains(e.Error.ErrorData.Details+e.Error.Message, c.detail) {
			t.Fatalf("%s: details do not mention %q: %s", c.name, c.detail, r.body)
		}
		if r.header.Get("X-FB-Trace-ID") != e.Error.FBTraceID {
			t.Fatalf("%s: trace header %q", c.name, r.header.Get("X-FB-Trace-ID"))
		}
	}
}

func TestCompat_GraphChannelByPhoneNumberID(t *testing.T) {
	t.Parallel()
	fake := providertest.New(t, providertest.Options{Kind: providertest.KindMeta, AccessToken: "meta-token", PhoneNumberID: "1098765",
		Receipts: []string{}})
	inst := servertest.Start(t, servertest.Listen(t), "sqlite", map[string]string{"WAGATE_WINDOW_CHECK": "false",
		"WAGATE_PROVIDER": "meta", "WHATSAPP_ACCESS_TOKEN": "meta-token", "WAGATE_PHONE_NUMBER_ID": "1098765",
		"WAGATE_PROVIDER_BASE_URL": fake.URL(), "WAGATE_API_TOKEN": compatToken})
	text := `{"messaging_product":"whatsapp","to":"34696247355","type":"text","text":{"body":"Hola"}}`

	r := post(t, inst.URL, "/v23.0/999/messages", bearer(compatToken), text, false)
	var e cloudErr
	r.json(t, &e)
	if r.status != 400 || e.Error.Code != 100 || e.Error.ErrorSubcode != 33 || e.Error.Type != "GraphMethodException" ||
		!strings.Contains(e.Error.Message, "'999'") {
		t.Fatalf("unknown id: %d %s", r.status, r.body)
	}
	if fake.SentCount() != 0 {
		t.Fatal("a send with an unknown phone number id reached the provider")
	}

	r = post(t, inst.URL, "/v23.0/1098765/messages", bearer(compatToken), text, false)
	var ok cloudOK
	r.json(t, &ok)
	sent := fake.Sent()
	if r.status != 200 || len(sent) != 1 || ok.Messages[0].ID != sent[0].ID {
		t.Fatalf("known id: %d %s; provider got %d", r.status, r.body, len(sent))
	}

	// A template the provider does not know comes back as Meta's own 132001, with Meta's 404.
	fake.FailNext(providertest.EndpointSend, 1, providertest.Fault{Code: 132001})
	r = post(t, inst.URL, "/v23.0/1098765/messages", bearer(compatToken),
		`{"messaging_product":"whatsapp","to":"34696247355","type":"template","template":{"name":"nope","language":{"code":"en"}}}`, false)
	e = cloudErr{}
	r.json(t, &e)
	if r.status != 404 || e.Error.Code != 132001 || e.Error.ErrorData.Details == "" {
		t.Fatalf("template: %d %s", r.status, r.body)
	}
}

func TestCompat_IdempotencyKeyOnEverySendEndpoint(t *testing.T) {
	t.Parallel()
	inst := startDemo(t, map[string]string{"WHATSAPP_DEFAULT_RECIPIENT": "+34696247355"})
	text := func(s string) string {
		return `{"messaging_product":"whatsapp","to":"+34696247355","type":"text","text":{"body":"` + s + `"}}`
	}
	// A demo template with its three parameters, so that the send is valid whether or not the demo templates
	// were synced yet; s tells one body from another.
	notify := func(s string) string {
		return `{"templateName":"order_update","templateParameters":["Ana","` + s + `","Friday"]}`
	}
	endpoints := []struct {
		name, path string
		hdr        map[string]string
		body       func(string) string
		id         func(t *testing.T, r reply) string
	}{
		{"graph", "/v23.0/1/messages", bearer(compatToken), text, func(t *testing.T, r reply) string {
			var ok cloudOK
			r.json(t, &ok)
			return ok.Messages[0].ID
		}},
		{"360dialog", "/messages", map[string]string{"D360-API-KEY": compatToken}, text, func(t *testing.T, r reply) string {
			var ok cloudOK
			r.json(t, &ok)
			return ok.Messages[0].ID
		}},
		{"notify", "/v1/whatsapp/notify", bearer(compatToken), notify, func(t *testing.T, r reply) string {
			var ok struct{ ID string }
			r.json(t, &ok)
			return ok.ID
		}},
		{"v1", "/v1/messages", bearer(compatToken), text, func(t *testing.T, r reply) string {
			var ok struct{ ID string }
			r.json(t, &ok)
			return ok.ID
		}},
	}
	for _, ep := range endpoints {
		hdr := map[string]string{"Idempotency-Key": "key-" + ep.name}
		for k, v := range ep.hdr {
			hdr[k] = v
		}
		first := post(t, inst.URL, ep.path, hdr, ep.body("one"), false)
		second := post(t, inst.URL, ep.path, hdr, ep.body("one"), true)
		if first.status/100 != 2 || second.status != first.status {
			t.Fatalf("%s: %d %s then %d %s", ep.name, first.status, first.body, second.status, second.body)
		}
		a, b := ep.id(t, first), ep.id(t, second)
		if a == "" || a != b || first.header.Get("X-Wagate-Message-Id") != second.header.Get("X-Wagate-Message-Id") {
			t.Fatalf("%s: the same key answered %q then %q", ep.name, a, b)
		}
		other := post(t, inst.URL, ep.path, hdr, ep.body("two"), false)
		if other.status != 409 {
			t.Fatalf("%s: the same key with another body: %d %s", ep.name, other.status, other.body)
		}
	}
	// One message per key: four keys, four messages, whatever the repeats and conflicts.
	convs, err := inst.Store.ConversationList(context.Background(), store.ConversationFilter{Limit: 10})
	if err != nil || len(convs.Items) != 1 {
		t.Fatalf("conversations: %+v %v", convs, err)
	}
	msgs, err := inst.Store.MessageList(context.Background(), store.MessageFilter{ConversationID: convs.Items[0].ID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs.Items) != len(endpoints) {
		t.Fatalf("%d messages stored for %d keys", len(msgs.Items), len(endpoints))
	}
}

func TestRetry_IdempotencyKey(t *testing.T) {
	t.Parallel()
	inst := startDemo(t, nil)
	failed := func() string {
		r := post(t, inst.URL, "/v1/messages?wait=5s", bearer(compatToken),
			`{"to":"`+demo.WindowClosed+`","type":"text","text":{"body":"late"}}`, false)
		var out struct {
			Message struct{ ID, Status string }
		}
		r.json(t, &out)
		if r.status != 422 || out.Message.Status != "failed" {
			t.Fatalf("expected a failed send: %d %s", r.status, r.body)
		}
		return out.Message.ID
	}
	a, b := failed(), failed()
	hdr := bearer(compatToken)
	hdr["Idempotency-Key"] = "retry-1"
	var first, second struct {
		ID      string `json:"id"`
		RetryOf string `json:"retry_of"`
	}
	r1 := post(t, inst.URL, "/v1/messages/"+a+"/retry", hdr, "", false)
	r1.json(t, &first)
	r2 := post(t, inst.URL, "/v1/messages/"+a+"/retry", hdr, "", false)
	r2.json(t, &second)
	if r1.status != 202 || r2.status != 202 || first.ID == "" || first.ID != second.ID || first.RetryOf != a {
		t.Fatalf("the same key retried twice: %d %s / %d %s", r1.status, r1.body, r2.status, r2.body)
	}
	if r := post(t, inst.URL, "/v1/messages/"+b+"/retry", hdr, "", false); r.status != 409 {
		t.Fatalf("the same key for another message: %d %s", r.status, r.body)
	}
	// Without a key every retry is a new send.
	var c, d struct{ ID string }
	post(t, inst.URL, "/v1/messages/"+b+"/retry", bearer(compatToken), "", false).json(t, &c)
	post(t, inst.URL, "/v1/messages/"+b+"/retry", bearer(compatToken), "", false).json(t, &d)
	if c.ID == "" || c.ID == d.ID {
		t.Fatalf("retries without a key: %q %q", c.ID, d.ID)
	}
}
