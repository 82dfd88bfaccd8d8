package templates_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/wagate/wagate/internal/templates"
	"github.com/wagate/wagate/internal/wa"
)

// TestCheck_RefusesPrecisely: each kind of mismatch is refused with the code, component, parameter and the
// expected/got pair that name it; correct sends pass.
func TestCheck_RefusesPrecisely(t *testing.T) {
	t.Parallel()
	cat := demoCatalogue(t)
	cases := []struct {
		name    string
		content string
		code    string   // "" when the send is correct
		want    []string // substrings of the problems, in order
	}{
		{"positional ok", `{"name":"order_update","language":{"code":"es"},"components":[{"type":"body","parameters":[{"type":"text","text":"Ana"},{"type":"text","text":"A-1"},{"type":"date_time","date_time":{"fallback_value":"viernes"}}]}]}`, "", nil},
		{"no params needed", `{"name":"hello_world","language":{"code":"en_US"}}`, "", nil},
		{"named ok", `{"name":"appointment_reminder","language":{"code":"en_US"},"components":[{"type":"header","parameters":[{"type":"text","parameter_name":"date","text":"3 March"}]},{"type":"body","parameters":[{"type":"text","parameter_name":"first_name","text":"Ana"},{"type":"text","parameter_name":"doctor","text":"Dr. Ruiz"},{"type":"text","parameter_name":"date","text":"3 March"},{"type":"text","parameter_name":"time","text":"10:30"}]}]}`, "", nil},
		{"image header and url button ok", `{"name":"shipment_photo","language":{"code":"en_US"},"components":[{"type":"header","parameters":[{"type":"image","image":{"link":"https://example.com/p.jpg"}}]},{"type":"body","parameters":[{"type":"text","text":"A-1"},{"type":"text","text":"the door"}]},{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"A-1"}]}]}`, "", nil},
		{"quick reply payload allowed", `{"name":"order_update","language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","text":"a"},{"type":"text","text":"b"},{"type":"text","text":"c"}]},{"type":"button","sub_type":"quick_reply","index":"1","parameters":[{"type":"payload","payload":"STOP"}]}]}`, "", nil},

		{"unknown language", `{"name":"order_update","language":{"code":"fr"}}`, templates.CodeNotFound, nil},
		{"unknown name", `{"name":"no_such","language":{"code":"en_US"}}`, templates.CodeNotFound, nil},
		{"paused", `{"name":"spring_sale","language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","text":"20%"}]}]}`, templates.CodeNotApproved, nil},
		{"rejected", `{"name":"winback_offer","language":{"code":"en_US"}}`, templates.CodeNotApproved, nil},

		{"missing body", `{"name":"order_update","language":{"code":"es"}}`, templates.CodeParams,
			[]string{"body: expected a body component with 3 parameters ({{1}} to {{3}}), got no body component"}},
		{"one missing", `{"name":"order_update","language":{"code":"es"},"components":[{"type":"body","parameters":[{"type":"text","text":"Ana"},{"type":"text","text":"A-1"}]}]}`, templates.CodeParams,
			[]string{"body {{3}}: expected 3 parameters ({{1}} to {{3}}), got 2 parameters"}},
		{"one extra", `{"name":"order_update","language":{"code":"es"},"components":[{"type":"body","parameters":[{"type":"text","text":"a"},{"type":"text","text":"b"},{"type":"text","text":"c"},{"type":"text","text":"d"}]}]}`, templates.CodeParams,
			[]string{"body {{4}}: expected 3 parameters ({{1}} to {{3}}), got 4 parameters: the template has no {{4}}"}},
		{"params for a body without placeholders", `{"name":"hello_world","language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","text":"x"}]}]}`, templates.CodeParams,
			[]string{"body: expected no parameters: the template's body has no placeholder, got 1 parameter"}},
		{"header params for a fixed header", `{"name":"hello_world","language":{"code":"en_US"},"components":[{"type":"header","parameters":[{"type":"text","text":"x"}]}]}`, templates.CodeParams,
			[]string{"header: expected no header parameters"}},
		{"wrong body kind", `{"name":"login_code","language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"type":"image","image":{"link":"https://e.com/a.jpg"}}]},{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"1"}]}]}`, templates.CodeParams,
			[]string{"body: expected a text, currency or date_time parameter, got an image parameter"}},
		{"wrong header media", `{"name":"shipment_photo","language":{"code":"en_US"},"components":[{"type":"header","parameters":[{"type":"document","document":{"link":"https://e.com/a.pdf"}}]},{"type":"body","parameters":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"A-1"}]}]}`, templates.CodeParams,
			[]string{"header: expected an image parameter (the header is image), got a document parameter"}},
		{"missing media header", `{"name":"shipment_photo","language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"A-1"}]}]}`, templates.CodeParams,
			[]string{"header: expected a header component with one image parameter, got no header component"}},
		{"missing url suffix", `{"name":"shipment_photo","language":{"code":"en_US"},"components":[{"type":"header","parameters":[{"type":"image","image":{"id":"123"}}]},{"type":"body","parameters":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}`, templates.CodeParams,
			[]string{"button 0: expected a button component (sub_type url, index 0) with one text parameter: the end of the URL https://example.com/track/{{1}}, got none"}},
		{"button sub_type mismatch", `{"name":"shipment_photo","language":{"code":"en_US"},"components":[{"type":"header","parameters":[{"type":"image","image":{"id":"123"}}]},{"type":"body","parameters":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},{"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"payload","payload":"x"}]}]}`, templates.CodeParams,
			[]string{`button 0: expected sub_type url (the button is URL "Track parcel"), got sub_type "quick_reply"`}},
		{"button index out of range", `{"name":"order_update","language":{"code":"es"},"components":[{"type":"body","parameters":[{"type":"text","text":"a"},{"type":"text","text":"b"},{"type":"text","text":"c"}]},{"type":"button","sub_type":"quick_reply","index":"5","parameters":[{"type":"payload","payload":"x"}]}]}`, templates.CodeParams,
			[]string{"button 5: expected a button index from 0 to 1, got index \"5\": the template has 2 buttons"}},
		{"named template given positional", `{"name":"appointment_reminder","language":{"code":"en_US"},"components":[{"type":"header","parameters":[{"type":"text","parameter_name":"date","text":"3 March"}]},{"type":"body","parameters":[{"type":"text","text":"Ana"},{"type":"text","parameter_name":"doctor","text":"Dr. Ruiz"},{"type":"text","parameter_name":"date","text":"3 March"},{"type":"text","parameter_name":"time","text":"10:30"}]}]}`, templates.CodeParams,
			[]string{"body: expected a named parameter (parameter_name one of first_name, doctor, date, time): the template uses named parameters, got a positional parameter", `body first_name: expected a parameter with parameter_name "first_name", got none`}},
		{"named template with unknown name", `{"name":"appointment_reminder","language":{"code":"en_US"},"components":[{"type":"header","parameters":[{"type":"text","parameter_name":"date","text":"3 March"}]},{"type":"body","parameters":[{"type":"text","parameter_name":"firstname","text":"Ana"},{"type":"text","parameter_name":"doctor","text":"Dr. Ruiz"},{"type":"text","parameter_name":"date","text":"3 March"},{"type":"text","parameter_name":"time","text":"10:30"}]}]}`, templates.CodeParams,
			[]string{`body firstname: expected one of first_name, doctor, date, time, got unknown parameter "firstname"`, `body first_name: expected a parameter with parameter_name "first_name", got none`}},
		{"positional template given names", `{"name":"login_code","language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","parameter_name":"code","text":"123"}]},{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"123"}]}]}`, templates.CodeParams,
			[]string{`body {{1}}: expected a positional parameter without parameter_name: the template uses {{1}}, {{2}}..., got parameter_name "code"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := cat.Check("default", tmpl(c.content))
			if c.code == "" {
				if err != nil {
					t.Fatalf("refused a correct send: %v", err)
				}
				return
			}
			var te *templates.Error
			if !errors.As(err, &te) || te.Code != c.code {
				t.Fatalf("err = %v, want code %s", err, c.code)
			}
			if len(c.want) > 0 && len(te.Problems) != len(c.want) {
				t.Fatalf("problems = %q, want %d", te.Problems, len(c.want))
			}
			for i, w := range c.want {
				if got := te.Problems[i].String(); !strings.HasPrefix(got, w) {
					t.Errorf("problem %d = %q, want prefix %q", i, got, w)
				}
			}
		})
	}
}

func TestCheck_NotFoundNamesTheLanguagesThatExist(t *testing.T) {
	t.Parallel()
	cat := demoCatalogue(t)
	err := cat.Check("default", tmpl(`{"name":"order_update","language":{"code":"fr"}}`))
	var te *templates.Error
	if !errors.As(err, &te) || strings.Join(te.Languages, ",") != "en_US,es" || !strings.Contains(err.Error(), "it exists in en_US, es") {
		t.Fatalf("err = %v (%+v)", err, te)
	}
}

func TestCheck_OtherTypesAndUnsyncedChannelsPass(t *testing.T) {
	t.Parallel()
	cat := demoCatalogue(t)
	if err := cat.Check("default", wa.Outbound{To: "+34600111222", Type: "text", Content: []byte(`{"body":"x"}`)}); err != nil {
		t.Fatal(err)
	}
	// A channel whose templates were never synced cannot be checked: the provider decides.
	if err := cat.Check("other", tmpl(`{"name":"no_such","language":{"code":"en_US"}}`)); err != nil {
		t.Fatal(err)
	}
	if cat.Synced("other") || !cat.Synced("default") {
		t.Fatal("Synced is wrong")
	}
}

// TestRender_ShowsWhatTheContactReads: the header, body and footer with the parameters in place.
func TestRender_ShowsWhatTheContactReads(t *testing.T) {
	t.Parallel()
	cat := demoCatalogue(t)
	cases := map[string]string{
		`{"name":"order_update","language":{"code":"es"},"components":[{"type":"body","parameters":[{"type":"text","text":"Ana"},{"type":"text","text":"A-1"},{"type":"date_time","date_time":{"fallback_value":"el viernes"}}]}]}`:                                                                                                                                                                                                                  "Hola Ana, tu pedido A-1 ha salido del almacén y llegará el el viernes.\nResponde STOP para no recibir avisos",
		`{"name":"appointment_reminder","language":{"code":"en_US"},"components":[{"type":"header","parameters":[{"type":"text","parameter_name":"date","text":"3 March"}]},{"type":"body","parameters":[{"type":"text","parameter_name":"time","text":"10:30"},{"type":"text","parameter_name":"first_name","text":"Ana"},{"type":"text","parameter_name":"doctor","text":"Dr. Ruiz"},{"type":"text","parameter_name":"date","text":"3 March"}]}]}`: "Appointment on 3 March\nHi Ana, this is a reminder of your appointment with Dr. Ruiz on 3 March at 10:30. Reply to this message to change it.",
		`{"name":"shipment_photo","language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","text":"A-1"},{"type":"currency","currency":{"fallback_value":"the door","code":"EUR","amount_1000":1}}]}]}`:                                                                                                                                                                                                                 "[image]\nYour parcel A-1 was delivered to the door. Tap below to see the tracking history.",
		`{"name":"no_such","language":{"code":"en_US"}}`: "",
	}
	for content, want := range cases {
		if got := cat.Render("default", tmpl(content)); got != want {
			t.Errorf("Render = %q\nwant      %q", got, want)
		}
	}
}

// BenchmarkPreflight: check and render of a template send with an image header, two body parameters and a URL
// button, against a set of 1,000+ templates in memory (make bench reports it against a baseline).
func BenchmarkPreflight(b *testing.B) {
	cat := demoCatalogue(b)
	m := tmpl(`{"name":"shipment_photo","language":{"code":"en_US"},"components":[{"type":"header","parameters":[{"type":"image","image":{"link":"https://example.com/p.jpg"}}]},{"type":"body","parameters":[{"type":"text","text":"A-1"},{"type":"text","text":"the door"}]},{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"A-1"}]}]}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cat.Preflight("default", m); err != nil {
			b.Fatal(err)
		}
	}
}
