package providertest

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestStart_RejectsBadOptions(t *testing.T) {
	t.Parallel()
	for _, o := range []Options{
		{},
		{Kind: "twilio", APIKey: "k"},
		{Kind: KindMeta},
		{Kind: Kind360Dialog},
		{Kind: Kind360DialogOnPremise, AccessToken: "t"},
		{Kind: KindMeta, AccessToken: "t", APIVersion: "21"},
	} {
		if s, err := Start(o); err == nil {
			s.Close()
			t.Errorf("Start(%+v) succeeded", o)
		}
	}
}

func TestServer_ListensOnLoopback(t *testing.T) {
	t.Parallel()
	s, err := Start(Options{Kind: Kind360Dialog, APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u, err := url.Parse(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Errorf("URL %s is not on 127.0.0.1", s.URL())
	}
	s.Close() // twice is fine
}

func TestAuth_RejectsBadCredentials(t *testing.T) {
	t.Parallel()
	for _, k := range allKinds {
		t.Run(string(k), func(t *testing.T) {
			t.Parallel()
			b := setup(t, k, nil)
			for name, hdr := range map[string]map[string]string{
				"none":         nil,
				"wrong":        {"D360-API-KEY": "nope", "Authorization": "Bearer nope"},
				"other scheme": {"D360-API-KEY": "", "Authorization": "Basic " + testToken},
			} {
				r := call(t, http.MethodPost, b.fake.URL()+sendPath(k), hdr, textMsg(k, "hi"))
				if r.status != http.StatusUnauthorized {
					t.Errorf("%s: status %d, want 401", name, r.status)
				}
				m := r.json(t)
				if k == KindMeta {
					if get(m, "error", "code") != float64(190) || get(m, "error", "type") != "OAuthException" {
						t.Errorf("%s: Meta auth error body %s", name, r.body)
					}
					if r.header.Get("WWW-Authenticate") == "" {
						t.Errorf("%s: no WWW-Authenticate", name)
					}
				} else if get(m, "error") != "Invalid API key" {
					t.Errorf("%s: 360dialog auth error body %s", name, r.body)
				}
				if strings.Contains(string(r.body), testKey) || strings.Contains(string(r.body), testToken) {
					t.Errorf("%s: answer leaks the credential", name)
				}
			}
			if n := b.fake.SentCount(); n != 0 {
				t.Errorf("SentCount %d after rejected sends", n)
			}
		})
	}
}

func TestMeta_AcceptsAccessTokenQuery(t *testing.T) {
	t.Parallel()
	b := setup(t, KindMeta, nil)
	r := call(t, http.MethodPost, b.fake.URL()+sendPath(KindMeta)+"?access_token="+testToken, nil,
		textMsg(KindMeta, "hi"))
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
}

func TestSend_SuccessShape(t *testing.T) {
	t.Parallel()
	for _, k := range allKinds {
		t.Run(string(k), func(t *testing.T) {
			t.Parallel()
			b := setup(t, k, func(o *Options) { o.Receipts = []string{} })
			body := textMsg(k, "Hello")
			r := call(t, http.MethodPost, b.fake.URL()+sendPath(k), auth(k), body)
			m := r.json(t)
			id, _ := get(m, "messages", 0, "id").(string)
			if k.cloud() {
				if r.status != http.StatusOK {
					t.Fatalf("status %d: %s", r.status, r.body)
				}
				if get(m, "messaging_product") != "whatsapp" || get(m, "contacts", 0, "input") != testTo ||
					get(m, "contacts", 0, "wa_id") != testWAID || !strings.HasPrefix(id, "wamid.") {
					t.Errorf("Cloud success body %s", r.body)
				}
			} else {
				if r.status/100 != 2 {
					t.Fatalf("status %d: %s", r.status, r.body)
				}
				if id == "" || strings.HasPrefix(id, "wamid.") || get(m, "meta", "api_status") != "stable" ||
					get(m, "contacts") != nil {
					t.Errorf("On-Premise success body %s", r.body)
				}
			}
			sent := b.fake.Sent()
			if len(sent) != 1 || sent[0].ID != id || sent[0].Type != "text" || sent[0].WAID != testWAID ||
				string(sent[0].Body) != string(body) || sent[0].At.IsZero() {
				t.Errorf("Sent() = %+v", sent)
			}
			reqs := b.fake.Requests()
			if len(reqs) != 1 || reqs[0].Endpoint != EndpointSend || reqs[0].Status != r.status ||
				reqs[0].Header.Get("Content-Type") != "application/json" {
				t.Errorf("Requests() = %+v", reqs)
			}
		})
	}
}

func TestSend_AcceptsEveryMessageType(t *testing.T) {
	t.Parallel()
	media := map[string]any{"id": "123456"}
	bodies := map[string]map[string]any{
		"image":    {"type": "image", "image": map[string]any{"link": "https://example.com/a.jpg", "caption": "c"}},
		"document": {"type": "document", "document": map[string]any{"id": "1", "filename": "a.pdf"}},
		"audio":    {"type": "audio", "audio": media},
		"video":    {"type": "video", "video": media},
		"sticker":  {"type": "sticker", "sticker": media},
		"location": {"type": "location", "location": map[string]any{"latitude": 52.5, "longitude": "13.4"}},
		"contacts": {"type": "contacts", "contacts": []any{map[string]any{"name": map[string]any{"formatted_name": "A"}}}},
		"buttons": {"type": "interactive", "interactive": map[string]any{"type": "button",
			"body": map[string]any{"text": "Pick"}, "action": map[string]any{"buttons": []any{
				map[string]any{"type": "reply", "reply": map[string]any{"id": "a", "title": "A"}},
				map[string]any{"type": "reply", "reply": map[string]any{"id": "b", "title": "B"}}}}}},
		"list": {"type": "interactive", "interactive": map[string]any{"type": "list",
			"header": map[string]any{"type": "text", "text": "H"}, "body": map[string]any{"text": "Pick"},
			"footer": map[string]any{"text": "F"}, "action": map[string]any{"button": "Open", "sections": []any{
				map[string]any{"title": "S", "rows": []any{map[string]any{"id": "r", "title": "R", "description": "d"}}}}}}},
		"cta": {"type": "interactive", "interactive": map[string]any{"type": "cta_url",
			"body": map[string]any{"text": "Go"}, "action": map[string]any{"name": "cta_url",
				"parameters": map[string]any{"display_text": "Open", "url": "https://example.com"}}}},
		"reaction": {"type": "reaction", "reaction": map[string]any{"message_id": "wamid.X", "emoji": ""}},
		"reply":    {"type": "text", "text": map[string]any{"body": "re"}, "context": map[string]any{"message_id": "wamid.Y"}},
		"no type":  {"text": map[string]any{"body": "defaults to text"}},
	}
	for _, k := range allKinds {
		t.Run(string(k), func(t *testing.T) {
			t.Parallel()
			b := setup(t, k, func(o *Options) { o.Receipts = []string{} })
			for name, fields := range bodies {
				r := call(t, http.MethodPost, b.fake.URL()+sendPath(k), auth(k), msgBody(k, fields))
				if r.status/100 != 2 {
					t.Errorf("%s: %d %s", name, r.status, r.body)
				}
			}
			tmpl := map[string]any{"name": "order_update", "language": map[string]any{"code": "en_US"},
				"components": []any{map[string]any{"type": "body", "parameters": []any{
					map[string]any{"type": "text", "text": "Ana"}}}}}
			if k == Kind360DialogOnPremise {
				tmpl["namespace"] = "ns"
				tmpl["language"] = map[string]any{"code": "en_US", "policy": "deterministic"}
			}
			r := call(t, http.MethodPost, b.fake.URL()+sendPath(k), auth(k),
				msgBody(k, map[string]any{"type": "template", "template": tmpl}))
			if r.status/100 != 2 {
				t.Errorf("template: %d %s", r.status, r.body)
			}
		})
	}
}

func TestSend_ValidatesLikeTheProvider(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 4097)
	button := func(id string) map[string]any {
		return map[string]any{"type": "reply", "reply": map[string]any{"id": id, "title": "T"}}
	}
	type tc struct {
		name   string
		fields map[string]any
		code   int // Cloud code (On-Premise in onCode)
		onCode int
		text   string
	}
	cases := []tc{
		{"to missing", map[string]any{"to": nil, "type": "text", "text": map[string]any{"body": "x"}}, 100, 1008, "to"},
		{"to not a number", map[string]any{"to": "abc", "type": "text", "text": map[string]any{"body": "x"}}, 131009, 1009, "to"},
		{"unknown type", map[string]any{"type": "poll", "poll": map[string]any{}}, 100, 1009, "type"},
		{"type object missing", map[string]any{"type": "image"}, 100, 1008, "image"},
		{"text body missing", map[string]any{"type": "text", "text": map[string]any{}}, 100, 1008, "text['body']"},
		{"text too long", map[string]any{"type": "text", "text": map[string]any{"body": long}}, 100, 1001, "4096"},
		{"caption too long", map[string]any{"type": "image", "image": map[string]any{"id": "1", "caption": long[:1025*2]}}, 100, 1009, "1024"},
		{"media id and link", map[string]any{"type": "image", "image": map[string]any{"id": "1", "link": "https://x.y/a"}}, 100, 1009, "not both"},
		{"media neither", map[string]any{"type": "video", "video": map[string]any{"caption": "c"}}, 100, 1008, "video['id']"},
		{"media bad link", map[string]any{"type": "audio", "audio": map[string]any{"link": "ftp://x"}}, 100, 1009, "link"},
		{"four buttons", map[string]any{"type": "interactive", "interactive": map[string]any{"type": "button",
			"body": map[string]any{"text": "b"}, "action": map[string]any{"buttons": []any{
				button("1"), button("2"), button("3"), button("4")}}}}, 100, 1009, "at most 3"},
		{"button title too long", map[string]any{"type": "interactive", "interactive": map[string]any{"type": "button",
			"body": map[string]any{"text": "b"}, "action": map[string]any{"buttons": []any{
				map[string]any{"type": "reply", "reply": map[string]any{"id": "1", "title": strings.Repeat("t", 21)}}}}}},
			100, 1009, "20"},
		{"interactive body missing", map[string]any{"type": "interactive", "interactive": map[string]any{"type": "button",
			"action": map[string]any{"buttons": []any{button("1")}}}}, 100, 1008, "interactive['body']"},
		{"list eleven rows", map[string]any{"type": "interactive", "interactive": map[string]any{"type": "list",
			"body": map[string]any{"text": "b"}, "action": map[string]any{"button": "x", "sections": []any{
				map[string]any{"rows": func() []any {
					var rows []any
					for i := range 11 {
						rows = append(rows, map[string]any{"id": string(rune('a' + i)), "title": "t"})
					}
					return rows
				}()}}}}}, 100, 1009, "10"},
		{"template name missing", map[string]any{"type": "template", "template": map[string]any{
			"language": map[string]any{"code": "en"}}}, 100, 1008, "template['name']"},
		{"template language code missing", map[string]any{"type": "template", "template": map[string]any{
			"name": "t", "namespace": "ns", "language": map[string]any{"policy": "deterministic"}}}, 100, 1008,
			"template['language']['code']"},
		{"reaction message_id missing", map[string]any{"type": "reaction", "reaction": map[string]any{"emoji": "👍"}},
			100, 1008, "reaction['message_id']"},
		{"location out of range", map[string]any{"type": "location", "location": map[string]any{"latitude": 91, "longitude": 0}},
			100, 1009, "latitude"},
		{"contact without name", map[string]any{"type": "contacts", "contacts": []any{map[string]any{}}}, 100, 1008, "name"},
	}
	for _, k := range allKinds {
		t.Run(string(k), func(t *testing.T) {
			t.Parallel()
			b := setup(t, k, func(o *Options) { o.Receipts = []string{} })
			for _, c := range cases {
				code := c.code
				if !k.cloud() {
					code = c.onCode
				}
				r := call(t, http.MethodPost, b.fake.URL()+sendPath(k), auth(k), msgBody(k, c.fields))
				t.Run(c.name, func(t *testing.T) { wantError(t, k, r, http.StatusBadRequest, code, c.text) })
			}
			// Kind-specific envelope rules.
			if k.cloud() {
				r := call(t, http.MethodPost, b.fake.URL()+sendPath(k), auth(k),
					msgBody(k, map[string]any{"messaging_product": nil, "type": "text", "text": map[string]any{"body": "x"}}))
				wantError(t, k, r, http.StatusBadRequest, 100, "(#100) The parameter messaging_product is required.")
				r = call(t, http.MethodPost, b.fake.URL()+sendPath(k), auth(k), []byte("{not json"))
				wantError(t, k, r, http.StatusBadRequest, 100, "Invalid parameter")
			} else {
				r := call(t, http.MethodPost, b.fake.URL()+sendPath(k), auth(k),
					msgBody(k, map[string]any{"messaging_product": "whatsapp", "type": "text", "text": map[string]any{"body": "x"}}))
				wantError(t, k, r, http.StatusBadRequest, 1010, "messaging_product")
				r = call(t, http.MethodPost, b.fake.URL()+sendPath(k), auth(k), msgBody(k, map[string]any{
					"type": "template", "template": map[string]any{"name": "t", "language": map[string]any{"code": "en", "policy": "deterministic"}}}))
				wantError(t, k, r, http.StatusBadRequest, 1008, "namespace")
				r = call(t, http.MethodPost, b.fake.URL()+sendPath(k), auth(k), msgBody(k, map[string]any{
					"recipient_type": "group", "type": "text", "text": map[string]any{"body": "x"}}))
				wantError(t, k, r, http.StatusBadRequest, 1002, "recipient")
			}
			if n := b.fake.SentCount(); n != 0 {
				t.Errorf("SentCount %d after invalid sends", n)
			}
		})
	}
}

func TestMeta_PathErrorsLikeGraph(t *testing.T) {
	t.Parallel()
	b := setup(t, KindMeta, func(o *Options) { o.APIVersion = "v21.0" })
	r := call(t, http.MethodPost, b.fake.URL()+"/v21.0/999/messages", auth(KindMeta), textMsg(KindMeta, "x"))
	wantError(t, KindMeta, r, http.StatusBadRequest, 100, "Object with ID '999' does not exist")
	if m := r.json(t); get(m, "error", "error_subcode") != float64(33) || get(m, "error", "type") != "GraphMethodException" {
		t.Errorf("wrong phone number id body %s", r.body)
	}
	r = call(t, http.MethodPost, b.fake.URL()+"/v19.0/"+DefaultPhoneNumberID+"/messages", auth(KindMeta), textMsg(KindMeta, "x"))
	wantError(t, KindMeta, r, http.StatusBadRequest, 2500, "Unknown path components")
	r = call(t, http.MethodGet, b.fake.URL()+"/v21.0/"+DefaultPhoneNumberID+"/messages", auth(KindMeta), nil)
	wantError(t, KindMeta, r, http.StatusBadRequest, 100, "Unsupported get request")
}

func TestTemplates_CheckedOnceKnown(t *testing.T) {
	t.Parallel()
	for _, k := range []Kind{KindMeta, Kind360Dialog} {
		t.Run(string(k), func(t *testing.T) {
			t.Parallel()
			b := setup(t, k, func(o *Options) { o.Receipts = []string{} })
			b.fake.AddTemplate(Template{Name: "order_update", Language: "en_US"},
				Template{Name: "promo", Language: "en_US", Status: "PAUSED"})
			tmpl := func(name string) []byte {
				return msgBody(k, map[string]any{"type": "template", "template": map[string]any{
					"name": name, "language": map[string]any{"code": "en_US"}}})
			}
			r := call(t, http.MethodPost, b.fake.URL()+sendPath(k), auth(k), tmpl("order_update"))
			if r.status != http.StatusOK || get(r.json(t), "messages", 0, "message_status") != "accepted" {
				t.Errorf("approved template: %d %s", r.status, r.body)
			}
			r = call(t, http.MethodPost, b.fake.URL()+sendPath(k), auth(k), tmpl("nope"))
			wantError(t, k, r, http.StatusNotFound, 132001, "does not exist")
			r = call(t, http.MethodPost, b.fake.URL()+sendPath(k), auth(k), tmpl("promo"))
			wantError(t, k, r, http.StatusBadRequest, 132015, "Paused")

			list := "/v1/configs/templates"
			if k == KindMeta {
				list = "/v21.0/" + DefaultWABAID + "/message_templates"
			}
			r = call(t, http.MethodGet, b.fake.URL()+list, auth(k), nil)
			key := "waba_templates"
			if k == KindMeta {
				key = "data"
			}
			if items, _ := get(r.json(t), key).([]any); len(items) != 2 {
				t.Errorf("template list: %s", r.body)
			}
		})
	}
}

func TestMarkRead(t *testing.T) {
	t.Parallel()
	for _, k := range allKinds {
		t.Run(string(k), func(t *testing.T) {
			t.Parallel()
			b := setup(t, k, nil)
			read := func(id string) response {
				if k == Kind360DialogOnPremise {
					return call(t, http.MethodPut, b.fake.URL()+"/v1/messages/"+url.PathEscape(id), auth(k),
						[]byte(`{"status":"read"}`))
				}
				body, _ := json.Marshal(map[string]string{"messaging_product": "whatsapp", "status": "read", "message_id": id})
				return call(t, http.MethodPost, b.fake.URL()+sendPath(k), auth(k), body)
			}
			r := read("wamid.unknown")
			if k.cloud() {
				wantError(t, k, r, http.StatusBadRequest, 131009, "message_id")
			} else {
				wantError(t, k, r, http.StatusNotFound, 1006, "not found")
			}

			id, err := b.fake.PostInbound(ctxTimeout(t), "+4915123456789", "hello")
			if err != nil {
				t.Fatal(err)
			}
			var inbound int
			b.recv.mu.Lock()
			for _, h := range b.recv.hooks {
				for _, c := range h.Changes {
					for _, m := range c.Messages {
						if m.ID == id && m.Text == "hello" && m.From == testWAID {
							inbound++
						}
					}
				}
			}
			b.recv.mu.Unlock()
			if inbound != 1 {
				t.Errorf("receiver got the inbound message %d times", inbound)
			}
			r = read(id)
			if r.status != http.StatusOK {
				t.Fatalf("read: %d %s", r.status, r.body)
			}
			if k.cloud() && get(r.json(t), "success") != true {
				t.Errorf("Cloud read answer %s", r.body)
			}
			if got := b.fake.Reads(); len(got) != 1 || got[0] != id {
				t.Errorf("Reads() = %v", got)
			}
			if k.cloud() {
				if reqs := b.fake.Requests(); reqs[len(reqs)-1].Endpoint != EndpointRead {
					t.Errorf("read classified as %q", reqs[len(reqs)-1].Endpoint)
				}
			}
			if b.fake.SentCount() != 0 {
				t.Error("a read counted as a send")
			}
			b.recv.checkNoProblems(t)
		})
	}
}

func TestServer_AnswersOddRequests(t *testing.T) {
	t.Parallel()
	odd := []struct{ method, path, body string }{
		{"GET", "/", ""},
		{"DELETE", "/messages", ""},
		{"POST", "/v1/messages/x/y", "[]"},
		{"PUT", "/v1/messages/", "null"},
		{"POST", "/v21.0", "{}"},
		{"POST", "/v21.0/" + DefaultPhoneNumberID + "/messages", `{"messaging_product":"whatsapp","status":5}`},
		{"POST", "/v21.0/" + DefaultPhoneNumberID + "/messages", `{"messaging_product":"whatsapp","to":1,"type":[]}`},
		{"POST", "/messages", `{"messaging_product":"whatsapp","to":"491234567","type":"interactive","interactive":{"type":"list","body":{"text":"x"},"action":{"button":"b","sections":[1,{"rows":[null]}]}}}`},
		{"POST", "/v1/messages", `{"to":"491234567","type":"template","template":{"name":"n","namespace":"x","language":"en"}}`},
		{"GET", "/whatsapp_business/attachments/?mid=&ext=x&hash=", ""},
		{"POST", "/v1/configs/webhook", `{"url":5}`},
		{"POST", "/media", "--x--"},
		{"GET", "/%2e%2e/etc/passwd", ""},
	}
	for _, k := range allKinds {
		b := setup(t, k, nil)
		for _, o := range odd {
			r := call(t, o.method, b.fake.URL()+o.path, auth(k), []byte(o.body))
			if r.status == 0 || r.status >= 500 {
				t.Errorf("%s %s %s: %d %s", k, o.method, o.path, r.status, r.body)
			}
		}
	}
}
