package templates

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Simple is the short form of a template send for applications: the template's name and language and the
// values of its placeholders, which Expand turns into the provider's component form using the synced
// definition.
//
//	{"name":"order_update","language":"es","params":["Ana","A-123"]}             positional body {{1}}, {{2}}
//	{"name":"appointment","language":"en","params":{"first_name":"Ana"}}         named parameters
//	{"name":"shipped","language":"en","header":"https://.../p.jpg","buttons":["track/A-123"]}
//
// Params is an array (positional, in order), or an object keyed by placeholder ("1", "2" or names); named
// placeholders of a text header are taken from Params too. Header is the text of a positional text header's
// {{1}}, or for a media header a link (http/https) or a media id, or a media object ({"link":..,"filename":..}).
// Buttons gives the dynamic buttons' values (a URL button's suffix, a copy code): an array fills them in
// order, an object names them by button index ("1": "track/A-123").
type Simple struct {
	Name     string          `json:"name"`
	Language string          `json:"language"`
	Params   json.RawMessage `json:"params,omitempty"`
	Header   json.RawMessage `json:"header,omitempty"`
	Buttons  json.RawMessage `json:"buttons,omitempty"`
}

type outParam map[string]any

type outComponent struct {
	Type       string     `json:"type"`
	SubType    string     `json:"sub_type,omitempty"`
	Index      string     `json:"index,omitempty"`
	Parameters []outParam `json:"parameters"`
}

// Expand turns a short-form send into the component form (the object under "template" of a Cloud API
// request), checking it against channel's synced template. Every problem is reported at once as an *Error.
func (c *Catalogue) Expand(channel string, s Simple) (json.RawMessage, error) {
	set := c.set(channel)
	if set == nil {
		return nil, &Error{Code: CodeNotSynced, Channel: channel, Template: s.Name, Language: s.Language}
	}
	d, ok := set.byKey[key(s.Name, s.Language)]
	if !ok {
		return nil, &Error{Code: CodeNotFound, Channel: channel, Template: s.Name, Language: s.Language, Languages: set.byName[s.Name]}
	}
	e := &Error{Code: CodeParams, Channel: channel, Template: s.Name, Language: s.Language}
	add := func(field, comp, par, exp, got string) {
		e.Problems = append(e.Problems, Problem{Field: field, Component: comp, Parameter: par, Expected: exp, Got: got})
	}
	values, byPosition, ok := simpleValues(s.Params)
	if !ok {
		add("params", "body", "", `an array of values or an object {"name": value}`, kindOf(s.Params))
		return nil, e
	}
	used := map[string]bool{}
	take := func(name string) (any, bool) {
		v, ok := values[name]
		if ok {
			used[name] = true
		}
		return v, ok
	}
	if d.named && byPosition && len(values) > 0 {
		add("params", "body", "", "an object of named values ("+strings.Join(d.params, ", ")+"): the template uses named parameters", "an array")
		return nil, e
	}
	var comps []outComponent
	// Header.
	switch {
	case isMedia(d.header.format):
		kind := strings.ToLower(d.header.format)
		media, ok := mediaValue(s.Header)
		if !ok {
			add("header", "header", "", "a link, media id or "+kind+" object for the "+kind+" header", kindOf(s.Header))
		} else {
			comps = append(comps, outComponent{Type: "header", Parameters: []outParam{{"type": kind, kind: media}}})
		}
	case d.header.format == "TEXT" && len(d.header.params) > 0:
		var ps []outParam
		for _, name := range d.header.params {
			var v any
			var found bool
			if len(s.Header) > 0 {
				v, found = scalar(s.Header)
			} else if d.named {
				v, found = take(name)
			}
			if !found {
				add("header", "header", name, "a text value for the header's {{"+name+"}}", "none")
				continue
			}
			p := outParam{"type": "text", "text": v}
			if d.named {
				p["parameter_name"] = name
			}
			ps = append(ps, p)
		}
		if len(ps) > 0 {
			comps = append(comps, outComponent{Type: "header", Parameters: ps})
		}
	default:
		if len(s.Header) > 0 {
			add("header", "header", "", "no header value: the template's header has no placeholder", kindOf(s.Header))
		}
	}
	// Body.
	if len(d.params) > 0 {
		var ps []outParam
		names := d.params
		if !d.named {
			names = nil
			for i := 1; i <= positionalCount(d.params); i++ {
				names = append(names, strconv.Itoa(i))
			}
		}
		for _, name := range names {
			v, found := take(name)
			if !found {
				par := name
				if !d.named {
					par = "{{" + name + "}}"
				}
				add("params", "body", par, "a value for "+par, "none")
				continue
			}
			p := outParam{"type": "text", "text": v}
			if d.named {
				p["parameter_name"] = name
			}
			ps = append(ps, p)
		}
		comps = append(comps, outComponent{Type: "body", Parameters: ps})
	}
	// Buttons.
	btn, btnByPos, ok := simpleValues(s.Buttons)
	if !ok {
		add("buttons", "buttons", "", "an array of values or an object keyed by button index", kindOf(s.Buttons))
	}
	usedBtn := map[string]bool{}
	next := 0
	for i, b := range d.buttons {
		if !b.param {
			continue
		}
		k := strconv.Itoa(i)
		if btnByPos {
			next++
			k = strconv.Itoa(next)
		}
		v, found := btn[k]
		if !found {
			add("buttons", fmt.Sprintf("button %d", i), "", buttonNeed(b), "none")
			continue
		}
		usedBtn[k] = true
		p := outParam{"type": "text", "text": v}
		if b.typ == "COPY_CODE" {
			p = outParam{"type": "coupon_code", "coupon_code": v}
		}
		comps = append(comps, outComponent{Type: "button", SubType: b.subType(), Index: strconv.Itoa(i), Parameters: []outParam{p}})
	}
	dynamic := 0
	for _, b := range d.buttons {
		if b.param {
			dynamic++
		}
	}
	for _, k := range sortedKeys(btn) {
		if usedBtn[k] {
			continue
		}
		if btnByPos {
			add("buttons", "buttons", "", "values only for the template's "+plural(dynamic, "dynamic button"), "a value at position "+k)
		} else {
			add("buttons", "button "+k, "", "values only for the template's "+plural(dynamic, "dynamic button"), "a value for button "+k)
		}
	}
	for _, k := range sortedKeys(values) {
		if !used[k] {
			par := k
			if byPosition || positional(k) && !d.named {
				par = "{{" + k + "}}"
			}
			add("params", "body", par, "only the template's parameters ("+describe(d.params, d.named)+")", "an extra value for "+par)
		}
	}
	if len(e.Problems) > 0 {
		return nil, e
	}
	out := map[string]any{"name": d.t.Name, "language": map[string]string{"code": d.t.Language}}
	if len(comps) > 0 {
		out["components"] = comps
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("template expand: %w", err)
	}
	return b, nil
}

// simpleValues reads params: an array (keys "1", "2"... and byPosition true) or an object; absent is empty.
func simpleValues(raw json.RawMessage) (map[string]any, bool, bool) {
	raw = bytes.TrimSpace(raw)
	out := map[string]any{}
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return out, false, true
	}
	switch raw[0] {
	case '[':
		var l []json.RawMessage
		if json.Unmarshal(raw, &l) != nil {
			return nil, false, false
		}
		for i, v := range l {
			s, ok := scalar(v)
			if !ok {
				return nil, false, false
			}
			out[strconv.Itoa(i+1)] = s
		}
		return out, true, true
	case '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return nil, false, false
		}
		for k, v := range m {
			s, ok := scalar(v)
			if !ok {
				return nil, false, false
			}
			out[k] = s
		}
		return out, false, true
	}
	return nil, false, false
}

// scalar reads a string, number or boolean as the text of a parameter.
func scalar(raw json.RawMessage) (any, bool) {
	raw = bytes.TrimSpace(raw)
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	if len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9' || raw[0] == 't' || raw[0] == 'f') {
		var v any
		if json.Unmarshal(raw, &v) == nil {
			return strings.TrimSpace(string(raw)), true
		}
	}
	return nil, false
}

// mediaValue reads a media header: a link, a media id or an object ({"link":..} or {"id":..}).
func mediaValue(raw json.RawMessage) (any, bool) {
	raw = bytes.TrimSpace(raw)
	var s string
	if json.Unmarshal(raw, &s) == nil {
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, false
		}
		if strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") {
			return map[string]string{"link": s}, true
		}
		return map[string]string{"id": s}, true
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) == nil && (m["link"] != nil || m["id"] != nil) {
		return m, true
	}
	return nil, false
}

func kindOf(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "none"
	}
	switch raw[0] {
	case '[':
		return "an array"
	case '{':
		return "an object"
	case '"':
		return "a string"
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	}
	return "a number"
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
