package sender_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/provider/providertest"
	"github.com/wagate/wagate/internal/wa"
)

// orderUpdate is an approved positional template of the fake provider.
var orderUpdate = providertest.Template{Name: "order_update", Language: "es",
	Components: []byte(`[{"type":"BODY","text":"Hola {{1}}, tu pedido {{2}} está en camino."},{"type":"FOOTER","text":"Tienda"}]`)}

// withTemplates gives the fake provider templates and syncs them through the API.
func withTemplates(t *testing.T, s *stack, ts ...providertest.Template) {
	t.Helper()
	// The sync at startup (a periodic job run by the elected leader) comes first, so that the counts of
	// template listings the tests take afterwards are not raced by it.
	eventually(t, "the startup sync", func() bool {
		for _, r := range s.fake.Requests() {
			if r.Endpoint == providertest.EndpointTemplates {
				return true
			}
		}
		return false
	})
	s.fake.AddTemplate(ts...)
	if a := s.do(t, "POST", "/v1/templates/sync", nil, nil); a.Status != 200 || strings.Contains(a.Raw, `"error"`) {
		t.Fatalf("sync: %d %s", a.Status, a.Raw)
	}
}

// TestTemplates_WindowClosedRefusedBeforeSending: a free-form message to a contact who never wrote is refused
// with window_closed and the approved templates, and nothing reaches the provider; a named fallback template
// goes out instead and the answer says so; the stored text is what the contact reads.
func TestTemplates_WindowClosedRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	s := setup(t, "sqlite", providertest.Kind360Dialog, nil, nil)
	withTemplates(t, s, orderUpdate, providertest.Template{Name: "promo", Language: "es", Status: "PAUSED"})
	sent := s.fake.SentCount()
	a := s.do(t, "POST", "/v1/messages", text("+34600999001", "Hola"), nil)
	if a.Status != 422 || a.errCode() != "window_closed" {
		t.Fatalf("free-form outside the window: %d %s", a.Status, a.Raw)
	}
	e := a.Body["error"].(map[string]any)
	refs, _ := e["templates"].([]any)
	if len(refs) != 1 || refs[0].(map[string]any)["name"] != "order_update" || e["closed_at"] != nil {
		t.Fatalf("error = %s", a.Raw)
	}
	if s.fake.SentCount() != sent {
		t.Fatal("the refused message reached the provider")
	}
	// With a fallback template.
	body := text("+34600999001", "Hola")
	body["fallback_template"] = map[string]any{"name": "order_update", "language": "es", "params": []string{"Ana", "A-1"}}
	a = s.do(t, "POST", "/v1/messages?wait=5s", body, nil)
	if a.Status != 200 || a.Body["fallback_used"] != true || a.str("type") != "template" {
		t.Fatalf("fallback: %d %s", a.Status, a.Raw)
	}
	if got := a.str("text"); got != "Hola Ana, tu pedido A-1 está en camino.\nTienda" {
		t.Fatalf("stored text = %q", got)
	}
	// The window of a contact who wrote 25 hours ago is closed too, and the error says when it closed.
	at := time.Now().Add(-25 * time.Hour)
	s.fake.Clear()
	postInboundAt(t, s, "+34600999002", at)
	a = s.do(t, "POST", "/v1/messages", text("+34600999002", "Hola"), nil)
	e, _ = a.Body["error"].(map[string]any)
	if a.errCode() != "window_closed" || e["closed_at"] != at.Add(24*time.Hour).UTC().Format(time.RFC3339) {
		t.Fatalf("window closed an hour ago: %s", a.Raw)
	}
	c, err := s.inst.Store.ContactGetByPhone(context.Background(), "+34600999002")
	if err != nil {
		t.Fatal(err)
	}
	ws := s.do(t, "GET", "/v1/contacts/"+c.ID, nil, nil)
	if !strings.Contains(ws.Raw, `"window_expires_at":"`+at.Add(24*time.Hour).UTC().Format(time.RFC3339)) || !strings.Contains(ws.Raw, `"window_open":false`) {
		t.Fatalf("contact windows: %s", ws.Raw)
	}
}

// postInboundAt has the fake post an inbound message from phone with provider time at, and waits until wagate
// recorded it.
func postInboundAt(t *testing.T, s *stack, phone string, at time.Time) {
	t.Helper()
	body := fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"%s","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",`+
		`"metadata":{"display_phone_number":"15550000000","phone_number_id":"%s"},"contacts":[{"profile":{"name":"Ana"},"wa_id":"%s"}],`+
		`"messages":[{"from":"%s","id":"wamid.old%d","timestamp":"%d","type":"text","text":{"body":"hola"}}]}}]}]}`,
		s.fake.WABAID(), s.fake.PhoneNumberID(), wa.Digits(phone), wa.Digits(phone), at.UnixNano(), at.Unix())
	if _, err := s.fake.PostWebhook(context.Background(), []byte(body)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the old message", func() bool {
		w, err := s.inst.Store.WindowFor(context.Background(), "default", phone)
		return err == nil && !w.LastInboundAt.IsZero()
	})
}

// TestTemplates_PreflightRefusesBeforeTheProvider: the short form and the component form are checked against
// the synced template; a mismatch names the component and parameter and never reaches the provider.
func TestTemplates_PreflightRefusesBeforeTheProvider(t *testing.T) {
	t.Parallel()
	s := setup(t, "sqlite", providertest.KindMeta, nil, nil)
	withTemplates(t, s, orderUpdate)
	sent := s.fake.SentCount()
	short := map[string]any{"to": "+34600999003", "template": "order_update", "language": "es", "params": []string{"Ana"}}
	a := s.do(t, "POST", "/v1/messages", short, nil)
	if a.Status != 422 || a.errCode() != "template_params" || !strings.Contains(a.Raw, "body {{2}}: expected a value for {{2}}, got none") {
		t.Fatalf("short form missing a value: %d %s", a.Status, a.Raw)
	}
	comp := map[string]any{"to": "+34600999003", "type": "template", "template": map[string]any{"name": "order_update", "language": map[string]any{"code": "en_US"}}}
	a = s.do(t, "POST", "/v1/messages", comp, nil)
	if a.errCode() != "template_not_found" || !strings.Contains(a.Raw, `"languages":["es"]`) {
		t.Fatalf("unknown language: %s", a.Raw)
	}
	if s.fake.SentCount() != sent {
		t.Fatal("a refused template reached the provider")
	}
	short["params"] = []string{"Ana", "A-7"}
	a = s.do(t, "POST", "/v1/messages?wait=5s", short, nil)
	if a.Status != 200 || a.str("text") != "Hola Ana, tu pedido A-7 está en camino.\nTienda" {
		t.Fatalf("short form: %d %s", a.Status, a.Raw)
	}
	list := s.do(t, "GET", "/v1/templates?status=approved", nil, nil)
	if items, _ := list.Body["items"].([]any); len(items) != 1 || !strings.Contains(list.Raw, `"parameter_format":"POSITIONAL"`) {
		t.Fatalf("template list: %s", list.Raw)
	}
}

// TestTemplates_ProviderRefusalSyncsAndExplains: when the provider answers 132001 anyway, wagate syncs at once,
// checks again and says which it was; a 131047 says when the window closed.
func TestTemplates_ProviderRefusalSyncsAndExplains(t *testing.T) {
	t.Parallel()
	s := setup(t, "sqlite", providertest.KindMeta, nil, nil)
	withTemplates(t, s, orderUpdate)
	lists := func() int {
		n := 0
		for _, r := range s.fake.Requests() {
			if r.Endpoint == providertest.EndpointTemplates {
				n++
			}
		}
		return n
	}
	before := lists()
	s.fake.FailNext(providertest.EndpointSend, 1, providertest.Fault{Status: 404, Code: 132001, Title: "Template name does not exist in the translation"})
	short := map[string]any{"to": "+34696247355", "template": "order_update", "language": "es", "params": []string{"Ana", "A-1"}}
	a := s.do(t, "POST", "/v1/messages?wait=10s", short, nil)
	if a.errCode() != "template_rejected" {
		t.Fatalf("132001: %d %s", a.Status, a.Raw)
	}
	detail, _ := a.Body["error"].(map[string]any)["detail"].(string)
	if !strings.Contains(detail, "132001: the provider has no such template") || !strings.Contains(detail, "synced again and the message matches them now") {
		t.Fatalf("detail = %q", detail)
	}
	if lists() != before+1 {
		t.Fatalf("template lists: %d, want %d", lists(), before+1)
	}
	s.fake.FailNext(providertest.EndpointSend, 1, providertest.Fault{Status: 400, Code: 131047, Title: "Re-engagement message"})
	a = s.do(t, "POST", "/v1/messages?wait=10s", text("+34696247355", "Hola"), nil)
	detail, _ = a.Body["error"].(map[string]any)["detail"].(string)
	if a.errCode() != "window_closed" || !strings.Contains(detail, "last message recorded by wagate was at") || !strings.Contains(detail, "order_update (es)") {
		t.Fatalf("131047: %s", a.Raw)
	}
}

// TestTemplates_StatusWebhookSyncs: a template status webhook makes wagate read the templates again.
func TestTemplates_StatusWebhookSyncs(t *testing.T) {
	t.Parallel()
	s := setup(t, "sqlite", providertest.KindMeta, nil, nil)
	withTemplates(t, s, orderUpdate)
	s.fake.AddTemplate(providertest.Template{Name: "welcome", Language: "en_US"})
	body := fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"%s","time":%d,"changes":[{"field":"message_template_status_update",`+
		`"value":{"event":"APPROVED","message_template_id":1234,"message_template_name":"welcome","message_template_language":"en_US","reason":"NONE"}}]}]}`,
		s.fake.WABAID(), time.Now().Unix())
	if _, err := s.fake.PostWebhook(context.Background(), []byte(body)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the new template after the webhook", func() bool {
		list, err := s.inst.Store.TemplateList(context.Background(), "default")
		return err == nil && len(list) == 2
	})
	a := s.do(t, "POST", "/v1/messages?wait=5s", map[string]any{"to": "+34600999004", "template": "welcome", "language": "en_US"}, nil)
	if a.Status != 200 {
		t.Fatalf("send of the new template: %d %s", a.Status, a.Raw)
	}
}
