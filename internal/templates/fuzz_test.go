package templates_test

import (
	"encoding/json"
	"testing"

	"github.com/wagate/wagate/internal/templates"
)

// FuzzCheck: the preflight and the rendering read untrusted request bodies; any bytes give a result or an
// error, never a panic. Seeds: testdata/fuzz/FuzzCheck.
func FuzzCheck(f *testing.F) {
	f.Add([]byte(`{"name":"order_update","language":{"code":"es"},"components":[{"type":"body","parameters":[{"type":"text","text":"a"}]}]}`))
	f.Add([]byte(`{"name":"shipment_photo","language":{"code":"en_US"},"components":[{"type":"button","sub_type":"url","index":99999999999999999999,"parameters":[]}]}`))
	f.Add([]byte(`{"name":"appointment_reminder","language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"parameter_name":"x"}]}]}`))
	cat := demoCatalogue(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		m := tmpl(string(body))
		_ = cat.Check("default", m)
		_ = cat.Render("default", m)
	})
}

// FuzzExpand: the short form's params, header and buttons are untrusted JSON. Seeds: testdata/fuzz/FuzzExpand.
func FuzzExpand(f *testing.F) {
	f.Add("order_update", "es", []byte(`["a","b","c"]`), []byte(``), []byte(``))
	f.Add("shipment_photo", "en_US", []byte(`{"1":"a","2":true}`), []byte(`{"link":1}`), []byte(`{"0":[1]}`))
	f.Add("appointment_reminder", "en_US", []byte(`{"first_name":null}`), []byte(`"x"`), []byte(`[]`))
	cat := demoCatalogue(f)
	f.Fuzz(func(t *testing.T, name, lang string, params, header, buttons []byte) {
		s := templates.Simple{Name: name, Language: lang, Params: params, Header: header, Buttons: buttons}
		content, err := cat.Expand("default", s)
		if err != nil {
			return
		}
		if !json.Valid(content) {
			t.Fatalf("expanded to invalid JSON: %s", content)
		}
		// What Expand builds passes the preflight.
		if err := cat.Check("default", tmpl(string(content))); err != nil {
			t.Fatalf("expanded form refused: %v\n%s", err, content)
		}
	})
}
