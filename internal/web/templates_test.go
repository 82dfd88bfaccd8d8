package web_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/server/servertest"
	"github.com/wagate/wagate/internal/store"
)

// tplSetup starts wagate in demo mode with a director and an agent, and with the demo templates synced.
func tplSetup(t *testing.T) *servertest.Instance {
	t.Helper()
	inst := setup(t)
	for _, res := range inst.Server.Sender().Templates().SyncAll(context.Background()) {
		if res.Error != "" || res.Count != 8 {
			t.Fatalf("sync: %+v", res)
		}
	}
	return inst
}

// oldConversation makes a conversation whose 24-hour window closed long ago: the contact's only message is
// two days old (its webhook's timestamp). It returns the conversation.
func tplOldConversation(t *testing.T, inst *servertest.Instance, phone string) store.Conversation {
	t.Helper()
	digits := strings.TrimPrefix(phone, "+")
	ts := time.Now().Add(-48 * time.Hour).Unix()
	body := fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"34600000000","phone_number_id":"1"},"contacts":[{"profile":{"name":"Ana Ruiz"},"wa_id":"%s"}],"messages":[{"from":"%s","id":"wamid.old%s","timestamp":"%d","type":"text","text":{"body":"¿Dónde está mi pedido?"}}]}}]}]}`,
		digits, digits, digits, ts)
	resp, err := http.Post(inst.URL+"/webhooks/whatsapp", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook: %d", resp.StatusCode)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		page, err := inst.Store.ConversationSearch(context.Background(), store.ConversationQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Items {
			if c.Contact.Phone == phone {
				if c.WindowOpen(time.Now()) {
					t.Fatalf("the conversation's window is open: %+v", c)
				}
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no conversation with %s", phone)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// client is a signed-in HTTP client of the UI with its session's CSRF token.
type tplClient struct {
	t    testing.TB
	base string
	c    *http.Client
	csrf string
}

var (
	tplReHiddenCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	tplReHXCSRF     = regexp.MustCompile(`X-CSRF-Token&#34;:&#34;([^&]+)&#34;|X-CSRF-Token":"([^"]+)"`)
)

// signIn signs in over HTTP as email.
func tplSignIn(t testing.TB, base, email, password string) *tplClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &tplClient{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	_, page := c.do("GET", "/login", nil, "")
	m := tplReHiddenCSRF.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf on the sign-in page:\n%s", page)
	}
	code, page := c.do("POST", "/login", url.Values{"email": {email}, "password": {password}, "csrf": {m[1]}}, "")
	if code != http.StatusOK || !strings.Contains(page, `header class="top"`) {
		t.Fatalf("sign in as %s: %d\n%s", email, code, page)
	}
	hm := tplReHXCSRF.FindStringSubmatch(page)
	if hm == nil {
		t.Fatalf("no session csrf token:\n%s", page)
	}
	c.csrf = hm[1] + hm[2]
	return c
}

// do sends a request (a form when form is not nil) and returns the status and the body. csrf is sent as the
// X-CSRF-Token header when not "".
func (c *tplClient) do(method, path string, form url.Values, csrf string, hdr ...string) (int, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestTemplates_SyncIsForDirectorsWithCSRF(t *testing.T) {
	t.Parallel()
	inst := setup(t)
	agent := tplSignIn(t, inst.URL, "alex@example.com", "agent-password")
	director := tplSignIn(t, inst.URL, "dora@example.com", "director-password")

	code, page := agent.do("GET", "/templates", nil, "")
	if code != http.StatusOK || !regexp.MustCompile(`id="tpl-sync" disabled`).MatchString(page) {
		t.Fatalf("agent's templates page: %d, sync button not disabled\n%s", code, page)
	}
	if code, page = agent.do("POST", "/templates/sync", url.Values{}, agent.csrf); code != http.StatusForbidden ||
		!strings.Contains(page, "Only directors") {
		t.Fatalf("agent sync: %d\n%s", code, page)
	}
	if code, _ = director.do("POST", "/templates/sync", url.Values{}, ""); code != http.StatusForbidden {
		t.Fatalf("director sync without CSRF token: %d", code)
	}
	if code, _ = director.do("POST", "/templates/sync", url.Values{}, agent.csrf); code != http.StatusForbidden {
		t.Fatalf("director sync with another session's CSRF token: %d", code)
	}
	code, page = director.do("POST", "/templates/sync", url.Values{"csrf": {director.csrf}, "channel": {"default"}}, "")
	if code != http.StatusOK || !strings.Contains(page, "default: 8 templates read, 6 of them approved.") {
		t.Fatalf("director sync: %d\n%s", code, page)
	}
	if code, page = director.do("POST", "/templates/sync", url.Values{"channel": {"nope"}}, director.csrf); code != http.StatusUnprocessableEntity ||
		!strings.Contains(page, "There is no channel called nope") {
		t.Fatalf("sync of an unknown channel: %d\n%s", code, page)
	}
	if code, page = director.do("GET", "/templates?status=rejected", nil, ""); code != http.StatusOK ||
		!strings.Contains(page, `data-name="winback_offer"`) || strings.Contains(page, `data-name="hello_world"`) ||
		!strings.Contains(page, "Reason: PROMOTIONAL") {
		t.Fatalf("rejected filter: %d\n%s", code, page)
	}
}

func TestTemplatePicker_SendChecksCSRFAndParameters(t *testing.T) {
	t.Parallel()
	inst := tplSetup(t)
	conv := tplOldConversation(t, inst, "+34600555111")
	agent := tplSignIn(t, inst.URL, "alex@example.com", "agent-password")
	path := "/inbox/" + conv.ID + "/templates"

	code, page := agent.do("GET", path+"/form?template="+url.QueryEscape("order_update|es"), nil, "", "HX-Request", "true")
	if code != http.StatusOK || strings.Contains(page, "<html") {
		t.Fatalf("form fragment: %d\n%s", code, page)
	}
	key := regexp.MustCompile(`name="key" value="([^"]+)"`).FindStringSubmatch(page)
	if key == nil || !strings.Contains(page, `name="p.3"`) || !strings.Contains(page, "e.g. Ana") {
		t.Fatalf("form: %s", page)
	}
	form := url.Values{"template": {"order_update|es"}, "key": {key[1]}, "p.1": {"Ana"}, "p.2": {"A-77"}, "p.3": {"  "}}

	// Without the session's token nothing is sent.
	if code, _ = agent.do("POST", path, form, ""); code != http.StatusForbidden {
		t.Fatalf("send without CSRF token: %d", code)
	}
	// A missing value is refused before anything is queued, next to its field.
	code, page = agent.do("POST", path, form, agent.csrf)
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, "1 value is wrong or missing") ||
		!regexp.MustCompile(`(?s)class="tpl-field invalid">Body · \{\{3\}\}.*Fill this in`).MatchString(page) {
		t.Fatalf("send with a missing value: %d\n%s", code, page)
	}
	if n := tplMessages(t, inst, conv.ID); len(n) != 0 {
		t.Fatalf("a refused send stored %d messages", len(n))
	}
	form.Set("p.3", "viernes")
	code, page = agent.do("POST", path, form, agent.csrf, "HX-Request", "true")
	if code != http.StatusOK || !strings.Contains(html.UnescapeString(page), "Template sent to +34600555111") {
		t.Fatalf("send: %d\n%s", code, page)
	}
	// The same form sent twice (a double click) is one message.
	if code, _ = agent.do("POST", path, form, agent.csrf, "HX-Request", "true"); code != http.StatusOK {
		t.Fatalf("second send: %d", code)
	}
	msgs := tplMessages(t, inst, conv.ID)
	want := "Hola Ana, tu pedido A-77 ha salido del almacén y llegará el viernes.\nResponde STOP para no recibir avisos"
	if len(msgs) != 1 || msgs[0].Text != want {
		t.Fatalf("stored template messages: %+v", msgs)
	}
	// The preview renders what the contact reads, escaped.
	form.Set("p.1", "<b>Ana</b>")
	code, page = agent.do("POST", path+"/preview", form, agent.csrf, "HX-Request", "true")
	if code != http.StatusOK || !strings.Contains(page, "&lt;b&gt;Ana&lt;/b&gt;") || !strings.Contains(page, "Ready to send") {
		t.Fatalf("preview: %d\n%s", code, page)
	}
	if !strings.Contains(html.UnescapeString(page), "Hola <b>Ana</b>, tu pedido A-77") {
		t.Fatalf("preview text: %s", page)
	}
	// The picker's own sync is for directors, like the page's.
	if code, _ = agent.do("POST", path+"/sync", url.Values{}, agent.csrf); code != http.StatusForbidden {
		t.Fatalf("agent's picker sync: %d", code)
	}
	director := tplSignIn(t, inst.URL, "dora@example.com", "director-password")
	if code, page = director.do("POST", path+"/sync", url.Values{}, director.csrf, "HX-Request", "true"); code != http.StatusOK ||
		!strings.Contains(page, "default: 8 templates read") || !strings.Contains(page, `id="tpl-select"`) {
		t.Fatalf("director's picker sync: %d\n%s", code, page)
	}
}

// templateMessages are the template messages stored on a conversation.
func tplMessages(t *testing.T, inst *servertest.Instance, convID string) []store.Message {
	t.Helper()
	page, err := inst.Store.MessageSearch(context.Background(), store.MessageQuery{ConversationID: convID, Direction: store.DirectionOut, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Message
	for _, m := range page.Items {
		if m.Type == "template" {
			out = append(out, m)
		}
	}
	return out
}
