package templates

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/wagate/wagate/internal/wa"
)

// Form is a template laid out for a person: its texts cut into literals and placeholders (to show it with
// the placeholders marked, or filled in), and the Fields a send of it needs, in the order the contact reads
// them. Simple turns the values given for the fields into the short form of a send.
type Form struct {
	Template wa.Template
	// Named says the placeholders are names ({{first_name}}) rather than positions ({{1}}).
	Named bool
	// HeaderFormat is "", TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION.
	HeaderFormat string
	// Header is a TEXT header's text.
	Header []Part
	Body   []Part
	Footer string
	// Buttons are the template's buttons in order.
	Buttons []FormButton
	// Fields are the values a send gives, one per distinct placeholder (a named placeholder used in the
	// header and the body is one field), then the media header, then the dynamic buttons.
	Fields []Field
}

// Part is a piece of a template text: literal text, or a placeholder (Param its key: "1" or a name, Text the
// placeholder as written, "{{1}}").
type Part struct {
	Text  string
	Param string
}

// FormButton is one button of a template.
type FormButton struct {
	Index int
	// Type is URL, QUICK_REPLY, PHONE_NUMBER, COPY_CODE, OTP, FLOW... upper case.
	Type string
	Text string
	URL  string
	// Dynamic says a send gives the button a value (a URL's suffix, a code).
	Dynamic bool
}

// The kinds of Field.
const (
	FieldParam  = "param"  // a placeholder of the body, or a named placeholder of a text header
	FieldHeader = "header" // the {{1}} of a positional text header, or a media header's link or media id
	FieldButton = "button" // a dynamic button's value
)

// Field is one value a template send gives.
type Field struct {
	// Name identifies the field in Simple and FieldOf: "p.<placeholder>", "header" or "b.<button index>".
	Name string
	Kind string
	// Components lists where the value appears: "header", "body", "button 1".
	Components []string
	// Placeholder is the placeholder as written ("{{2}}", "{{first_name}}"), or for a media header its format
	// (IMAGE...), or for a button its URL.
	Placeholder string
	// Example is the example value the template was submitted with, when it has one.
	Example string
}

// Form returns the form of channel's synced template name in lang; false when there is no such template.
func (c *Catalogue) Form(channel, name, lang string) (Form, bool) {
	s := c.set(channel)
	if s == nil {
		return Form{}, false
	}
	d, ok := s.byKey[key(name, lang)]
	if !ok {
		return Form{}, false
	}
	return d.form(), true
}

// Describe returns the form of a template as a provider lists it.
func Describe(t wa.Template) Form { return compile(t).form() }

func (d *definition) form() Form {
	f := Form{Template: d.t, Named: d.named, HeaderFormat: d.header.format, Header: parts(d.header.parts),
		Body: parts(d.bodyParts), Footer: d.footer}
	ex := examples(d.t.Components)
	seen := map[string]int{} // field name -> index in f.Fields
	addParam := func(comp, p string) {
		name := "p." + p
		if i, ok := seen[name]; ok {
			if !contains(f.Fields[i].Components, comp) {
				f.Fields[i].Components = append(f.Fields[i].Components, comp)
			}
			return
		}
		seen[name] = len(f.Fields)
		f.Fields = append(f.Fields, Field{Name: name, Kind: FieldParam, Components: []string{comp}, Placeholder: "{{" + p + "}}", Example: ex.param(comp, p)})
	}
	switch {
	case d.header.format == "TEXT" && len(d.header.params) > 0 && d.named:
		for _, p := range d.header.params {
			addParam("header", p)
		}
	case d.header.format == "TEXT" && len(d.header.params) > 0:
		// A positional text header has one value, its {{1}} (the short form's "header").
		f.Fields = append(f.Fields, Field{Name: "header", Kind: FieldHeader, Components: []string{"header"}, Placeholder: "{{1}}", Example: ex.param("header", "1")})
	case isMedia(d.header.format):
		f.Fields = append(f.Fields, Field{Name: "header", Kind: FieldHeader, Components: []string{"header"}, Placeholder: d.header.format, Example: ex.headerHandle})
	}
	if d.named {
		for _, p := range d.params {
			addParam("body", p)
		}
	} else {
		for i := 1; i <= positionalCount(d.params); i++ {
			addParam("body", strconv.Itoa(i))
		}
	}
	for i, b := range d.buttons {
		f.Buttons = append(f.Buttons, FormButton{Index: i, Type: b.typ, Text: b.text, URL: b.url, Dynamic: b.param})
		if b.param {
			f.Fields = append(f.Fields, Field{Name: "b." + strconv.Itoa(i), Kind: FieldButton, Components: []string{fmt.Sprintf("button %d", i)},
				Placeholder: b.url, Example: ex.button(i, b.url)})
		}
	}
	return f
}

func parts(ps []part) []Part {
	out := make([]Part, len(ps))
	for i, p := range ps {
		out[i] = Part{Text: p.lit, Param: p.key}
	}
	return out
}

// FieldFor names the field that fills placeholder key of the header (inHeader) or the body.
func (f Form) FieldFor(inHeader bool, key string) string {
	if inHeader && !f.Named {
		return "header"
	}
	return "p." + key
}

// Simple is the short form of a send of the template with the values value gives for each field (by Name).
// Empty values are left out, so that the send's check names them as missing.
func (f Form) Simple(value func(name string) string) Simple {
	s := Simple{Name: f.Template.Name, Language: f.Template.Language}
	params := map[string]string{}
	buttons := map[string]string{}
	for _, fl := range f.Fields {
		v := strings.TrimSpace(value(fl.Name))
		if v == "" {
			continue
		}
		switch fl.Kind {
		case FieldParam:
			params[strings.TrimPrefix(fl.Name, "p.")] = v
		case FieldHeader:
			s.Header, _ = json.Marshal(v)
		case FieldButton:
			buttons[strings.TrimPrefix(fl.Name, "b.")] = v
		}
	}
	if len(params) > 0 {
		s.Params, _ = json.Marshal(params)
	}
	if len(buttons) > 0 {
		s.Buttons, _ = json.Marshal(buttons)
	}
	return s
}

// FieldOf names the field a problem of a send built by Simple concerns, or "" when it concerns none.
func (f Form) FieldOf(p Problem) string {
	par := strings.TrimSuffix(strings.TrimPrefix(p.Parameter, "{{"), "}}")
	switch {
	case p.Component == "header":
		if f.Named && par != "" {
			return "p." + par
		}
		return "header"
	case p.Component == "body":
		if par == "" {
			return ""
		}
		return "p." + par
	case strings.HasPrefix(p.Component, "button "):
		return "b." + strings.TrimPrefix(p.Component, "button ")
	}
	return ""
}

// templateExamples are the example values a template was submitted with.
type templateExamples struct {
	header, body []string          // positional, {{1}} first
	named        map[string]string // named parameters of the header and the body
	headerHandle string
	buttons      map[int]string // full example URLs by button index
}

func examples(comps json.RawMessage) templateExamples {
	var list []struct {
		Type    string `json:"type"`
		Example struct {
			HeaderText   []string   `json:"header_text"`
			HeaderHandle []string   `json:"header_handle"`
			BodyText     [][]string `json:"body_text"`
			HeaderNamed  []named    `json:"header_text_named_params"`
			BodyNamed    []named    `json:"body_text_named_params"`
		} `json:"example"`
		Buttons []struct {
			Example json.RawMessage `json:"example"`
		} `json:"buttons"`
	}
	var ex templateExamples
	if json.Unmarshal(comps, &list) != nil {
		return ex
	}
	ex.named = map[string]string{}
	for _, c := range list {
		e := c.Example
		switch strings.ToUpper(c.Type) {
		case "HEADER":
			ex.header = e.HeaderText
			if len(e.HeaderHandle) > 0 {
				ex.headerHandle = e.HeaderHandle[0]
			}
			for _, n := range e.HeaderNamed {
				ex.named[n.Name] = n.Example
			}
		case "BODY":
			if len(e.BodyText) > 0 {
				ex.body = e.BodyText[0]
			}
			for _, n := range e.BodyNamed {
				ex.named[n.Name] = n.Example
			}
		case "BUTTONS":
			for i, b := range c.Buttons {
				var urls []string
				if json.Unmarshal(b.Example, &urls) == nil && len(urls) > 0 {
					if ex.buttons == nil {
						ex.buttons = map[int]string{}
					}
					ex.buttons[i] = urls[0]
				}
			}
		}
	}
	return ex
}

type named struct {
	Name    string `json:"param_name"`
	Example string `json:"example"`
}

func (ex templateExamples) param(comp, p string) string {
	if v, ok := ex.named[p]; ok {
		return v
	}
	l := ex.body
	if comp == "header" {
		l = ex.header
	}
	if i, err := strconv.Atoi(p); err == nil && i >= 1 && i <= len(l) {
		return l[i-1]
	}
	return ""
}

// button is the example value of a dynamic URL button: the example URL less the URL's fixed start.
func (ex templateExamples) button(i int, url string) string {
	full := ex.buttons[i]
	if full == "" {
		return ""
	}
	if at := strings.Index(url, "{{"); at >= 0 && strings.HasPrefix(full, url[:at]) {
		return full[at:]
	}
	return full
}
