// Package webhook parses provider webhook bodies into wa.Webhook values and checks their signatures.
//
// Two body shapes exist: the Cloud shape (object/entry[]/changes[]/value) sent by Meta's Cloud API and by
// 360dialog's waba-v2 front, and the On-Premise shape (contacts/messages/statuses/errors at the root) sent by
// 360dialog's legacy API. Parse detects which one it was given.
//
// The parser is deliberately lenient, like the providers themselves: missing metadata, contacts or change
// fields, timestamps and ids given as strings or numbers, unknown message types and statuses are all accepted.
// Only a body that is not JSON, or whose envelope (entry[] / changes[]) has the wrong JSON types, is rejected;
// one odd message or status never fails the rest of the batch. Whatever is not understood is kept as raw JSON
// so that nothing is silently dropped.
package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/wagate/wagate/internal/wa"
)

// ErrMalformed is wrapped by Parse when the body is empty, is not valid JSON, or has a Cloud envelope whose
// entry[] or changes[] have the wrong JSON types.
var ErrMalformed = errors.New("webhook: malformed body")

// ErrUnrecognized is wrapped by Parse when the body is valid JSON but is not a JSON object, or is an object
// that has neither the Cloud keys (entry) nor the On-Premise keys (messages, statuses, contacts, errors).
var ErrUnrecognized = errors.New("webhook: unrecognized body shape")

// fieldMessages is the Cloud change field that carries inbound messages, statuses and errors; changes without
// a field are treated as this one, and On-Premise bodies are reported as this one.
const fieldMessages = "messages"

// Parse decodes a webhook body of either shape.
//
// Well-formed bodies of the common kinds are decoded by a fast path (see fast.go) that gives exactly the result
// of the lenient parser described here; every other body goes to the lenient parser.
//
// The returned error wraps ErrMalformed or ErrUnrecognized; when it is nil, Webhook.Shape is set. The body is
// not retained: all raw JSON in the result is copied (on the fast path, into one copy of the body that the raw
// values share).
//
// Contract for the content of each wa.Change:
//   - Field is the Cloud change field, "messages" when absent or empty, and "messages" for On-Premise bodies.
//   - Messages, Statuses and Errors are only decoded for the "messages" field. Every array element becomes one
//     item, even when it is not a JSON object or its fields have unexpected types (then only what could be
//     read is set, and Raw holds the element as sent).
//   - Receipt.Status is the provider's status string unchanged, wa.Status(s), including values wagate does
//     not know (call statuses, future statuses); callers decide with wa.ParseStatus or Status.Valid.
//   - Fields starting with "message_template_" or "template_" fill Templates with one update.
//   - Any other field keeps its value in Unhandled. Unhandled is also set to the whole value (the whole body
//     for On-Premise) when a list it should hold (contacts, messages, statuses, errors) is not an array, or
//     when the value itself is not an object, so that nothing is lost.
//   - Contacts and the metadata (phone number id, display number) are read for every field; contacts that
//     are not objects are skipped.
//   - An inbound message's FromUserID is from_user_id, else the user_id of the contact whose wa_id is from;
//     for a message without from (a user who hides the number) it is the user_id of the only contact that has
//     a user_id but no wa_id, or else of the only contact that has a user_id; "" when that is ambiguous.
func Parse(body []byte) (wa.Webhook, error) {
	if w, ok := parseFast(body); ok {
		return w, nil
	}
	return parseLenient(body)
}

// parseLenient is Parse without the fast path: it decodes each level into a map of raw values and reads every
// field on its own. It is the reference the fast path (fast.go) is tested against, and handles every body the
// fast path declines, including all malformed ones.
func parseLenient(body []byte) (wa.Webhook, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return wa.Webhook{}, fmt.Errorf("%w: empty body", ErrMalformed)
	}
	if !json.Valid(body) {
		// Unmarshal only for a description of the syntax error (with its offset); a RawMessage target makes
		// encoding/json validate without building anything.
		err := json.Unmarshal(body, new(json.RawMessage))
		if err == nil {
			err = errors.New("invalid JSON")
		}
		return wa.Webhook{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	root := object(body)
	if root == nil {
		return wa.Webhook{}, fmt.Errorf("%w: body is not a JSON object", ErrUnrecognized)
	}
	if _, ok := root["entry"]; ok {
		return parseCloud(root)
	}
	for _, k := range []string{"messages", "statuses", "contacts", "errors"} {
		if _, ok := root[k]; ok {
			c := parseValue(fieldMessages, root, bytes.Clone(body))
			return wa.Webhook{Shape: wa.ShapeOnPremise, Changes: []wa.Change{c}}, nil
		}
	}
	return wa.Webhook{}, fmt.Errorf("%w: object has neither entry nor messages, statuses, contacts or errors",
		ErrUnrecognized)
}

// parseCloud decodes object/entry[]/changes[]/value. It does not check object's value: Meta always sends
// "whatsapp_business_account", but some relays omit the key.
func parseCloud(root map[string]json.RawMessage) (wa.Webhook, error) {
	entries, ok := array(root["entry"])
	if !ok {
		return wa.Webhook{}, fmt.Errorf("%w: entry is not an array", ErrMalformed)
	}
	w := wa.Webhook{Shape: wa.ShapeCloud}
	for i, rawEntry := range entries {
		entry := object(rawEntry)
		if entry == nil {
			return wa.Webhook{}, fmt.Errorf("%w: entry[%d] is not an object", ErrMalformed, i)
		}
		changes, ok := array(entry["changes"])
		if !ok {
			return wa.Webhook{}, fmt.Errorf("%w: entry[%d].changes is not an array", ErrMalformed, i)
		}
		wabaID := str(entry["id"])
		for j, rawChange := range changes {
			change := object(rawChange)
			if change == nil {
				return wa.Webhook{}, fmt.Errorf("%w: entry[%d].changes[%d] is not an object", ErrMalformed, i, j)
			}
			field := str(change["field"])
			if field == "" {
				field = fieldMessages
			}
			c := wa.Change{Field: field}
			if raw := present(change["value"]); raw != nil {
				if v := object(raw); v != nil {
					c = parseValue(field, v, raw)
				} else {
					// A value that is not an object cannot be read; keep it for whoever looks at Unhandled.
					c.Unhandled = raw
				}
			}
			c.WABAID = wabaID
			w.Changes = append(w.Changes, c)
		}
	}
	return w, nil
}

// isTemplateField reports whether a Cloud change field is a template lifecycle event:
// message_template_status_update, message_template_quality_update, message_template_components_update,
// template_category_update, and whatever Meta adds under the same prefixes.
func isTemplateField(field string) bool {
	return strings.HasPrefix(field, "message_template_") || strings.HasPrefix(field, "template_")
}

// parseValue decodes the content of one change: a Cloud change value, or the root of an On-Premise body. v is
// raw decoded one level deep; raw (exact bytes, already a private copy) goes to Unhandled or TemplateUpdate.Raw.
func parseValue(field string, v map[string]json.RawMessage, raw json.RawMessage) wa.Change {
	c := wa.Change{Field: field}
	if md := object(v["metadata"]); md != nil {
		c.PhoneNumberID = str(md["phone_number_id"])
		c.DisplayPhoneNumber = str(md["display_phone_number"])
	}
	contacts, understood := array(v["contacts"])
	for _, rc := range contacts {
		if ct, ok := parseContact(rc); ok {
			c.Contacts = append(c.Contacts, ct)
		}
	}
	switch {
	case field == fieldMessages:
		msgs, ok1 := array(v["messages"])
		for _, rm := range msgs {
			c.Messages = append(c.Messages, parseMessage(rm, c.Contacts))
		}
		sts, ok2 := array(v["statuses"])
		for _, rs := range sts {
			c.Statuses = append(c.Statuses, parseReceipt(rs))
		}
		var ok3 bool
		c.Errors, ok3 = parseErrors(v["errors"])
		understood = understood && ok1 && ok2 && ok3
	case isTemplateField(field):
		c.Templates = []wa.TemplateUpdate{parseTemplate(v, raw)}
	default:
		understood = false
	}
	if !understood {
		c.Unhandled = raw
	}
	return c
}

// parseTemplate decodes a template lifecycle value. message_template_id may be a number or a string. Category
// falls back to new_category, where template_category_update carries it.
func parseTemplate(v map[string]json.RawMessage, raw json.RawMessage) wa.TemplateUpdate {
	t := wa.TemplateUpdate{
		Event:      str(v["event"]),
		TemplateID: str(v["message_template_id"]),
		Name:       str(v["message_template_name"]),
		Language:   str(v["message_template_language"]),
		Category:   str(v["message_template_category"]),
		Reason:     str(v["reason"]),
		Raw:        raw,
	}
	if t.Category == "" {
		t.Category = str(v["new_category"])
	}
	return t
}
