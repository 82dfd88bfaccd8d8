package outbound

import (
	"encoding/json"
	"slices"
)

// interactiveTypes are the interactive message types wagate checks and sends.
var interactiveTypes = []string{"button", "list", "cta_url", "flow"}

// unsupportedInteractive are interactive types the Cloud API has that wagate does not send (yet).
var unsupportedInteractive = []string{
	"product", "product_list", "catalog_message", "carousel", "location_request_message",
	"address_message", "voice_call", "call_permission_request",
}

// interactive checks an interactive message: reply buttons, a list, a call-to-action URL button or a flow.
func (c *checker) interactive(raw json.RawMessage) {
	o, ok := c.object("interactive", raw)
	if !ok {
		return
	}
	typ, ok := c.str(o, "type", true, 0)
	if !ok {
		return
	}
	if !slices.Contains(interactiveTypes, typ) {
		if slices.Contains(unsupportedInteractive, typ) {
			c.add(o.at("type"), "%s interactive messages are not supported by wagate yet; use button, list, cta_url or flow", quote(typ))
		} else {
			c.add(o.at("type"), "is %s; use one of button, list, cta_url, flow", quote(typ))
		}
		return
	}
	if h, ok := c.child(o, "header", false); ok {
		c.interactiveHeader(h, typ)
	}
	if b, ok := c.child(o, "body", true); ok {
		c.str(b, "text", true, maxInteractiveBody)
	}
	if f, ok := c.child(o, "footer", false); ok {
		c.str(f, "text", true, maxHeaderFooter)
	}
	a, ok := c.child(o, "action", true)
	if !ok {
		return
	}
	switch typ {
	case "button":
		c.replyButtons(a)
	case "list":
		c.listAction(a)
	case "cta_url":
		c.ctaURL(a)
	case "flow":
		c.flow(a)
	}
}

// interactiveHeader checks a header: text (at most 60 characters) or a media object by id or link. Lists take
// only a text header.
func (c *checker) interactiveHeader(h obj, typ string) {
	allowed := []string{"text", "image", "video", "document"}
	if typ == "list" {
		allowed = []string{"text"}
	}
	ht, ok := c.enum(h, "type", true, false, allowed...)
	if !ok {
		return
	}
	if ht == "text" {
		c.str(h, "text", true, maxHeaderFooter)
		return
	}
	if m, ok := c.child(h, ht, true); ok {
		c.mediaSource(m, false)
	}
}

func (c *checker) replyButtons(a obj) {
	items, _ := c.list(a, "buttons", true, true, maxButtons, "button")
	ids := map[string]string{}
	for i, it := range items {
		b, ok := c.object(index(a.at("buttons"), i), it)
		if !ok {
			continue
		}
		c.enum(b, "type", true, false, "reply")
		r, ok := c.child(b, "reply", true)
		if !ok {
			continue
		}
		if id, ok := c.str(r, "id", true, maxButtonID); ok {
			if first, dup := ids[id]; dup {
				c.add(r.at("id"), "repeats %s; each button needs its own id", first)
			} else {
				ids[id] = r.at("id")
			}
		}
		c.str(r, "title", true, maxButtonTitle)
	}
}

func (c *checker) listAction(a obj) {
	c.str(a, "button", true, maxListButton)
	sections, _ := c.list(a, "sections", true, true, maxSections, "section")
	rows := 0
	ids := map[string]string{}
	for i, sraw := range sections {
		s, ok := c.object(index(a.at("sections"), i), sraw)
		if !ok {
			continue
		}
		if len(sections) > 1 && !s.has("title") {
			c.add(s.at("title"), "is required when the list has more than one section")
		} else {
			c.str(s, "title", len(sections) > 1, maxSectionTitle)
		}
		rs, _ := c.list(s, "rows", true, true, maxRows, "row")
		rows += len(rs)
		for j, rraw := range rs {
			r, ok := c.object(index(s.at("rows"), j), rraw)
			if !ok {
				continue
			}
			if id, ok := c.str(r, "id", true, maxRowID); ok {
				if first, dup := ids[id]; dup {
					c.add(r.at("id"), "repeats %s; each row needs its own id", first)
				} else {
					ids[id] = r.at("id")
				}
			}
			c.str(r, "title", true, maxRowTitle)
			c.str(r, "description", false, maxRowDescription)
		}
	}
	if rows > maxRows {
		c.add(a.at("sections"), "has %d rows in all; the limit is %d", rows, maxRows)
	}
}

func (c *checker) ctaURL(a obj) {
	c.enum(a, "name", true, false, "cta_url")
	p, ok := c.child(a, "parameters", true)
	if !ok {
		return
	}
	c.str(p, "display_text", true, maxCTADisplayText)
	if u, ok := c.str(p, "url", true, 0); ok {
		c.link(p.at("url"), u, false)
	}
}

func (c *checker) flow(a obj) {
	c.enum(a, "name", true, false, "flow")
	p, ok := c.child(a, "parameters", true)
	if !ok {
		return
	}
	c.str(p, "flow_message_version", true, 0)
	switch {
	case p.has("flow_id") && p.has("flow_name"):
		c.add(p.at("flow_name"), "must be left out when flow_id is given: name the flow once")
	case p.has("flow_name"):
		c.str(p, "flow_name", true, 0)
	default:
		if !p.has("flow_id") {
			c.add(p.at("flow_id"), "is required (or flow_name)")
		} else {
			c.str(p, "flow_id", true, 0)
		}
	}
	c.str(p, "flow_cta", true, maxFlowCTA)
	c.str(p, "flow_token", false, 0)
	c.enum(p, "flow_action", false, false, "navigate", "data_exchange")
	if pl, ok := c.child(p, "flow_action_payload", false); ok {
		c.str(pl, "screen", false, 0)
		c.child(pl, "data", false)
	}
	c.enum(p, "mode", false, false, "draft", "published")
}
