package templates

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The error codes of a refused template send.
const (
	CodeNotFound    = "template_not_found"
	CodeNotApproved = "template_not_approved"
	CodeParams      = "template_params"
	CodeNotSynced   = "templates_not_synced"
)

// Error is a template send refused before the provider was called: the template is unknown in that language,
// not approved, or the parameters do not match its components.
type Error struct {
	Code     string `json:"code"`
	Channel  string `json:"channel"`
	Template string `json:"template"`
	Language string `json:"language"`
	// Status is the template's status (for CodeNotApproved).
	Status string `json:"status,omitempty"`
	// Languages are the languages the template name exists in on the channel (for CodeNotFound).
	Languages []string `json:"languages,omitempty"`
	// Problems lists every mismatch of the parameters (for CodeParams).
	Problems []Problem `json:"problems,omitempty"`
}

// Problem is one mismatch between a send's parameters and the template's components.
type Problem struct {
	// Field is the request's JSON path ("template.components[1].parameters[0]"), or "" when the component is
	// missing from the request.
	Field string `json:"field,omitempty"`
	// Component is "header", "body" or "button N" (N the 0-based index).
	Component string `json:"component"`
	// Parameter names the placeholder: "{{2}}" or "first_name"; "" for the component as a whole.
	Parameter string `json:"parameter,omitempty"`
	Expected  string `json:"expected"`
	Got       string `json:"got"`
}

func (p Problem) String() string {
	where := p.Component
	if p.Parameter != "" {
		where += " " + p.Parameter
	}
	return fmt.Sprintf("%s: expected %s, got %s", where, p.Expected, p.Got)
}

func (e *Error) Error() string {
	ref := fmt.Sprintf("template %q in %q", e.Template, e.Language)
	switch e.Code {
	case CodeNotFound:
		if len(e.Languages) > 0 {
			return fmt.Sprintf("%s does not exist on channel %s; it exists in %s", ref, e.Channel, strings.Join(e.Languages, ", "))
		}
		return fmt.Sprintf("%s does not exist on channel %s", ref, e.Channel)
	case CodeNotApproved:
		return fmt.Sprintf("%s is %s, not APPROVED", ref, e.Status)
	case CodeNotSynced:
		return fmt.Sprintf("the templates of channel %s have not been read from the provider yet", e.Channel)
	}
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return fmt.Sprintf("the parameters do not match %s: %s", ref, strings.Join(parts, "; "))
}

// request is the part of a component-form template send that preflight reads.
type request struct {
	Name     string `json:"name"`
	Language struct {
		Code string `json:"code"`
	} `json:"language"`
	Components []struct {
		Type       string          `json:"type"`
		SubType    string          `json:"sub_type"`
		Index      json.RawMessage `json:"index"`
		Parameters []param         `json:"parameters"`
	} `json:"components"`
}

// param is one parameter of a send.
type param struct {
	Type          string `json:"type"`
	ParameterName string `json:"parameter_name"`
	Text          string `json:"text"`
	Payload       string `json:"payload"`
	CouponCode    string `json:"coupon_code"`
	Currency      *struct {
		FallbackValue string `json:"fallback_value"`
	} `json:"currency"`
	DateTime *struct {
		FallbackValue string `json:"fallback_value"`
	} `json:"date_time"`
}

// value is the text a parameter puts in its placeholder.
func (p param) value() string {
	switch strings.ToLower(p.Type) {
	case "currency":
		if p.Currency != nil {
			return p.Currency.FallbackValue
		}
	case "date_time":
		if p.DateTime != nil {
			return p.DateTime.FallbackValue
		}
	case "payload":
		return p.Payload
	case "coupon_code":
		return p.CouponCode
	}
	return p.Text
}

func (p param) kind() string {
	if p.Type == "" {
		return "a parameter without a type"
	}
	return article(strings.ToLower(p.Type)) + " parameter"
}

// article puts "a" or "an" before a word.
func article(w string) string {
	if w != "" && strings.ContainsRune("aeiou", rune(w[0])) {
		return "an " + w
	}
	return "a " + w
}

func parseRequest(content json.RawMessage) (request, error) {
	var r request
	if err := json.Unmarshal(content, &r); err != nil {
		return request{}, fmt.Errorf("template: %w", err)
	}
	return r, nil
}

// buttonIndex reads a button component's index ("0".."9" or a number); -1 when it is not one.
func buttonIndex(raw json.RawMessage) int {
	s := string(bytes.Trim(bytes.TrimSpace(raw), `"`))
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// check compares a parsed send with the template's definition and returns the problems found.
func (d *definition) check(r request) []Problem {
	var probs []Problem
	add := func(field, comp, par, exp, got string) {
		probs = append(probs, Problem{Field: field, Component: comp, Parameter: par, Expected: exp, Got: got})
	}
	seenHeader, seenBody := false, false
	seenButtons := map[int]bool{}
	for ci, c := range r.Components {
		field := fmt.Sprintf("template.components[%d]", ci)
		switch strings.ToLower(c.Type) {
		case "header":
			seenHeader = true
			d.checkHeader(field, c.Parameters, add)
		case "body":
			seenBody = true
			probs = append(probs, d.checkParams(field, "body", d.params, c.Parameters)...)
		case "button":
			i := buttonIndex(c.Index)
			comp := fmt.Sprintf("button %d", i)
			if i < 0 || i >= len(d.buttons) {
				add(field+".index", comp, "", fmt.Sprintf("a button index from 0 to %d", len(d.buttons)-1), fmt.Sprintf("index %s: the template has %d buttons", strings.TrimSpace(string(c.Index)), len(d.buttons)))
				if len(d.buttons) == 0 {
					probs[len(probs)-1].Expected = "no button component: the template has no buttons"
				}
				continue
			}
			seenButtons[i] = true
			b := d.buttons[i]
			if sub := strings.ToLower(c.SubType); sub != b.subType() {
				add(field+".sub_type", comp, "", fmt.Sprintf("sub_type %s (the button is %s %q)", b.subType(), b.typ, b.text), "sub_type "+strconv.Quote(c.SubType))
				continue
			}
			d.checkButton(field, comp, b, c.Parameters, add)
		}
	}
	if !seenHeader {
		switch {
		case d.header.format == "TEXT" && len(d.header.params) > 0:
			add("", "header", "", fmt.Sprintf("a header component with %s", describe(d.header.params, d.named)), "no header component")
		case isMedia(d.header.format):
			add("", "header", "", fmt.Sprintf("a header component with one %s parameter", strings.ToLower(d.header.format)), "no header component")
		}
	}
	if !seenBody && len(d.params) > 0 {
		add("", "body", "", "a body component with "+describe(d.params, d.named), "no body component")
	}
	for i, b := range d.buttons {
		if b.param && !seenButtons[i] {
			add("", fmt.Sprintf("button %d", i), "", fmt.Sprintf("a button component (sub_type %s, index %d) with %s", b.subType(), i, buttonNeed(b)), "none")
		}
	}
	return probs
}

func isMedia(format string) bool {
	return format == "IMAGE" || format == "VIDEO" || format == "DOCUMENT" || format == "LOCATION"
}

func buttonNeed(b button) string {
	if b.typ == "COPY_CODE" {
		return "one coupon_code parameter"
	}
	return fmt.Sprintf("one text parameter: the end of the URL %s", b.url)
}

// describe says which parameters a component needs: "2 text parameters ({{1}}, {{2}})" or "the named
// parameters first_name, order".
func describe(ps []string, named bool) string {
	if named {
		return "the named parameters " + strings.Join(ps, ", ")
	}
	n := positionalCount(ps)
	if n == 1 {
		return "1 parameter ({{1}})"
	}
	return fmt.Sprintf("%d parameters ({{1}} to {{%d}})", n, n)
}

// positionalCount is how many positional parameters a text needs: its highest placeholder number.
func positionalCount(ps []string) int {
	n := 0
	for _, p := range ps {
		if v, err := strconv.Atoi(p); err == nil && v > n {
			n = v
		}
	}
	return n
}

func (d *definition) checkHeader(field string, given []param, add func(field, comp, par, exp, got string)) {
	switch {
	case isMedia(d.header.format):
		want := strings.ToLower(d.header.format)
		if len(given) != 1 {
			add(field+".parameters", "header", "", "one "+want+" parameter (the header is "+want+")", plural(len(given), "parameter"))
			return
		}
		if !strings.EqualFold(given[0].Type, want) {
			add(field+".parameters[0].type", "header", "", article(want)+" parameter (the header is "+want+")", given[0].kind())
		}
	case d.header.format == "TEXT" && len(d.header.params) > 0:
		for _, p := range d.checkParams(field, "header", d.header.params, given) {
			add(p.Field, p.Component, p.Parameter, p.Expected, p.Got)
		}
	default:
		if len(given) > 0 {
			what := "no header parameters: the template's header has no placeholder"
			if d.header.format == "" {
				what = "no header component: the template has no header"
			}
			add(field+".parameters", "header", "", what, plural(len(given), "parameter"))
		}
	}
}

func (d *definition) checkButton(field, comp string, b button, given []param, add func(field, comp, par, exp, got string)) {
	switch {
	case b.param:
		want := "text"
		if b.typ == "COPY_CODE" {
			want = "coupon_code"
		}
		if len(given) != 1 {
			add(field+".parameters", comp, "", buttonNeed(b), plural(len(given), "parameter"))
			return
		}
		if !strings.EqualFold(given[0].Type, want) {
			add(field+".parameters[0].type", comp, "", "a "+want+" parameter", given[0].kind())
		}
	case b.typ == "URL" && len(given) > 0:
		add(field+".parameters", comp, "", fmt.Sprintf("no parameters: the button's URL %s is fixed", b.url), plural(len(given), "parameter"))
	}
}

// checkParams checks the text parameters of the body or a text header against its placeholders.
func (d *definition) checkParams(field, comp string, want []string, given []param) []Problem {
	var probs []Problem
	add := func(f, par, exp, got string) {
		probs = append(probs, Problem{Field: f, Component: comp, Parameter: par, Expected: exp, Got: got})
	}
	pf := func(i int) string { return fmt.Sprintf("%s.parameters[%d]", field, i) }
	if len(want) == 0 {
		if len(given) > 0 {
			add(field+".parameters", "", "no parameters: the template's "+comp+" has no placeholder", plural(len(given), "parameter"))
		}
		return probs
	}
	for i, p := range given {
		switch t := strings.ToLower(p.Type); {
		case comp == "header" && t != "text":
			add(pf(i)+".type", "", "a text parameter", p.kind())
		case t != "text" && t != "currency" && t != "date_time":
			add(pf(i)+".type", "", "a text, currency or date_time parameter", p.kind())
		}
	}
	if d.named {
		got := map[string]bool{}
		for i, p := range given {
			if p.ParameterName == "" {
				add(pf(i), "", "a named parameter (parameter_name one of "+strings.Join(want, ", ")+"): the template uses named parameters", "a positional parameter")
				continue
			}
			got[p.ParameterName] = true
			if !contains(want, p.ParameterName) {
				add(pf(i)+".parameter_name", p.ParameterName, "one of "+strings.Join(want, ", "), "unknown parameter "+strconv.Quote(p.ParameterName))
			}
		}
		for _, n := range want {
			if !got[n] {
				add(field+".parameters", n, "a parameter with parameter_name "+strconv.Quote(n), "none")
			}
		}
		return probs
	}
	n := positionalCount(want)
	for i, p := range given {
		if p.ParameterName != "" {
			add(pf(i)+".parameter_name", fmt.Sprintf("{{%d}}", i+1), "a positional parameter without parameter_name: the template uses {{1}}, {{2}}...",
				"parameter_name "+strconv.Quote(p.ParameterName))
		}
	}
	if len(given) != n {
		exp := describe(want, false)
		got := plural(len(given), "parameter")
		if len(given) < n {
			add(field+".parameters", fmt.Sprintf("{{%d}}", len(given)+1), exp, got)
		} else {
			add(pf(n), fmt.Sprintf("{{%d}}", n+1), exp, got+": the template has no {{"+strconv.Itoa(n+1)+"}}")
		}
	}
	return probs
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// render substitutes a send's parameters into the template's header, body and footer: the text the contact
// reads. Placeholders the send leaves unfilled stay as they are.
func (d *definition) render(r request) string {
	var header, body []param
	for _, c := range r.Components {
		switch strings.ToLower(c.Type) {
		case "header":
			header = c.Parameters
		case "body":
			body = c.Parameters
		}
	}
	var parts []string
	switch {
	case d.header.format == "TEXT" && d.header.text != "":
		parts = append(parts, d.fill(d.header.parts, header))
	case isMedia(d.header.format):
		parts = append(parts, "["+strings.ToLower(d.header.format)+"]")
	}
	if d.body != "" {
		parts = append(parts, d.fill(d.bodyParts, body))
	}
	if d.footer != "" {
		parts = append(parts, d.footer)
	}
	return strings.Join(parts, "\n")
}

func (d *definition) fill(parts []part, ps []param) string {
	var b strings.Builder
	for _, p := range parts {
		if p.key == "" {
			b.WriteString(p.lit)
			continue
		}
		b.WriteString(d.value(p, ps))
	}
	return b.String()
}

// value is the text a send puts in placeholder p; the placeholder itself when the send gives none.
func (d *definition) value(p part, ps []param) string {
	if positional(p.key) && !d.named {
		if i, err := strconv.Atoi(p.key); err == nil && i >= 1 && i <= len(ps) {
			return ps[i-1].value()
		}
		return p.lit
	}
	for _, q := range ps {
		if q.ParameterName == p.key {
			return q.value()
		}
	}
	return p.lit
}
