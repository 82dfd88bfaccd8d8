package templates_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/wagate/wagate/internal/provider/demo"
	"github.com/wagate/wagate/internal/templates"
	"github.com/wagate/wagate/internal/wa"
)

// TestForm_FieldsMakeASendAndNameTheirProblems: for every approved demo template, the form's fields filled
// with the template's own examples make a short-form send that passes; leaving out any one field is refused
// with a problem that FieldOf traces back to that field.
func TestForm_FieldsMakeASendAndNameTheirProblems(t *testing.T) {
	t.Parallel()
	cat := demoCatalogue(t)
	for _, ref := range cat.Approved("default") {
		f, ok := cat.Form("default", ref.Name, ref.Language)
		if !ok {
			t.Fatalf("%s/%s: no form", ref.Name, ref.Language)
		}
		values := map[string]string{}
		for _, fl := range f.Fields {
			if fl.Example == "" {
				t.Fatalf("%s: field %s has no example", ref.Name, fl.Name)
			}
			values[fl.Name] = fl.Example
		}
		if _, err := cat.Expand("default", f.Simple(func(n string) string { return values[n] })); err != nil {
			t.Fatalf("%s/%s with every field: %v", ref.Name, ref.Language, err)
		}
		for _, fl := range f.Fields {
			_, err := cat.Expand("default", f.Simple(func(n string) string {
				if n == fl.Name {
					return "  "
				}
				return values[n]
			}))
			var te *templates.Error
			if !errors.As(err, &te) || te.Code != templates.CodeParams || len(te.Problems) != len(fl.Components) {
				t.Fatalf("%s without %s: %v", ref.Name, fl.Name, err)
			}
			for _, p := range te.Problems {
				if got := f.FieldOf(p); got != fl.Name {
					t.Errorf("%s without %s: the problem %q is traced to field %q", ref.Name, fl.Name, p, got)
				}
			}
		}
	}
}

// TestDescribe_Shapes: placeholders are cut out of the texts, a named placeholder used in the header and the
// body is one field, and examples come from the template's definition.
func TestDescribe_Shapes(t *testing.T) {
	t.Parallel()
	by := map[string]wa.Template{}
	for _, tp := range demo.DemoTemplates {
		by[tp.Name+"/"+tp.Language] = tp
	}
	f := templates.Describe(by["appointment_reminder/en_US"])
	var names []string
	for _, fl := range f.Fields {
		names = append(names, fl.Name+"="+fl.Example+"@"+strings.Join(fl.Components, "+"))
	}
	want := []string{"p.date=3 March@header+body", "p.first_name=Ana@body", "p.doctor=Dr. Ruiz@body", "p.time=10:30@body"}
	if !slices.Equal(names, want) {
		t.Fatalf("appointment_reminder fields = %q", names)
	}
	if len(f.Header) != 2 || f.Header[0].Text != "Appointment on " || f.Header[1].Param != "date" || f.Header[1].Text != "{{date}}" {
		t.Fatalf("header parts = %+v", f.Header)
	}
	f = templates.Describe(by["shipment_photo/en_US"])
	if f.HeaderFormat != "IMAGE" || len(f.Fields) != 4 || f.Fields[0].Name != "header" || f.Fields[3].Name != "b.0" ||
		f.Fields[3].Example != "A-1234" || !f.Buttons[0].Dynamic || f.Buttons[1].Dynamic || f.Buttons[1].Type != "PHONE_NUMBER" {
		t.Fatalf("shipment_photo = %+v", f)
	}
	if f := templates.Describe(wa.Template{Name: "broken", Components: []byte(`{not json`)}); len(f.Fields) != 0 || len(f.Body) != 0 {
		t.Fatalf("unreadable components = %+v", f)
	}
}
