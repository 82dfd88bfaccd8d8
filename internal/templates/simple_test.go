package templates_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/wagate/wagate/internal/templates"
)

// TestExpand_BuildsTheComponentForm: the short form becomes a component form that passes the preflight and
// renders as the contact reads it.
func TestExpand_BuildsTheComponentForm(t *testing.T) {
	t.Parallel()
	cat := demoCatalogue(t)
	cases := []struct {
		in     templates.Simple
		render string
	}{
		{templates.Simple{Name: "order_update", Language: "es", Params: json.RawMessage(`["Ana","A-1",7]`)},
			"Hola Ana, tu pedido A-1 ha salido del almacén y llegará el 7.\nResponde STOP para no recibir avisos"},
		{templates.Simple{Name: "order_update", Language: "es", Params: json.RawMessage(`{"3":"viernes","1":"Ana","2":"A-1"}`)},
			"Hola Ana, tu pedido A-1 ha salido del almacén y llegará el viernes.\nResponde STOP para no recibir avisos"},
		{templates.Simple{Name: "appointment_reminder", Language: "en_US", Params: json.RawMessage(`{"first_name":"Ana","doctor":"Dr. Ruiz","date":"3 March","time":"10:30"}`)},
			"Appointment on 3 March\nHi Ana, this is a reminder of your appointment with Dr. Ruiz on 3 March at 10:30. Reply to this message to change it."},
		{templates.Simple{Name: "shipment_photo", Language: "en_US", Params: json.RawMessage(`["A-1","the door"]`), Header: json.RawMessage(`"https://example.com/p.jpg"`), Buttons: json.RawMessage(`["A-1"]`)},
			"[image]\nYour parcel A-1 was delivered to the door. Tap below to see the tracking history."},
		{templates.Simple{Name: "login_code", Language: "en_US", Params: json.RawMessage(`["123456"]`), Buttons: json.RawMessage(`{"0":"123456"}`)},
			"123456 is your verification code. For your security, do not share this code."},
		{templates.Simple{Name: "hello_world", Language: "en_US"}, ""},
	}
	for _, c := range cases {
		content, err := cat.Expand("default", c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.in.Name, err)
		}
		if err := cat.Check("default", tmpl(string(content))); err != nil {
			t.Fatalf("%s: expanded form refused: %v\n%s", c.in.Name, err, content)
		}
		if c.render != "" {
			if got := cat.Render("default", tmpl(string(content))); got != c.render {
				t.Errorf("%s: render = %q", c.in.Name, got)
			}
		}
	}
	content, _ := cat.Expand("default", cases[3].in)
	if !strings.Contains(string(content), `{"image":{"link":"https://example.com/p.jpg"},"type":"image"}`) ||
		!strings.Contains(string(content), `"sub_type":"url","index":"0"`) {
		t.Fatalf("shipment_photo = %s", content)
	}
}

// TestExpand_RefusesPrecisely: missing, extra and mixed-up values are each named.
func TestExpand_RefusesPrecisely(t *testing.T) {
	t.Parallel()
	cat := demoCatalogue(t)
	cases := []struct {
		in   templates.Simple
		code string
		want []string
	}{
		{templates.Simple{Name: "order_update", Language: "es", Params: json.RawMessage(`["Ana"]`)}, templates.CodeParams,
			[]string{"body {{2}}: expected a value for {{2}}, got none", "body {{3}}: expected a value for {{3}}, got none"}},
		{templates.Simple{Name: "order_update", Language: "es", Params: json.RawMessage(`["a","b","c","d"]`)}, templates.CodeParams,
			[]string{"body {{4}}: expected only the template's parameters (3 parameters ({{1}} to {{3}})), got an extra value for {{4}}"}},
		{templates.Simple{Name: "appointment_reminder", Language: "en_US", Params: json.RawMessage(`["Ana","Dr","3 March","10:30"]`)}, templates.CodeParams,
			[]string{"body: expected an object of named values (first_name, doctor, date, time): the template uses named parameters, got an array"}},
		{templates.Simple{Name: "appointment_reminder", Language: "en_US", Params: json.RawMessage(`{"name":"Ana","doctor":"Dr","date":"3 March","time":"10:30"}`)}, templates.CodeParams,
			[]string{"body first_name: expected a value for first_name, got none", "body name: expected only the template's parameters"}},
		{templates.Simple{Name: "shipment_photo", Language: "en_US", Params: json.RawMessage(`["A-1","x"]`)}, templates.CodeParams,
			[]string{"header: expected a link, media id or image object for the image header, got none", "button 0: expected one text parameter: the end of the URL https://example.com/track/{{1}}, got none"}},
		{templates.Simple{Name: "order_update", Language: "es", Params: json.RawMessage(`[{"a":1},"b","c"]`)}, templates.CodeParams,
			[]string{`body: expected an array of values or an object {"name": value}, got an array`}},
		{templates.Simple{Name: "hello_world", Language: "en_US", Buttons: json.RawMessage(`["x"]`)}, templates.CodeParams,
			[]string{"buttons: expected values only for the template's 0 dynamic buttons, got a value at position 1"}},
		{templates.Simple{Name: "order_update", Language: "pt_BR"}, templates.CodeNotFound, nil},
	}
	for _, c := range cases {
		_, err := cat.Expand("default", c.in)
		var te *templates.Error
		if !errors.As(err, &te) || te.Code != c.code {
			t.Fatalf("%s %s: err = %v, want %s", c.in.Name, c.in.Params, err, c.code)
		}
		if len(te.Problems) != len(c.want) {
			t.Fatalf("%s %s: problems = %q, want %q", c.in.Name, c.in.Params, te.Problems, c.want)
		}
		for i, w := range c.want {
			if got := te.Problems[i].String(); !strings.HasPrefix(got, w) {
				t.Errorf("%s: problem %d = %q, want prefix %q", c.in.Name, i, got, w)
			}
		}
	}
	if _, err := cat.Expand("nowhere", templates.Simple{Name: "x", Language: "es"}); !strings.Contains(err.Error(), "have not been read") {
		t.Fatalf("unsynced channel: %v", err)
	}
}
