package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/wa"
)

// mustParse parses body and fails the test on error.
func mustParse(t *testing.T, body string) wa.Webhook {
	t.Helper()
	w, err := Parse([]byte(body))
	if err != nil {
		t.Fatalf("Parse: %v\nbody: %s", err, body)
	}
	return w
}

// readTestdata returns the content of testdata/name.
func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// compact returns raw with insignificant space removed, for comparing JSON by content.
func compact(t *testing.T, raw []byte) string {
	t.Helper()
	if len(raw) == 0 {
		return ""
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatalf("compact %q: %v", raw, err)
	}
	return b.String()
}

func TestParse_Errors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body string
		want       error
	}{
		{"empty", "", ErrMalformed},
		{"spaces", " \n\t", ErrMalformed},
		{"invalid JSON", `{"entry":[`, ErrMalformed},
		{"trailing garbage", `{"entry":[]} x`, ErrMalformed},
		{"not JSON", "hello", ErrMalformed},
		{"array", `[{"entry":[]}]`, ErrUnrecognized},
		{"string", `"entry"`, ErrUnrecognized},
		{"number", `42`, ErrUnrecognized},
		{"null", `null`, ErrUnrecognized},
		{"empty object", `{}`, ErrUnrecognized},
		{"other object", `{"object":"whatsapp_business_account","data":[]}`, ErrUnrecognized},
		{"gateway error", `{"error":"invalid api key"}`, ErrUnrecognized},
		{"entry not array", `{"object":"whatsapp_business_account","entry":{"id":"1"}}`, ErrMalformed},
		{"entry element not object", `{"entry":[1]}`, ErrMalformed},
		{"changes not array", `{"entry":[{"id":"1","changes":{}}]}`, ErrMalformed},
		{"change not object", `{"entry":[{"id":"1","changes":["messages"]}]}`, ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w, err := Parse([]byte(c.body))
			if !errors.Is(err, c.want) {
				t.Fatalf("Parse(%q) error = %v, want %v", c.body, err, c.want)
			}
			if w.Shape != "" || w.Changes != nil {
				t.Errorf("Parse(%q) returned data with an error: %+v", c.body, w)
			}
		})
	}
}

func TestParse_ShapeDetection(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body string
		want       wa.Shape
		changes    int
	}{
		{"cloud", `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{}}]}]}`, wa.ShapeCloud, 1},
		{"cloud without object", `{"entry":[{"id":"1","changes":[{"value":{}}]}]}`, wa.ShapeCloud, 1},
		{"cloud empty entry", `{"object":"whatsapp_business_account","entry":[]}`, wa.ShapeCloud, 0},
		{"cloud null entry", `{"entry":null}`, wa.ShapeCloud, 0},
		{"cloud entry without changes", `{"entry":[{"id":"1"}]}`, wa.ShapeCloud, 0},
		{"cloud change without value", `{"entry":[{"id":"1","changes":[{"field":"messages"}]}]}`, wa.ShapeCloud, 1},
		{"onprem messages", `{"messages":[]}`, wa.ShapeOnPremise, 1},
		{"onprem statuses", `{"statuses":[]}`, wa.ShapeOnPremise, 1},
		{"onprem contacts only", `{"contacts":[{"wa_id":"1"}]}`, wa.ShapeOnPremise, 1},
		{"onprem errors", `{"errors":[{"code":1}]}`, wa.ShapeOnPremise, 1},
		{"entry wins over root messages", `{"entry":[],"messages":[]}`, wa.ShapeCloud, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := mustParse(t, c.body)
			if w.Shape != c.want || len(w.Changes) != c.changes {
				t.Fatalf("got shape %q with %d changes, want %q with %d", w.Shape, len(w.Changes), c.want, c.changes)
			}
			for _, ch := range w.Changes {
				if ch.Field != "messages" {
					t.Errorf("Field = %q, want messages", ch.Field)
				}
			}
		})
	}
}

func TestParse_CloudMultipleEntriesAndChanges(t *testing.T) {
	t.Parallel()
	w, err := Parse(readTestdata(t, "cloud_multi.json"))
	if err != nil {
		t.Fatal(err)
	}
	if w.Shape != wa.ShapeCloud || len(w.Changes) != 4 {
		t.Fatalf("shape %q, %d changes; want cloud, 4", w.Shape, len(w.Changes))
	}
	c0, c1, c2, c3 := w.Changes[0], w.Changes[1], w.Changes[2], w.Changes[3]

	if c0.WABAID != "111" || c0.PhoneNumberID != "PN1" || c0.DisplayPhoneNumber != "15550001111" {
		t.Errorf("change 0 routing = %q %q %q", c0.WABAID, c0.PhoneNumberID, c0.DisplayPhoneNumber)
	}
	if len(c0.Messages) != 2 || c0.Messages[0].ID != "wamid.A1" || c0.Messages[1].Text != "two" {
		t.Errorf("change 0 messages = %+v", c0.Messages)
	}
	wantContact := wa.Contact{WAID: "4915112345678", UserID: "DE.111", Name: "Ann"}
	if len(c0.Contacts) != 1 || c0.Contacts[0] != wantContact {
		t.Errorf("change 0 contacts = %+v", c0.Contacts)
	}
	if c0.Messages[0].FromUserID != "DE.111" {
		t.Errorf("FromUserID = %q, want DE.111 from the contact", c0.Messages[0].FromUserID)
	}

	if c1.WABAID != "111" || len(c1.Statuses) != 1 || len(c1.Messages) != 0 || len(c1.Contacts) != 0 {
		t.Errorf("change 1 = %+v", c1)
	}
	st := c1.Statuses[0]
	if st.Status != wa.StatusRead || st.RecipientUserID != "DE.111" || !st.Timestamp.Equal(time.Unix(1700000003, 0)) {
		t.Errorf("status = %+v", st)
	}

	if c2.WABAID != "222" || c2.Field != "account_update" || compact(t, c2.Unhandled) != `{"event":"ACCOUNT_DELETED"}` {
		t.Errorf("change 2 = %+v (Unhandled %s)", c2, c2.Unhandled)
	}

	if c3.WABAID != "222" || c3.Field != "messages" || c3.PhoneNumberID != "PN2" || c3.Unhandled != nil {
		t.Errorf("change 3 = %+v", c3)
	}
	wantErr := wa.ProviderError{Code: 130429, Title: "Rate limit hit", Message: "(#130429) Rate limit hit",
		Details: "Cloud API message throughput has been reached.",
		Href:    "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}
	if len(c3.Errors) != 1 || c3.Errors[0] != wantErr {
		t.Errorf("change 3 errors = %+v", c3.Errors)
	}
}

func TestParse_CloudUnhandledFields(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"pywa_account_update_account_restriction.json", "pywa_call_status_call_status.json",
		"pywa_outgoing_message_edit.json"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			body := readTestdata(t, name)
			w, err := Parse(body)
			if err != nil {
				t.Fatal(err)
			}
			var src struct {
				Entry []struct {
					Changes []struct {
						Value json.RawMessage `json:"value"`
					} `json:"changes"`
				} `json:"entry"`
			}
			if err := json.Unmarshal(body, &src); err != nil {
				t.Fatal(err)
			}
			c := w.Changes[0]
			if compact(t, c.Unhandled) != compact(t, src.Entry[0].Changes[0].Value) {
				t.Errorf("Unhandled = %s, want the change value", c.Unhandled)
			}
			// A calls change also has statuses (call states such as RINGING): they are not message receipts.
			if len(c.Messages) != 0 || len(c.Statuses) != 0 || len(c.Templates) != 0 {
				t.Errorf("unhandled field %q decoded as messages: %+v", c.Field, c)
			}
		})
	}
}

func TestParse_CloudUnknownFieldKeepsMetadata(t *testing.T) {
	t.Parallel()
	w := mustParse(t, `{"entry":[{"id":"9","changes":[{"field":"user_preferences","value":{
		"metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
		"contacts":[{"profile":{"name":"Test Name"},"wa_id":"972987654321"}],
		"user_preferences":[{"wa_id":"16505551234","category":"marketing_messages","value":"stop","timestamp":1731705721}]}}]}]}`)
	c := w.Changes[0]
	if c.Field != "user_preferences" || c.PhoneNumberID != "106540352242922" || len(c.Contacts) != 1 {
		t.Errorf("change = %+v", c)
	}
	if !strings.Contains(string(c.Unhandled), `"user_preferences"`) {
		t.Errorf("Unhandled = %s, want the whole value", c.Unhandled)
	}
}

func TestParse_CloudTemplates(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body string
		want       wa.TemplateUpdate
	}{
		{
			name: "status update approved",
			body: `{"entry":[{"id":"102290129340398","time":1751247548,"changes":[{"field":"message_template_status_update",
				"value":{"event":"APPROVED","message_template_id":1689556908129832,"message_template_name":"order_confirmation",
				"message_template_language":"en_US","reason":"NONE","message_template_category":"UTILITY"}}]}],
				"object":"whatsapp_business_account"}`,
			want: wa.TemplateUpdate{Event: "APPROVED", TemplateID: "1689556908129832", Name: "order_confirmation",
				Language: "en_US", Category: "UTILITY", Reason: "NONE"},
		},
		{
			name: "status update with string id",
			body: `{"entry":[{"id":"1","changes":[{"field":"message_template_status_update",
				"value":{"event":"PAUSED","message_template_id":"777","message_template_name":"promo",
				"message_template_language":"de","reason":"QUALITY_PAUSED"}}]}]}`,
			want: wa.TemplateUpdate{Event: "PAUSED", TemplateID: "777", Name: "promo", Language: "de",
				Reason: "QUALITY_PAUSED"},
		},
		{
			name: "category update",
			body: `{"entry":[{"id":"57438975935","time":1750344882,"changes":[{"value":{"message_template_id":12345678,
				"message_template_name":"my_message_template","message_template_language":"he","new_category":"MARKETING"},
				"field":"template_category_update"}]}],"object":"whatsapp_business_account"}`,
			want: wa.TemplateUpdate{TemplateID: "12345678", Name: "my_message_template", Language: "he",
				Category: "MARKETING"},
		},
		{
			name: "quality update",
			body: `{"entry":[{"id":"1","changes":[{"value":{"previous_quality_score":"GREEN","new_quality_score":"YELLOW",
				"message_template_id":806312974732579,"message_template_name":"welcome_template",
				"message_template_language":"en_US"},"field":"message_template_quality_update"}]}]}`,
			want: wa.TemplateUpdate{TemplateID: "806312974732579", Name: "welcome_template", Language: "en_US"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := mustParse(t, c.body)
			ch := w.Changes[0]
			if len(ch.Templates) != 1 || ch.Unhandled != nil || len(ch.Messages) != 0 {
				t.Fatalf("change = %+v", ch)
			}
			got := ch.Templates[0]
			if !json.Valid(got.Raw) || !bytes.Contains(got.Raw, []byte(`"message_template_name"`)) {
				t.Errorf("Raw = %s, want the change value", got.Raw)
			}
			got.Raw = nil
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestParse_OnPremise(t *testing.T) {
	t.Parallel()
	w, err := Parse(readTestdata(t, "onprem_text.json"))
	if err != nil {
		t.Fatal(err)
	}
	if w.Shape != wa.ShapeOnPremise || len(w.Changes) != 1 {
		t.Fatalf("got %+v", w)
	}
	c := w.Changes[0]
	if c.Field != "messages" || c.WABAID != "" || c.PhoneNumberID != "" || c.DisplayPhoneNumber != "" || c.Unhandled != nil {
		t.Errorf("change header = %+v", c)
	}
	if len(c.Contacts) != 1 || c.Contacts[0] != (wa.Contact{WAID: "16315551234", Name: "Kerry Fisher"}) {
		t.Errorf("contacts = %+v", c.Contacts)
	}
	if len(c.Messages) != 1 {
		t.Fatalf("messages = %+v", c.Messages)
	}
	m := c.Messages[0]
	if m.ID != "ABGGFlA5FpafAgo6EhqHU9Gcwd5" || m.From != "16315551234" || m.Type != "text" ||
		m.Text != "Hello this is an answer" || !m.Timestamp.Equal(time.Unix(1518694235, 0)) {
		t.Errorf("message = %+v", m)
	}
}

func TestParse_OnPremiseStatuses(t *testing.T) {
	t.Parallel()
	w, err := Parse(readTestdata(t, "onprem_statuses.json"))
	if err != nil {
		t.Fatal(err)
	}
	sts := w.Changes[0].Statuses
	if len(sts) != 4 {
		t.Fatalf("statuses = %+v", sts)
	}
	want := []wa.Status{wa.StatusDeleted, wa.StatusWarning, wa.StatusFailed, wa.StatusDelivered}
	for i, s := range sts {
		if s.Status != want[i] || s.RecipientID != "16315551234" || s.Timestamp.IsZero() || s.MessageID == "" {
			t.Errorf("status %d = %+v", i, s)
		}
	}
	if e := sts[1].Errors; len(e) != 1 || e[0] != (wa.ProviderError{Code: 1025, Title: "Catalog item unavailable",
		Details: "The item is no longer in the catalog"}) {
		t.Errorf("warning errors = %+v", e)
	}
	if e := sts[2].Errors; len(e) != 1 || e[0].Code != 470 {
		t.Errorf("failed errors = %+v", e)
	}
	if !bytes.Contains(sts[3].Conversation, []byte(`"expiration_timestamp": 1618780644`)) ||
		!bytes.Contains(sts[3].Pricing, []byte(`"pricing_model": "CBP"`)) {
		t.Errorf("conversation %s, pricing %s", sts[3].Conversation, sts[3].Pricing)
	}
}

func TestParse_OnPremiseRootErrors(t *testing.T) {
	t.Parallel()
	w, err := Parse(readTestdata(t, "onprem_errors.json"))
	if err != nil {
		t.Fatal(err)
	}
	c := w.Changes[0]
	want := wa.ProviderError{Code: 1014, Title: "Internal error", Details: "Upload failed on bad image",
		Href: "https://developers.facebook.com/docs/whatsapp/on-premises/errors"}
	if w.Shape != wa.ShapeOnPremise || len(c.Errors) != 1 || c.Errors[0] != want {
		t.Errorf("got %+v", w)
	}
}

func TestParse_ListsOfWrongTypeGoToUnhandled(t *testing.T) {
	t.Parallel()
	cases := []string{
		`{"entry":[{"id":"1","changes":[{"field":"messages","value":{"messages":{"id":"wamid.1"}}}]}]}`,
		`{"entry":[{"id":"1","changes":[{"field":"messages","value":{"statuses":"read"}}]}]}`,
		`{"entry":[{"id":"1","changes":[{"field":"messages","value":{"errors":5,"messages":[{"id":"wamid.1"}]}}]}]}`,
		`{"entry":[{"id":"1","changes":[{"field":"messages","value":{"contacts":{},"messages":[]}}]}]}`,
		`{"entry":[{"id":"1","changes":[{"field":"messages","value":"text"}]}]}`,
		`{"entry":[{"id":"1","changes":[{"field":"messages","value":[1,2]}]}]}`,
		`{"messages":{"id":"x"},"contacts":[]}`,
	}
	for _, body := range cases {
		w := mustParse(t, body)
		if c := w.Changes[0]; c.Unhandled == nil || !json.Valid(c.Unhandled) {
			t.Errorf("Parse(%s): Unhandled = %s, want the value kept", body, c.Unhandled)
		}
	}
	// The messages that could be read are still returned.
	w := mustParse(t, cases[2])
	if m := w.Changes[0].Messages; len(m) != 1 || m[0].ID != "wamid.1" {
		t.Errorf("messages = %+v", m)
	}
}

func TestParse_DoesNotRetainBody(t *testing.T) {
	t.Parallel()
	body := []byte(`{"messages":[{"id":"m1","type":"text","text":{"body":"hi"}}]}`)
	w, err := Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	before := string(w.Changes[0].Messages[0].Raw)
	for i := range body {
		body[i] = ' '
	}
	if got := string(w.Changes[0].Messages[0].Raw); got != before {
		t.Errorf("Raw changed with the caller's buffer: %q", got)
	}
}
