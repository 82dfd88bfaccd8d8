package templates

import (
	"encoding/json"
	"regexp"
	"strings"

	"github.com/wagate/wagate/internal/wa"
)

// placeholder matches {{1}} and {{first_name}}.
var placeholder = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_]+)\s*\}\}`)

// definition is a template compiled for preflight and rendering: what each component needs.
type definition struct {
	t      wa.Template
	named  bool
	header struct {
		format string   // "", TEXT, IMAGE, VIDEO, DOCUMENT, LOCATION
		text   string   // TEXT headers
		params []string // placeholders of a TEXT header, in order ("1" or names)
		parts  []part
	}
	body      string
	bodyParts []part
	params    []string // placeholders of the body, in order of first use
	footer    string
	buttons   []button
}

// button is one button of a template's BUTTONS component.
type button struct {
	typ   string // URL, QUICK_REPLY, COPY_CODE, FLOW, PHONE_NUMBER, OTP, CATALOG, ... upper case
	text  string
	url   string
	param bool // a dynamic URL ({{1}} suffix) or a copy code: the send must give one parameter
}

// subType is the Cloud request's sub_type for this button.
func (b button) subType() string {
	switch b.typ {
	case "URL":
		return "url"
	case "QUICK_REPLY":
		return "quick_reply"
	case "COPY_CODE":
		return "copy_code"
	case "FLOW":
		return "flow"
	case "CATALOG", "MPM", "SPM":
		return "catalog"
	case "OTP":
		return "url" // one-tap and copy-code authentication buttons are sent as url buttons with the code
	}
	return strings.ToLower(b.typ)
}

// compile reads a template's components (Cloud API listing shape). Unknown component types are ignored.
func compile(t wa.Template) *definition {
	d := &definition{t: t, named: t.ParameterFormat == wa.ParamsNamed}
	var comps []struct {
		Type    string `json:"type"`
		Format  string `json:"format"`
		Text    string `json:"text"`
		Buttons []struct {
			Type    string          `json:"type"`
			Text    string          `json:"text"`
			URL     string          `json:"url"`
			OTPType string          `json:"otp_type"`
			Example json.RawMessage `json:"example"`
		} `json:"buttons"`
	}
	_ = json.Unmarshal(t.Components, &comps) // a template whose components cannot be read has none to check
	for _, c := range comps {
		switch strings.ToUpper(c.Type) {
		case "HEADER":
			d.header.format = strings.ToUpper(c.Format)
			if d.header.format == "" {
				d.header.format = "TEXT"
			}
			if d.header.format == "TEXT" {
				d.header.text = c.Text
				d.header.params = placeholders(c.Text)
				d.header.parts = split(c.Text)
			}
		case "BODY":
			d.body = c.Text
			d.params = placeholders(c.Text)
			d.bodyParts = split(c.Text)
		case "FOOTER":
			d.footer = c.Text
		case "BUTTONS":
			for _, b := range c.Buttons {
				typ := strings.ToUpper(b.Type)
				nb := button{typ: typ, text: b.Text, url: b.URL}
				switch typ {
				case "URL":
					nb.param = placeholder.MatchString(b.URL)
				case "COPY_CODE":
					nb.param = true
				case "OTP":
					nb.param = !strings.EqualFold(b.OTPType, "ZERO_TAP")
				}
				d.buttons = append(d.buttons, nb)
			}
		}
	}
	return d
}

// placeholders lists the distinct placeholders of text in order of first use.
func placeholders(text string) []string {
	var out []string
	for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
		if !contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

func contains(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

// positional reports whether a placeholder is a number ({{1}}).
func positional(p string) bool { return p != "" && p[0] >= '0' && p[0] <= '9' }

// part is a piece of a template text: a literal, or a placeholder to fill (key "1" or a name).
type part struct {
	lit string
	key string
}

// split cuts a template text into literals and placeholders, once, so that rendering needs no regexp.
func split(text string) []part {
	var out []part
	last := 0
	for _, m := range placeholder.FindAllStringSubmatchIndex(text, -1) {
		if m[0] > last {
			out = append(out, part{lit: text[last:m[0]]})
		}
		out = append(out, part{lit: text[m[0]:m[1]], key: text[m[2]:m[3]]})
		last = m[1]
	}
	if last < len(text) {
		out = append(out, part{lit: text[last:]})
	}
	return out
}
