package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wagate/wagate/internal/provider/demo"
)

// notifyReply is the notify endpoint's envelope.
type notifyReply struct {
	Message     string `json:"message"`
	Error       string `json:"error"`
	ID          string `json:"id"`
	Status      string `json:"status"`
	WAMID       string `json:"wamid"`
	PhoneNumber string `json:"phoneNumber"`
}

func TestNotify_SendsTemplate(t *testing.T) {
	t.Parallel()
	inst := startDemo(t, map[string]string{"WHATSAPP_DEFAULT_RECIPIENT": "+34696247355"})
	body := `{"phoneNumber":"+972525551234","templateName":"maintenance_visit","languageCode":"he",
		"headerParameters":{"type":"image","image":{"link":"https://example.com/van.jpg"}},
		"templateParameters":[{"type":"text","text":"Dana"},"Tuesday 10:00"]}`
	r := post(t, inst.URL, "/v1/whatsapp/notify", bearer(compatToken), body, true)
	var ok notifyReply
	r.json(t, &ok)
	if r.status != 200 || ok.Message == "" || ok.Error != "" || ok.ID == "" || ok.PhoneNumber != "+972525551234" ||
		!strings.HasPrefix(ok.WAMID, "wamid.") {
		t.Fatalf("%d %s", r.status, r.body)
	}
	m := storedMessage(t, inst, r)
	var tmpl struct {
		Name     string `json:"name"`
		Language struct {
			Code string `json:"code"`
		} `json:"language"`
		Components []struct {
			Type       string            `json:"type"`
			Parameters []json.RawMessage `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(m.Payload, &tmpl); err != nil {
		t.Fatal(err)
	}
	if m.Type != "template" || tmpl.Name != "maintenance_visit" || tmpl.Language.Code != "he" || len(tmpl.Components) != 2 ||
		tmpl.Components[0].Type != "header" || tmpl.Components[1].Type != "body" || len(tmpl.Components[1].Parameters) != 2 ||
		!strings.Contains(string(tmpl.Components[1].Parameters[1]), `"Tuesday 10:00"`) {
		t.Fatalf("stored %s %s", m.Type, m.Payload)
	}

	// No phoneNumber: the default recipient; no languageCode: en_US.
	r = post(t, inst.URL, "/v1/whatsapp/notify", bearer(compatToken), `{"templateName":"hello_world"}`, false)
	ok = notifyReply{}
	r.json(t, &ok)
	if r.status != 200 || ok.PhoneNumber != "+34696247355" {
		t.Fatalf("default recipient: %d %s", r.status, r.body)
	}
	if m := storedMessage(t, inst, r); !strings.Contains(string(m.Payload), `"en_US"`) {
		t.Fatalf("default language: %s", m.Payload)
	}
}

func TestNotify_Errors(t *testing.T) {
	t.Parallel()
	inst := startDemo(t, nil)
	cases := []struct {
		name, token, body string
		status            int
		want              string // in error
	}{
		{"no token", "", `{"templateName":"x","phoneNumber":"+34696247355"}`, 401, "token"},
		{"wrong token", "nope", `{"templateName":"x","phoneNumber":"+34696247355"}`, 401, "token"},
		{"no plus", compatToken, `{"templateName":"x","phoneNumber":"972525551234"}`, 400, `"+972525551234"`},
		{"spaces", compatToken, `{"templateName":"x","phoneNumber":"+972 52 555 1234"}`, 400, "E.164"},
		{"not a number", compatToken, `{"templateName":"x","phoneNumber":"+12"}`, 400, "E.164"},
		{"number as JSON number", compatToken, `{"templateName":"x","phoneNumber":972525551234}`, 400, "phoneNumber must be a string"},
		{"no recipient and no default", compatToken, `{"templateName":"x"}`, 400, "WHATSAPP_DEFAULT_RECIPIENT"},
		{"no template", compatToken, `{"phoneNumber":"+34696247355"}`, 400, "templateName is required"},
		{"bad template name", compatToken, `{"phoneNumber":"+34696247355","templateName":"Hello World"}`, 400, "templateName"},
		{"bad language", compatToken, `{"phoneNumber":"+34696247355","templateName":"x","languageCode":"english"}`, 400, "languageCode"},
		{"unknown field", compatToken, `{"phoneNumber":"+34696247355","templateName":"x","components":[]}`, 400, `"components" is not a field`},
		{"bad parameter", compatToken, `{"phoneNumber":"+34696247355","templateName":"x","templateParameters":[{"type":"text"}]}`, 400, "templateParameters[0]"},
		{"parameters not a list", compatToken, `{"phoneNumber":"+34696247355","templateName":"x","templateParameters":7}`, 400, "templateParameters"},
		{"not JSON", compatToken, `{"phoneNumber":`, 400, "JSON"},
		{"empty", compatToken, ``, 400, "empty"},
		{"array", compatToken, `[]`, 400, "object"},
		{"too large", compatToken, `{"templateName":"x","phoneNumber":"+34696247355","templateParameters":["` + strings.Repeat("a", 1<<20) + `"]}`, 400, "1 MiB"},
		{"provider refuses", compatToken, `{"templateName":"x","phoneNumber":"` + demo.WindowClosed + `"}`, 400, "131047"},
		{"provider credentials", compatToken, `{"templateName":"x","phoneNumber":"` + demo.TokenExpired + `"}`, 500, "credentials"},
	}
	for _, c := range cases {
		r := post(t, inst.URL, "/v1/whatsapp/notify", bearer(c.token), c.body, false)
		var e notifyReply
		r.json(t, &e)
		if r.status != c.status || e.Message == "" || !strings.Contains(e.Error, c.want) {
			t.Fatalf("%s: %d %s", c.name, r.status, r.body)
		}
		if strings.Contains(string(r.body), compatToken) {
			t.Fatalf("%s: the answer shows the token", c.name)
		}
	}
}
