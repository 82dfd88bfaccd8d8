package outbound

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

var (
	templateName  = regexp.MustCompile(`^[a-z0-9_]+$`)
	languageCode  = regexp.MustCompile(`^[a-z]{2,3}(_[A-Z]{2})?$`)
	parameterName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	currencyCode  = regexp.MustCompile(`^[A-Z]{3}$`)
	integer       = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)
)

// buttonParameterTypes are the parameter types each template button sub_type takes.
var buttonParameterTypes = map[string][]string{
	"quick_reply": {"payload", "text"},
	"url":         {"text"},
	"copy_code":   {"coupon_code"},
	"flow":        {"action"},
	"catalog":     {"action"},
}

// template checks a template message: its name, language and the parameters of its components.
// Component types, button sub_types and parameter types are compared ignoring case (Meta's documentation
// writes them in lowercase; some SDKs send uppercase); the body keeps them as given.
func (c *checker) template(raw json.RawMessage) {
	o, ok := c.object("template", raw)
	if !ok {
		return
	}
	if name, ok := c.str(o, "name", true, maxTemplateName); ok && !templateName.MatchString(name) {
		c.add(o.at("name"), "%s is not a template name: lowercase letters, digits and underscores, like order_update", quote(name))
	}
	if s, isString := asString(o.m["language"]); isString {
		c.add(o.at("language"), `must be an object like {"code":%s}`, quote(s))
	} else if l, ok := c.child(o, "language", true); ok {
		if code, ok := c.str(l, "code", true, 0); ok && !languageCode.MatchString(code) {
			c.add(l.at("code"), "%s is not a language code like en_US or es", quote(code))
		}
		c.enum(l, "policy", false, false, "deterministic")
	}
	c.str(o, "namespace", false, 0)
	comps, _ := c.list(o, "components", false, false, maxComponents, "component")
	total := 0
	seen := map[string]string{}    // header, body, footer -> path of the first
	indexes := map[string]string{} // button index -> path of the first
	for i, craw := range comps {
		comp, ok := c.object(index(o.at("components"), i), craw)
		if !ok {
			continue
		}
		typ, ok := c.enum(comp, "type", true, true, "header", "body", "footer", "button", "carousel", "limited_time_offer")
		if !ok {
			continue
		}
		switch typ {
		case "carousel", "limited_time_offer":
			continue // passed through unchecked
		case "header", "body", "footer":
			if first, dup := seen[typ]; dup {
				c.add(comp.at("type"), "repeats the %s component of %s; a template has one", typ, first)
				continue
			}
			seen[typ] = comp.path
		}
		params, _ := c.list(comp, "parameters", false, false, maxItems, "parameter")
		total += len(params)
		switch typ {
		case "header":
			if len(params) > 1 {
				c.add(comp.at("parameters"), "has %d parameters; a header takes one", len(params))
				continue
			}
			c.parameters(comp, params, maxHeaderParamText, "text", "image", "video", "document", "location")
		case "body":
			c.parameters(comp, params, maxParamText, "text", "currency", "date_time")
		case "footer":
			if len(params) > 0 {
				c.add(comp.at("parameters"), "must be left out: a footer has no parameters")
			}
		case "button":
			c.templateButton(comp, params, indexes)
		}
	}
	if total > maxParams {
		c.add(o.at("components"), "has %d parameters in all; the limit is %d", total, maxParams)
	}
}

// templateButton checks a button component: sub_type, index and its one parameter.
func (c *checker) templateButton(comp obj, params []json.RawMessage, indexes map[string]string) {
	sub, subOK := c.enum(comp, "sub_type", true, true, "quick_reply", "url", "copy_code", "flow", "catalog")
	if idx, ok := c.buttonIndex(comp); ok {
		if first, dup := indexes[idx]; dup {
			c.add(comp.at("index"), "repeats index %s of %s; each button has its own index", idx, first)
		} else {
			indexes[idx] = comp.at("index")
		}
	}
	if len(params) > 1 {
		c.add(comp.at("parameters"), "has %d parameters; a button takes one", len(params))
		return
	}
	if subOK {
		c.parameters(comp, params, maxParamText, buttonParameterTypes[sub]...)
	}
}

// buttonIndex returns a button's 0-based position, "0" to "9", given as a string (as Meta documents) or a
// number (as some SDKs send).
func (c *checker) buttonIndex(comp obj) (string, bool) {
	if !comp.has("index") {
		c.add(comp.at("index"), `is required: the button's position, "0" to "9"`)
		return "", false
	}
	raw := bytes.TrimSpace(comp.m["index"])
	s, isString := asString(raw)
	if !isString {
		s = string(raw)
	}
	if len(s) == 1 && s[0] >= '0' && s[0] <= '9' {
		return s, true
	}
	if isString {
		s = quote(s)
	} else {
		s = shorten(s)
	}
	c.add(comp.at("index"), `must be the button's position, "0" to "9", not %s`, s)
	return "", false
}

// parameters checks the parameters of one component: each of one of the allowed types, and either all
// named (parameter_name) or none.
func (c *checker) parameters(comp obj, params []json.RawMessage, textMax int, allowed ...string) {
	named := 0
	names := map[string]string{}
	for i, praw := range params {
		p, ok := c.object(index(comp.at("parameters"), i), praw)
		if !ok {
			continue
		}
		if p.has("parameter_name") {
			named++
			if n, ok := c.str(p, "parameter_name", true, 0); ok {
				if !parameterName.MatchString(n) {
					c.add(p.at("parameter_name"), "%s is not a parameter name: lowercase letters, digits and underscores, not starting with a digit, like first_name", quote(n))
				} else if first, dup := names[n]; dup {
					c.add(p.at("parameter_name"), "repeats %s; each parameter has its own name", first)
				} else {
					names[n] = p.at("parameter_name")
				}
			}
		}
		typ, ok := c.enum(p, "type", true, true, allowed...)
		if !ok {
			continue
		}
		c.parameter(p, typ, textMax)
	}
	if named > 0 && named < len(params) {
		c.add(comp.at("parameters"), "mixes named and positional parameters: give parameter_name on every parameter or on none")
	}
}

// parameter checks the value of one template parameter of type typ.
func (c *checker) parameter(p obj, typ string, textMax int) {
	switch typ {
	case "text":
		if s, ok := c.str(p, "text", true, textMax); ok {
			c.parameterText(p.at("text"), s)
		}
	case "currency":
		cur, ok := c.child(p, "currency", true)
		if !ok {
			return
		}
		c.str(cur, "fallback_value", true, 0)
		if code, ok := c.str(cur, "code", true, 0); ok && !currencyCode.MatchString(code) {
			c.add(cur.at("code"), "%s is not an ISO 4217 currency code like USD or EUR", quote(code))
		}
		c.amount(cur, "amount_1000")
	case "date_time":
		if dt, ok := c.child(p, "date_time", true); ok {
			c.str(dt, "fallback_value", true, 0)
		}
	case "image", "video", "document":
		if m, ok := c.child(p, typ, true); ok {
			c.mediaSource(m, false)
			if typ == "document" {
				c.str(m, "filename", false, maxFilename)
			}
		}
	case "location":
		if l, ok := c.child(p, "location", true); ok {
			c.location(l)
		}
	case "payload":
		c.str(p, "payload", true, 0)
	case "coupon_code":
		c.str(p, "coupon_code", true, 0)
	case "action":
		c.child(p, "action", true)
	}
}

// parameterText applies WhatsApp's rule for template text parameters: no newline, no tab and no more than
// four consecutive spaces (the Cloud API refuses them with error 132018).
func (c *checker) parameterText(field, s string) {
	switch {
	case strings.ContainsAny(s, "\n\r\t"):
		c.add(field, "must not contain a newline or a tab: WhatsApp refuses them in template parameters")
	case strings.Contains(s, "     "):
		c.add(field, "has more than 4 consecutive spaces: WhatsApp refuses them in template parameters")
	}
}

// amount checks o[key], an integer: the amount in the currency's unit times 1000.
func (c *checker) amount(o obj, key string) {
	if !o.has(key) {
		c.add(o.at(key), "is required: the amount times 1000, like 12500 for 12.50")
		return
	}
	raw := string(bytes.TrimSpace(o.m[key]))
	if !integer.MatchString(raw) {
		got := kind(json.RawMessage(raw))
		if got == "a number" {
			got = shorten(raw)
		}
		c.add(o.at(key), "must be an integer: the amount times 1000, like 12500 for 12.50, not %s", got)
		return
	}
	if _, err := strconv.ParseInt(raw, 10, 64); err != nil {
		c.add(o.at(key), "is out of range")
	}
}
